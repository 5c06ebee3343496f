import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { createOriginateRelay } from '../../src/clicktocall/originate-relay.js';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/logger.js';
import { AmiError } from '../../src/pbx/actions.js';
import { FakeAmiServer, scenarioChunks } from '../pbx/fake-ami-server.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, eventually, insertUser, startInstance, uniquePrefix, type TestInstance, FAKE_PBX_LOGIN, fakePbxEnv } from '../support/test-runtime.js';

// Two instances, one PBX: only the leader is logged in to the AMI, yet a click on the other
// instance still rings the phone, and its failure still reaches the user's screen.

let database: TestDatabase;
let fake: FakeAmiServer;
let leader: TestInstance;
let follower: TestInstance;
let anna: { id: number; token: string };
const system = uniquePrefix();

/** A response body, asserted field by field. */
const json = async (res: Response) => (await res.json()) as Record<string, any>;
const env = () => ({ ...fakePbxEnv(fake), PBX_SYSTEM_NAME: system });

beforeAll(async () => {
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  anna = await insertUser(database, { role: 'manager', name: 'anna', extension: '201' });
  const prefix = uniquePrefix();
  leader = await startInstance(database, env(), prefix);
  await eventually(async () => leader.runtime.leader.isLeader() && fake.sessions.length === 1, 'the first instance to lead and log in');
  follower = await startInstance(database, env(), prefix);
});

afterAll(async () => {
  await follower?.runtime.stop();
  await leader?.runtime.stop();
  await fake?.close();
  await database?.drop();
});

describe('click-to-call on the instance without the PBX connection', () => {
  it('is sent by the leader, and the failure reaches a screen on the follower', async () => {
    expect(follower.runtime.leader.isLeader()).toBe(false);
    fake.onAction('Originate', (action) => {
      const recorded = Buffer.concat(scenarioChunks('f3_click_to_call_noanswer_with_channelid', {
        'f3_click_to_call_noanswer_with_channelid-1': action.actionId!,
      }).map((c) => c.bytes)).toString('latin1');
      return fake.broadcast(Buffer.from(recorded.replaceAll('crm-c2c-0005', action.headers.channelid!), 'latin1'));
    });
    const screen = await connectScreen(follower.wsUrl, anna.token);
    try {
      const res = await fetch(`${follower.baseUrl}/api/calls/originate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${anna.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: '+79161234567' }),
      });
      expect(res.status).toBe(202);
      const { callId, linkedid } = await json(res);
      const action = await fake.waitForAction('Originate');
      expect(action.connection).toBe(fake.sessions[0]); // the leader's one session
      expect(action.headers.channelid).toBe(linkedid);
      expect(await screen.waitFor('originate.failed', linkedid)).toMatchObject({ callId, reason: 'manager_no_answer' });
      expect(leader.runtime.tracker.get(linkedid)).toBeDefined();
    } finally {
      screen.close();
    }
  });

  it('(f, no ChannelId in the events) is matched by the ActionID the leader chose', async () => {
    fake.replyToOriginateWith('f_click_to_call_manager_noanswer');
    const screen = await connectScreen(follower.wsUrl, anna.token);
    try {
      const res = await fetch(`${follower.baseUrl}/c2c?number=%2B79161234567&token=${encodeURIComponent(anna.token)}`, { headers: { accept: 'application/json' } });
      expect(res.status).toBe(202);
      const { callId } = await json(res);
      expect(await screen.waitFor('originate.failed')).toMatchObject({ callId, reason: 'manager_no_answer' });
    } finally {
      screen.close();
    }
  });
});

describe('the relay', () => {
  const logger = createLogger('silent');

  it('answers at once when no instance holds the PBX connection', async () => {
    const redis = createRedis(inject('redisUrl'), 'command');
    const relay = createOriginateRelay({ redis, redisUrl: inject('redisUrl'), systemName: uniquePrefix(), keyPrefix: 'sbtest', logger, execute: async () => ({ actionId: 'never' }) });
    try {
      const started = Date.now();
      const err = await relay.send({ fields: {}, expect: { userId: '1', callId: 'c', channelId: 'x' } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AmiError);
      expect((err as AmiError).reason).toBe('down');
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      await relay.close();
      redis.disconnect();
    }
  });

  it('carries the leader\'s AMI error back to the follower, and executes a request once', async () => {
    const redis = createRedis(inject('redisUrl'), 'command');
    const systemName = uniquePrefix();
    let runs = 0;
    const execute = async () => {
      runs++;
      throw new AmiError('down', 'PBX is not connected (AMI down)');
    };
    const a = createOriginateRelay({ redis, redisUrl: inject('redisUrl'), systemName, keyPrefix: 'sbtest', logger, execute });
    const b = createOriginateRelay({ redis, redisUrl: inject('redisUrl'), systemName, keyPrefix: 'sbtest', logger, execute });
    const c = createOriginateRelay({ redis, redisUrl: inject('redisUrl'), systemName, keyPrefix: 'sbtest', logger, execute });
    try {
      // Two instances that both believe they lead (a lock handover): still one Originate.
      await a.setLeader(true);
      await b.setLeader(true);
      const err = await c.send({ fields: {}, expect: { userId: '1', callId: 'c', channelId: 'x' } }).catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: 'down', message: 'PBX is not connected (AMI down)' });
      expect(runs).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
      redis.disconnect();
    }
  });
});
