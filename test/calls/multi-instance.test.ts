import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../../src/calls/calls.table.js';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { FakeAmiServer } from '../pbx/fake-ami-server.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, eventually, insertUser, startInstance, uniquePrefix, type TestInstance, FAKE_PBX_LOGIN, fakePbxEnv } from '../support/test-runtime.js';

// Two instances, one PBX: exactly one consumes the AMI stream, a browser connected to the
// other still gets its pops through Redis, and when the consumer stops the other takes over.

let database: TestDatabase;
let fake: FakeAmiServer;
let a: TestInstance;
let b: TestInstance;
let anna: { id: number; token: string };
let boris: { id: number; token: string };

const env = () => fakePbxEnv(fake);

beforeAll(async () => {
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  anna = await insertUser(database, { role: 'manager', name: 'anna', extension: '101' });
  boris = await insertUser(database, { role: 'manager', name: 'boris', extension: '201' });
  const [client] = await database.db.insert(clients).values({ name: 'Romashka', ownerId: anna.id }).returning();
  await database.db.insert(clientPhones).values({ clientId: client!.id, phone: '+79161234567', raw: '79161234567' });
  const prefix = uniquePrefix();
  a = await startInstance(database, env(), prefix);
  await eventually(async () => a.runtime.leader.isLeader() && fake.sessions.length === 1, 'instance A to lead and log in');
  b = await startInstance(database, env(), prefix);
});

afterAll(async () => {
  await a?.runtime.stop().catch(() => {});
  await b?.runtime.stop();
  await fake?.close();
  await database?.drop();
});

describe('two instances against one PBX', () => {
  it('only the leader consumes the AMI stream', async () => {
    await new Promise((r) => setTimeout(r, 300)); // several lock attempts by B
    expect(a.runtime.leader.isLeader()).toBe(true);
    expect(b.runtime.leader.isLeader()).toBe(false);
    expect(fake.sessions).toHaveLength(1);
  });

  it('pops on a browser connected to the other instance', async () => {
    const screen = await connectScreen(b.wsUrl, anna.token);
    try {
      await fake.replay('a_inbound_answered');
      const ringing = await screen.waitFor('call.ringing', '1795348783.2');
      expect(ringing).toMatchObject({ client: { name: 'Romashka' } });
      await screen.waitFor('call.ended', '1795348783.2');
      expect(screen.of('call.ringing', '1795348783.2')).toHaveLength(1); // not once per instance
      expect(a.runtime.tracker.get('1795348783.2')).toBeDefined();
      expect(b.runtime.tracker.get('1795348783.2')).toBeUndefined();
    } finally {
      screen.close();
    }
  });

  it('fails over: when the leader stops, the other instance connects and tracks the next call', async () => {
    await a.runtime.stop();
    await eventually(async () => b.runtime.leader.isLeader() && fake.sessions.length === 1, 'instance B to take over and log in', 8_000);
    const screen = await connectScreen(b.wsUrl, boris.token);
    try {
      await fake.replay('b_inbound_noanswer_fallback');
      await screen.waitFor('call.ringing', '1795348799.6');
      const [row] = await eventually(async () => {
        const rows = await database.db.select().from(calls).where(eq(calls.linkedid, '1795348799.6'));
        return rows[0]?.endedAt ? rows : null;
      }, 'the call stored by B');
      expect(row).toMatchObject({ disposition: 'missed' });
    } finally {
      screen.close();
    }
  });
});
