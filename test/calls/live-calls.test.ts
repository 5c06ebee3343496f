import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../../src/calls/calls.table.js';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { deals } from '../../src/deals/deals.table.js';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { clientNotes } from '../../src/notes/notes.table.js';
import { reminders } from '../../src/reminders/reminders.table.js';
import { FakeAmiServer, scenarioChunks } from '../pbx/fake-ami-server.js';
import { waitFor } from '../pbx/wait.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, eventually, insertUser, startInstance, uniquePrefix, type TestInstance, FAKE_PBX_LOGIN, fakePbxEnv } from '../support/test-runtime.js';

// The whole live path on real PBX traffic: the fake AMI server replays the recorded transcripts
// byte for byte into a running instance; we assert what is stored and what each user's screen
// received over a real WebSocket.

const LINKED = {
  a: '1795348783.2',
  b: '1795348799.6',
  b2: '1795348825.12',
  c: '1795348842.18',
  d: '1795348865.24',
  e: '1795348911.32',
  f: '1795348935.40',
  g: '1795348963.44',
  h: '1795348887.28',
};

let database: TestDatabase;
let fake: FakeAmiServer;
let instance: TestInstance;
let clientId: number;
const people: Record<string, { id: number; token: string }> = {};
const screens: Record<string, Awaited<ReturnType<typeof connectScreen>>> = {};

const callRow = async (linkedid: string) => {
  const rows = await database.db.select().from(calls).where(eq(calls.linkedid, linkedid));
  return rows;
};
const endedRow = (linkedid: string) =>
  eventually(async () => (await callRow(linkedid)).find((r) => r.endedAt !== null) ?? null, `call ${linkedid} stored as ended`);

beforeAll(async () => {
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  const [sales] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'dial', lineTarget: 'Local/200@fake-phones' }).returning();
  await database.db.insert(departmentDids).values(['+74951110001', '+74951110002', '+74951110003'].map((did) => ({ did, departmentId: sales!.id })));
  const staff = { anna: '101', boris: '201', vera: '301', desk200: '200', desk100: '100' };
  for (const [name, extension] of Object.entries(staff)) {
    people[name] = await insertUser(database, { role: 'manager', name, extension, departmentId: sales!.id, presence: 'available' });
  }
  const [client] = await database.db.insert(clients).values({ name: 'ООО Ромашка', company: 'Romashka LLC', ownerId: people.anna!.id, important: true }).returning();
  clientId = client!.id;
  await database.db.insert(clientPhones).values({ clientId, phone: '+79161234567', raw: '8 916 123-45-67' });
  await database.db.insert(deals).values({ clientId, title: 'Pallets, 40 t', status: 'collecting_info', amount: '125000.00' });
  await database.db.insert(clientNotes).values({ clientId, authorId: people.anna!.id, text: 'Prefers calls after 11' });

  instance = await startInstance(
    database,
    {
      ...fakePbxEnv(fake),
      CARD_URL_TEMPLATE: 'https://crm.example.com/order.php?id={client_id}',
    },
    uniquePrefix(),
  );
  await waitFor(() => fake.sessions.length === 1, 'the instance to log in to the fake PBX', 5_000);
  for (const name of Object.keys(staff)) screens[name] = await connectScreen(instance.wsUrl, people[name]!.token);
});

afterAll(async () => {
  for (const s of Object.values(screens)) s.close();
  await instance?.runtime.stop();
  await fake?.close();
  await database?.drop();
});

