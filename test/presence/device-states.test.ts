import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/logger.js';
import { createDeviceStates, deviceExtensionReader, mapDeviceState } from '../../src/presence/device-states.js';
import { waitFor } from '../pbx/wait.js';
import { uniquePrefix } from '../support/test-runtime.js';

describe('mapDeviceState', () => {
  it.each([
    ['NOT_INUSE', 'idle'],
    ['INUSE', 'inuse'],
    ['ONHOLD', 'inuse'],
    ['RINGINUSE', 'inuse'],
    ['BUSY', 'busy'],
    ['RINGING', 'ringing'],
    ['UNAVAILABLE', 'unavailable'],
    ['INVALID', 'unavailable'],
    ['UNKNOWN', 'unknown'],
    ['SOMETHING_NEW', 'unknown'],
  ])('%s → %s', (asterisk, ours) => {
    expect(mapDeviceState(asterisk)).toBe(ours);
  });
});

describe('deviceExtensionReader', () => {
  it('reads the extension through the device dial template, whatever the technology', () => {
    const pjsip = deviceExtensionReader('PJSIP/{extension}');
    expect(pjsip('PJSIP/101')).toBe('101');
    expect(pjsip('pjsip/101')).toBe('101');
    expect(pjsip('Local/101@fake-phones')).toBeNull();
    expect(pjsip('Queue:sales_avail')).toBeNull();
    const local = deviceExtensionReader('Local/{extension}@fake-phones');
    expect(local('Local/101@fake-phones')).toBe('101');
    expect(local('Local/101@other')).toBeNull();
    expect(deviceExtensionReader('PJSIP/{extension}/sip:{extension}@10.0.0.1')('PJSIP/102')).toBe('102');
  });
});

describe('createDeviceStates, shared through Redis', () => {
  const logger = createLogger('silent');
  const open: Array<{ close(): Promise<void> }> = [];
  const redis = createRedis(inject('redisUrl'), 'command');
  const make = (systemName: string, now?: () => number) => {
    const s = createDeviceStates({ redis, redisUrl: inject('redisUrl'), systemName, keyPrefix: 'sbtest', deviceDialTemplate: 'PJSIP/{extension}', logger, ...(now && { now }) });
    open.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  afterAll(() => redis.disconnect());

  it('reports a change only when the mapped state changes, and the other instance follows', async () => {
    const system = uniquePrefix();
    const leader = make(system);
    const other = make(system);
    await Promise.all([leader.start(), other.start()]);
    expect(leader.apply('PJSIP/101', 'INUSE')).toEqual({ extension: '101', state: 'inuse', previous: undefined });
    expect(leader.apply('PJSIP/101', 'ONHOLD')).toBeNull();
    expect(leader.apply('PJSIP/trunk-a', 'INUSE')).toEqual({ extension: 'trunk-a', state: 'inuse', previous: undefined });
    expect(leader.apply('Custom:night', 'INUSE')).toBeNull();
    expect(leader.get('101')).toBe('inuse');
    await waitFor(() => other.get('101') === 'inuse', 'the other instance to see 101 in use');
    leader.apply('PJSIP/101', 'NOT_INUSE');
    await waitFor(() => other.get('101') === 'idle', 'the other instance to see 101 idle');

    // An instance started later reads the hash.
    const late = make(system);
    await late.start();
    expect(late.get('101')).toBe('idle');
    expect(late.get('999')).toBeUndefined();
  });

  it('stops trusting a busy state after 4 hours without news, never an idle one', async () => {
    let t = Date.now();
    const s = make(uniquePrefix(), () => t);
    await s.start();
    s.apply('PJSIP/101', 'INUSE');
    s.apply('PJSIP/102', 'NOT_INUSE');
    t += 4 * 3600_000 + 1;
    expect(s.get('101')).toBeUndefined();
    expect(s.get('102')).toBe('idle');
  });
});
