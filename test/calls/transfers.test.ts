import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../../src/calls/calls.table.js';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { toAmiEvent, type AmiEvent } from '../../src/pbx/events.js';
import { FakeAmiServer, scenarioChunks } from '../pbx/fake-ami-server.js';
import { waitFor } from '../pbx/wait.js';
import { readScenario } from './transcripts.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, eventually, FAKE_PBX_LOGIN, fakePbxEnv, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// The five recorded transfers (transcripts README, "Transfers") replayed byte for byte into a
// running instance: what is stored, what GET /api/calls/:id returns, and what each agent's
// screen receives over a real WebSocket. DID 74951110004 routes to manager 401; the client is
// owned by someone else (olga), so owner, first answerer and final agent are three people.

const LINKED = {
  i: '1796213408.0',
  i2: '1796213431.4',
  j: '1796213456.10',
  j2: '1796213484.16',
  j3: '1796213789.76',
};

let database: TestDatabase;
let fake: FakeAmiServer;
let instance: TestInstance;
let clientId: number;
const people: Record<string, { id: number; token: string }> = {};
const screens: Record<string, Awaited<ReturnType<typeof connectScreen>>> = {};

const rowsOf = (linkedid: string) => database.db.select().from(calls).where(eq(calls.linkedid, linkedid));
const endedRow = (linkedid: string) =>
  eventually(async () => (await rowsOf(linkedid)).find((r) => r.endedAt !== null) ?? null, `call ${linkedid} stored as ended`);
const typesOn = (screen: string, linkedid: string) => screens[screen]!.frames.filter((f) => f.linkedid === linkedid).map((f) => f.type);

async function apiCall(linkedid: string) {
  const res = await instance.runtime.app.inject({
    method: 'GET', url: `/api/calls/${linkedid}`, headers: { authorization: `Bearer ${people.director!.token}` },
  });
  expect(res.statusCode).toBe(200);
  return res.json();
}

beforeAll(async () => {
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  const [sales] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'dial', lineTarget: 'Local/200@fake-phones' }).returning();
  await database.db.insert(departmentDids).values({ did: '+74951110004', departmentId: sales!.id });
  const staff = { m401: '401', m102: '102', m103: '103', olga: '500' };
  for (const [name, extension] of Object.entries(staff)) {
    people[name] = await insertUser(database, { role: 'manager', name, extension, departmentId: sales!.id, presence: 'available' });
  }
  people.director = await insertUser(database, { role: 'director', name: 'director' });
  const [client] = await database.db.insert(clients).values({ name: 'ООО Ромашка', ownerId: people.olga!.id }).returning();
  clientId = client!.id;
  await database.db.insert(clientPhones).values({ clientId, phone: '+79161234567', raw: '8 916 123-45-67' });

  instance = await startInstance(database, fakePbxEnv(fake), uniquePrefix());
  await waitFor(() => fake.sessions.length === 1, 'the instance to log in to the fake PBX', 5_000);
  for (const name of Object.keys(staff)) screens[name] = await connectScreen(instance.wsUrl, people[name]!.token);
});

afterAll(async () => {
  for (const s of Object.values(screens)) s.close();
  await instance?.runtime.stop();
  await fake?.close();
  await database?.drop();
});

const transfer = (kind: string, from: string, to: string) => ({
  kind, from, fromUserId: people[`m${from}`]!.id, to, toUserId: people[`m${to}`]!.id, at: expect.any(String),
});