describe('inbound calls replayed from a real Asterisk', () => {
  it('(a) answered: the owner gets ringing → answered → ended with the client card, and the call is stored', async () => {
    await fake.replay('a_inbound_answered');
    const ended = await screens.anna!.waitFor('call.ended', LINKED.a);
    const ringing = screens.anna!.of('call.ringing', LINKED.a);
    expect(ringing).toHaveLength(1);
    expect(ringing[0]).toMatchObject({
      direction: 'inbound',
      newClient: false,
      client: {
        clientId,
        name: 'ООО Ромашка',
        company: 'Romashka LLC',
        important: true,
        owner: { id: people.anna!.id, name: 'anna' },
        url: `https://crm.example.com/order.php?id=${clientId}`,
        openDeals: [{ title: 'Pallets, 40 t', status: 'collecting_info' }],
        lastNote: { text: 'Prefers calls after 11' },
      },
    });
    const order = screens.anna!.frames.filter((f) => f.linkedid === LINKED.a).map((f) => f.type);
    expect(order).toEqual(['call.ringing', 'call.answered', 'call.ended']);
    expect(ended).toMatchObject({ disposition: 'answered', talkSeconds: 3 });

    const row = await endedRow(LINKED.a);
    expect(row).toMatchObject({
      direction: 'inbound',
      did: '+74951110001',
      externalNumber: '+79161234567',
      clientId,
      ownerId: people.anna!.id,
      answeredById: people.anna!.id,
      finalUserId: people.anna!.id,
      disposition: 'answered',
      talkSeconds: 3,
      hangupCause: 16,
      recordingUniqueid: '1795348783.3',
      recordingFile: '/var/spool/asterisk/monitor/1795348783.3.wav',
    });
    expect(row.rang).toEqual([expect.objectContaining({ extension: '101', userId: people.anna!.id })]);
    // Every call is a touch: the client's lastContactAt follows the call's end (issue 11).
    const touched = await eventually(async () => {
      const [c] = await database.db.select({ lastContactAt: clients.lastContactAt }).from(clients).where(eq(clients.id, clientId));
      return c?.lastContactAt ?? null;
    }, 'the client touched by the call');
    expect(touched.toISOString()).toBe(row.endedAt!.toISOString());
    // Nobody else's screen popped.
    expect(screens.boris!.of('call.ringing', LINKED.a)).toHaveLength(0);
  });

  it('is idempotent: a replay of the same call neither adds a row nor pops again', async () => {
    await fake.replay('a_inbound_answered');
    await fake.replay('a_inbound_answered');
    await instance.runtime.pipeline.drain();
    await new Promise((r) => setTimeout(r, 100));
    await instance.runtime.pipeline.drain();
    expect(await callRow(LINKED.a)).toHaveLength(1);
    expect(screens.anna!.of('call.ringing', LINKED.a)).toHaveLength(1);
  });

  it('(b) nobody answers: each ringing phone is told when it stops, the call is missed, and the owner gets a callback', async () => {
    await fake.replay('b_inbound_noanswer_fallback');
    const row = await endedRow(LINKED.b);
    expect(row).toMatchObject({ disposition: 'missed', answeredById: null, clientId, talkSeconds: 0 });
    expect(row.rang.map((r) => r.extension)).toEqual(['201', '200']);
    await screens.boris!.waitFor('call.ringing_stopped', LINKED.b);
    await screens.desk200!.waitFor('call.ringing', LINKED.b);
    expect(screens.boris!.frames.filter((f) => f.linkedid === LINKED.b).map((f) => f.type)).toEqual(['call.ringing', 'call.ringing_stopped']);
    expect(screens.desk200!.of('call.ringing', LINKED.b)).toHaveLength(1);
    const callbacks = await eventually(
      async () => {
        const rows = await database.db.select().from(reminders).where(and(eq(reminders.kind, 'callback'), eq(reminders.clientId, clientId)));
        return rows.length > 0 ? rows : null;
      },
      'a callback for the missed call',
      5_000,
    );
    expect(callbacks).toHaveLength(1);
    expect(callbacks[0]).toMatchObject({ userId: people.anna!.id, status: 'pending' });
  });

  it('(b2) falls back to the department, which answers', async () => {
    await fake.replay('b2_inbound_noanswer_fallback_answered');
    const row = await endedRow(LINKED.b2);
    expect(row).toMatchObject({ disposition: 'answered', answeredById: people.desk100!.id, talkSeconds: 3 });
    await screens.desk100!.waitFor('call.answered', LINKED.b2);
    await screens.boris!.waitFor('call.ringing_stopped', LINKED.b2);
    expect(screens.boris!.frames.filter((f) => f.linkedid === LINKED.b2).map((f) => f.type)).toEqual(['call.ringing', 'call.ringing_stopped']);
  });

  it('(c) busy owner then unanswered department: missed', async () => {
    await fake.replay('c_inbound_busy');
    expect(await endedRow(LINKED.c)).toMatchObject({ disposition: 'missed', answeredById: null });
  });

  it('(g) the caller hangs up while it rings: abandoned, and the ringing screen is told', async () => {
    await fake.replay('g_caller_hangs_up_while_ringing');
    expect(await endedRow(LINKED.g)).toMatchObject({ disposition: 'abandoned' });
    const stopped = await screens.boris!.waitFor('call.ringing_stopped', LINKED.g);
    expect(stopped.reason).toBe('cancelled');
    expect(screens.boris!.of('call.ringing', LINKED.g)).toHaveLength(1);
  });
});

