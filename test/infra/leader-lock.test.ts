import { afterEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createLeaderLock } from '../../src/infra/leader-lock.js';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/logger.js';
import { eventually } from '../support/test-runtime.js';

const logger = createLogger('silent');
const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function contender(key: string, ttlMs = 600) {
  const redis = createRedis(inject('redisUrl'), 'blocking');
  const events: string[] = [];
  const lock = createLeaderLock({ redis, key, logger, ttlMs, intervalMs: 100, onAcquired: () => void events.push('acquired'), onLost: () => void events.push('lost') });
  cleanups.push(() => lock.stop(), () => redis.disconnect());
  return { redis, lock, events };
}

describe('leader lock', () => {
  it('lets exactly one of several contenders lead', async () => {
    const key = `test:leader:${Math.random()}`;
    const all = [contender(key), contender(key), contender(key)];
    for (const c of all) c.lock.start();
    await eventually(async () => all.some((c) => c.lock.isLeader()), 'a leader');
    await new Promise((r) => setTimeout(r, 400));
    expect(all.filter((c) => c.lock.isLeader())).toHaveLength(1);
  });

  it('hands over at once on a clean stop', async () => {
    const key = `test:leader:${Math.random()}`;
    const first = contender(key, 60_000);
    first.lock.start();
    await eventually(async () => first.lock.isLeader(), 'first to lead');
    const second = contender(key, 60_000);
    second.lock.start();
    await first.lock.stop();
    // TTL is a minute: only the release can explain a takeover within a second.
    await eventually(async () => second.lock.isLeader(), 'second to take over', 1_000);
    expect(first.events).toEqual(['acquired', 'lost']);
  });

  it('fails over after the TTL when the leader dies without releasing', async () => {
    const key = `test:leader:${Math.random()}`;
    const first = contender(key, 600);
    first.lock.start();
    await eventually(async () => first.lock.isLeader(), 'first to lead');
    const second = contender(key, 600);
    second.lock.start();
    first.redis.disconnect(); // a crash: no release, no renewal
    await eventually(async () => second.lock.isLeader(), 'second to take over after the TTL', 3_000);
    // The dead one noticed it could not renew and stepped down rather than believe it still leads.
    await eventually(async () => !first.lock.isLeader(), 'first to step down', 3_000);
  });
});