describe('blind transfers replayed from a real Asterisk', () => {
  it.each([
    ['i', 'i_inbound_blind_transfer'],
    ['i2', 'i2_inbound_blind_transfer_via_dial'],
  ] as const)('(%s) 401 → 102: one row with owner, answerer and final agent apart, the transfer stored and served', async (key, scenario) => {
    const linkedid = LINKED[key];
    await fake.replay(scenario);
    const row = await endedRow(linkedid);
    expect(row).toMatchObject({
      direction: 'inbound', disposition: 'answered', clientId, ownerId: people.olga!.id,
      answeredById: people.m401!.id, finalUserId: people.m102!.id,
      recordingUniqueid: `${linkedid.split('.')[0]}.${Number(linkedid.split('.')[1]) + 1}`,
    });
    expect(row.transfers).toEqual([transfer('blind', '401', '102')]);
    expect(row.rang.map((r) => r.extension)).toEqual(['401', '102']);
    expect(await rowsOf(linkedid)).toHaveLength(1);

    const body = await apiCall(linkedid);
    expect(body).toMatchObject({ answeredById: people.m401!.id, finalUserId: people.m102!.id, ownerId: people.olga!.id });
    expect(body.transfers).toEqual([transfer('blind', '401', '102')]);

    // The pop moves: 102 gets the card, 401 is told where the caller went and hears no more of it.
    await screens.m102!.waitFor('call.ended', linkedid);
    const pop = screens.m102!.of('call.ringing', linkedid);
    expect(pop).toHaveLength(1);
    expect(pop[0]).toMatchObject({ newClient: false, client: { clientId, owner: { id: people.olga!.id } } });
    expect(typesOn('m102', linkedid)).toEqual(['call.transferred', 'call.ringing', 'call.answered', 'call.ended']);
    expect(typesOn('m401', linkedid)).toEqual(['call.ringing', 'call.answered', 'call.transferred']);
    expect(screens.m401!.of('call.transferred', linkedid)[0]).toMatchObject({
      linkedid, callId: expect.any(Number), kind: 'blind',
      from: { extension: '401', id: people.m401!.id, name: 'm401' }, to: { extension: '102', id: people.m102!.id, name: 'm102' },
    });
    expect(screens.olga!.frames.filter((f) => f.linkedid === linkedid)).toEqual([]);
  });
});

describe('a blind transfer whose target does not pick up (i2, with 102\'s DialEnd turned into NOANSWER)', () => {
  it('closes the card on 102\'s screen; 401 stays the final agent', async () => {
    // The recorded events, through the pipeline's AMI handler: a new Linkedid (the recorded
    // one is replayed above), 102 does not answer, so no bridge with 102 and no Cdrs.
    const linkedid = 'noanswer-1796213431.4';
    const relinked = (e: AmiEvent): AmiEvent => Object.fromEntries(Object.entries(e).map(([k, v]) =>
      [k, /linkedid$/i.test(k) && v === LINKED.i2 ? linkedid : v])) as unknown as AmiEvent;
    const events = readScenario('i2_inbound_blind_transfer_via_dial')
      .filter(({ event: e }) => e.event !== 'Cdr' && !(e.event === 'BridgeEnter' && e.channel.startsWith('Local/102@')))
      .map(({ event: e }) => relinked(e.event === 'DialEnd' && e.destChannel.startsWith('Local/102@') ? { ...e, dialStatus: 'NOANSWER' } : e));
    for (const e of events) instance.runtime.pipeline.handle(e);
    const row = await endedRow(linkedid);
    expect(row).toMatchObject({ answeredById: people.m401!.id, finalUserId: people.m401!.id, disposition: 'answered' });
    expect(row.transfers).toEqual([transfer('blind', '401', '102')]);
    await screens.m102!.waitFor('call.ringing_stopped', linkedid);
    expect(typesOn('m102', linkedid)).toEqual(['call.transferred', 'call.ringing', 'call.ringing_stopped']);
    expect(screens.m102!.of('call.ringing_stopped', linkedid)[0]).toMatchObject({ reason: 'no_answer' });
  });
});