describe('click-to-call replayed from a real Asterisk', () => {
  it('(e) answered by the customer: outbound, answered, linked to the client', async () => {
    // Talk time of a click-to-call comes from receive times (its Cdr counts from the manager's
    // answer); a fast replay has none, so it is asserted in the tracker's recorded-timing tests.
    await fake.replay('e_click_to_call_answered');
    const row = await endedRow(LINKED.e);
    expect(row).toMatchObject({ direction: 'outbound', disposition: 'answered', externalNumber: '+79161234567', clientId, answeredById: people.anna!.id });
  });

  it('(f) the manager does not pick up: failed, with the reason', async () => {
    await fake.replay('f_click_to_call_manager_noanswer');
    expect(await endedRow(LINKED.f)).toMatchObject({ direction: 'outbound', disposition: 'failed', failureReason: 'manager_no_answer' });
  });
});

describe('the AMI link', () => {
  it('reconnects after the PBX drops the connection and keeps tracking calls', async () => {
    fake.dropConnections();
    await waitFor(() => fake.sessions.length === 1, 'the instance to log in again', 5_000);
    await fake.replay('d_webhook_down');
    expect(await endedRow(LINKED.d)).toMatchObject({ disposition: 'missed' });
  });

  it('a screen that (re)connects while a phone rings gets the pop at once, then its end', async () => {
    // First half of scenario h: up to the department phone 200 ringing; the rest comes later.
    const chunks = scenarioChunks('h_webhook_slow');
    const ringingAt = chunks.findIndex((c) => /Event: DialBegin\r\n[\s\S]*DestChannel: Local\/200@fake-phones/.test(c.bytes.toString('latin1')));
    expect(ringingAt).toBeGreaterThan(0);
    await fake.broadcast(Buffer.concat(chunks.slice(0, ringingAt + 1).map((c) => c.bytes)));
    await screens.desk200!.waitFor('call.ringing', LINKED.h);

    const late = await connectScreen(instance.wsUrl, people.desk200!.token);
    try {
      const pop = await late.waitFor('call.ringing', LINKED.h);
      expect(pop).toMatchObject({ direction: 'inbound', newClient: false });
      await fake.broadcast(Buffer.concat(chunks.slice(ringingAt + 1).map((c) => c.bytes)));
      await late.waitFor('call.ringing_stopped', LINKED.h);
      // Over: a screen connecting now gets nothing for it.
      const after = await connectScreen(instance.wsUrl, people.desk200!.token);
      await after.waitFor('hello');
      await instance.runtime.pipeline.drain();
      expect(after.of('call.ringing', LINKED.h)).toHaveLength(0);
      after.close();
    } finally {
      late.close();
    }
  });
});