describe('an attended transfer whose consultation is a call of its own (not recorded: a phone dialling the target itself)', () => {
  it('folds the consultation into the transferred call: its row goes, the target keeps the card of the real call', async () => {
    const L1 = 'own-1700000000.1';
    const L2 = 'own-1700000010.1';
    const chan = (name: string, id: string, linkedid: string, context: string, exten: string) => ({ name, id, linkedid, context, exten });
    const caller = chan('PJSIP/trunk-0000aa00', L1, L1, 'from-pstn', '74951110004');
    const m401 = chan('Local/401@fake-phones-0000aa01;1', 'own-1700000000.2', L1, 'fake-phones', '401');
    const m401b = chan('Local/401@fake-phones-0000aa03;1', L2, L2, 'fake-phones', '103');
    const m103 = chan('Local/103@fake-phones-0000aa04;1', 'own-1700000010.2', L2, 'fake-phones', '103');
    type C = typeof caller;
    const snap = (c: C, prefix = '') => ({
      [`${prefix}Channel`]: c.name, [`${prefix}Uniqueid`]: c.id, [`${prefix}Linkedid`]: c.linkedid, [`${prefix}Context`]: c.context,
      [`${prefix}Exten`]: c.exten, [`${prefix}CallerIDNum`]: c === caller ? '79161234567' : c.exten, [`${prefix}ChannelStateDesc`]: 'Up',
    });
    const ev = (raw: Record<string, string>) => toAmiEvent(raw)!;
    const dial = (from: C, to: C, Event: string, extra: Record<string, string>) => ev({ Event, ...snap(from), ...snap(to, 'Dest'), ...extra });
    const bridge = (c: C, Event: string, b: string) => ev({ Event, ...snap(c), BridgeUniqueid: b, BridgeNumChannels: '1' });
    const hangup = (c: C) => ev({ Event: 'Hangup', ...snap(c), Cause: '16', 'Cause-txt': 'Normal Clearing' });
    const feed = (events: AmiEvent[]) => { for (const e of events) instance.runtime.pipeline.handle(e); };

    feed([
      ev({ Event: 'Newchannel', ...snap(caller) }),
      dial(caller, m401, 'DialBegin', { DialString: '401' }), dial(caller, m401, 'DialEnd', { DialStatus: 'ANSWER' }),
      bridge(m401, 'BridgeEnter', 'own-br-1'), bridge(caller, 'BridgeEnter', 'own-br-1'),
      ev({ Event: 'Newchannel', ...snap(m401b) }),
      dial(m401b, m103, 'DialBegin', { DialString: '103' }), dial(m401b, m103, 'DialEnd', { DialStatus: 'ANSWER' }),
      bridge(m103, 'BridgeEnter', 'own-br-2'), bridge(m401b, 'BridgeEnter', 'own-br-2'),
    ]);
    // The consultation is stored as an internal call until the transfer says what it was.
    await eventually(async () => (await rowsOf(L2)).length === 1, 'the consultation stored while it lasts');
    await screens.m103!.waitFor('call.answered', L2);
    feed([
      ev({
        Event: 'AttendedTransfer', Result: 'Success', ...snap(m401, 'OrigTransferer'), OrigBridgeUniqueid: 'own-br-1',
        ...snap(m401b, 'SecondTransferer'), SecondBridgeUniqueid: 'own-br-2', ...snap(caller, 'Transferee'),
        ...snap(m103, 'TransferTarget'), DestType: 'Bridge', DestBridgeUniqueid: 'own-br-1', IsExternal: 'No',
      }),
      bridge(m401, 'BridgeLeave', 'own-br-1'), hangup(m401), bridge(m401b, 'BridgeLeave', 'own-br-2'), hangup(m401b),
      bridge(m103, 'BridgeLeave', 'own-br-2'), bridge(m103, 'BridgeEnter', 'own-br-1'),
      bridge(caller, 'BridgeLeave', 'own-br-1'), hangup(caller), bridge(m103, 'BridgeLeave', 'own-br-1'), hangup(m103),
    ]);
    const row = await endedRow(L1);
    expect(row).toMatchObject({ answeredById: people.m401!.id, finalUserId: people.m103!.id, clientId });
    expect(row.transfers).toEqual([transfer('attended', '401', '103')]);
    await screens.m103!.waitFor('call.merged', L2);
    await instance.runtime.pipeline.drain();
    expect(await rowsOf(L2)).toEqual([]);
    expect(screens.m103!.of('call.merged', L2)[0]).toMatchObject({ into: L1 });
    expect(typesOn('m103', L2)).toEqual(['call.ringing', 'call.answered', 'call.merged']);
    expect(typesOn('m103', L1)).toEqual(['call.transferred', 'call.answered', 'call.ended']);
    expect(screens.m103!.of('call.answered', L1)[0]).toMatchObject({ client: { clientId } });
  });
});

describe('attended transfers replayed from a real Asterisk', () => {
  it.each([
    ['j', 'j_inbound_attended_transfer'],
    ['j2', 'j2_inbound_attended_transfer_dtmf_complete'],
    ['j3', 'j3_inbound_attended_transfer_no_target_fields'],
  ] as const)('(%s) 401 → 103: the consultation is no second call and no second transfer', async (key, scenario) => {
    const linkedid = LINKED[key];
    // Up to the AttendedTransfer event, then screens that (re)connect now, then the rest.
    const chunks = scenarioChunks(scenario);
    const xfer = chunks.findIndex((c) => c.bytes.toString('latin1').startsWith('Event: AttendedTransfer\r\n'));
    expect(xfer).toBeGreaterThan(0);
    await fake.broadcast(Buffer.concat(chunks.slice(0, xfer + 1).map((c) => c.bytes)));
    await screens.m401!.waitFor('call.transferred', linkedid);
    await instance.runtime.pipeline.drain();
    const late401 = await connectScreen(instance.wsUrl, people.m401!.token);
    const late103 = await connectScreen(instance.wsUrl, people.m103!.token);
    try {
      // 103 has the call in progress; 401's card is not replayed (pong comes after any replay).
      expect(await late103.waitFor('call.answered', linkedid)).toMatchObject({ answeredBy: { id: people.m103!.id }, client: { clientId } });
      await late401.waitFor('hello');
      late401.socket.send(JSON.stringify({ type: 'ping' }));
      await late401.waitFor('pong');
      expect(late401.frames.filter((f) => f.linkedid === linkedid)).toEqual([]);
    } finally {
      late401.close();
      late103.close();
    }
    await fake.broadcast(Buffer.concat(chunks.slice(xfer + 1).map((c) => c.bytes)));

    const row = await endedRow(linkedid);
    expect(row).toMatchObject({
      disposition: 'answered', clientId, ownerId: people.olga!.id, answeredById: people.m401!.id, finalUserId: people.m103!.id,
    });
    expect(row.transfers).toEqual([transfer('attended', '401', '103')]);
    expect(row.rang.map((r) => r.extension)).toEqual(['401', '103']);
    expect(await rowsOf(linkedid)).toHaveLength(1);
    expect((await apiCall(linkedid)).transfers).toEqual([transfer('attended', '401', '103')]);

    // 103's phone rang for the consultation: the card is there from then on.
    await screens.m103!.waitFor('call.ended', linkedid);
    expect(typesOn('m103', linkedid)).toEqual(['call.ringing', 'call.transferred', 'call.answered', 'call.ended']);
    expect(screens.m103!.of('call.ringing', linkedid)[0]).toMatchObject({ client: { clientId } });
    expect(typesOn('m401', linkedid)).toEqual(['call.ringing', 'call.answered', 'call.transferred']);
    expect(screens.m401!.of('call.transferred', linkedid)[0]).toMatchObject({
      kind: 'attended', from: { extension: '401', id: people.m401!.id }, to: { extension: '103', id: people.m103!.id },
    });
  });

  it('stores one row per call, none for a consultation leg', async () => {
    await instance.runtime.pipeline.drain();
    const rows = await database.db.select({ linkedid: calls.linkedid }).from(calls);
    for (const r of rows) expect([...Object.values(LINKED), 'noanswer-1796213431.4', 'own-1700000000.1']).toContain(r.linkedid);
    expect(new Set(rows.map((r) => r.linkedid)).size).toBe(rows.length);
    expect(await database.db.select().from(calls).where(inArray(calls.linkedid, ['1796213461.14', '1796213461.15']))).toEqual([]);
  });
});
