import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../../src/calls/calls.table.js';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { serializeAmi } from '../../src/pbx/ami-frame.js';
import { reminders } from '../../src/reminders/reminders.table.js';
import { FakeAmiServer, scenarioChunks } from '../pbx/fake-ami-server.js';
import { waitFor } from '../pbx/wait.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, eventually, FAKE_PBX_LOGIN, fakePbxEnv, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// Issue 17: an answered call back to whoever we missed closes their callback, whether it was
// placed by click-to-call or dialled from the desk phone, through a running instance.

const ROMASHKA_PHONE = '+79161234567';
/** Nobody's number: the missed call from it goes to the department list. */
const STRANGER_PHONE = '+79035550011';
const LINKED = { b: '1795348799.6', c: '1795348842.18', d: '1795348865.24', e: '1795348911.32' };

let database: TestDatabase;
let fake: FakeAmiServer;
let instance: TestInstance;
let salesId: number;
let romashka: number;
const people: Record<string, { id: number; token: string }> = {};
const screens: Record<string, Awaited<ReturnType<typeof connectScreen>>> = {};

const endedCall = (linkedid: string) =>
  eventually(async () => {
    const [row] = await database.db.select().from(calls).where(eq(calls.linkedid, linkedid));
    return row?.endedAt ? row : null;
  }, `call ${linkedid} stored as ended`);

const callbacksOf = (clientId: number) =>
  database.db.select().from(reminders).where(and(eq(reminders.kind, 'callback'), eq(reminders.clientId, clientId))).orderBy(reminders.id);

/** The open callback the missed call `callId` created (each test's own, whatever an earlier one left). */
const openCallbackFor = (callId: number) =>
  eventually(async () => {
    const [row] = await database.db.select().from(reminders).where(and(eq(reminders.kind, 'callback'), eq(reminders.callId, callId)));
    return row?.status === 'pending' ? row : null;
  }, `an open callback for call ${callId}`);

const doneCallback = (id: number) =>
  eventually(async () => {
    const [row] = await database.db.select().from(reminders).where(eq(reminders.id, id));
    return row?.status === 'done' ? row : null;
  }, `callback ${id} done`);

const closedFrame = (screen: string, id: number) =>
  eventually(async () => screens[screen]!.frames.find((f) => f.type === 'reminder.closed' && f.id === id) ?? null, `reminder.closed ${id} on ${screen}'s screen`);

/**
 * The AMI events of a call dialled by hand from a desk phone; there is no recording of one, so it
 * is written after e_click_to_call_answered with what an Originate adds taken out: the phone's own
 * channel is the first one (Uniqueid = Linkedid), already in the outbound context with the
 * customer's digits as Exten, and dials the customer leg. No Originate, no OriginateResponse.
 */
function phoneDialledCall(opts: { linkedid: string; extension: string; digits: string; seq: string }): string {
  const [epoch, n] = opts.linkedid.split('.') as [string, string];
  const phone = { Channel: `Local/${opts.extension}@fake-phones-${opts.seq}0;1`, Uniqueid: opts.linkedid };
  const far1 = { Channel: `Local/${opts.digits}@fake-phones-${opts.seq}1;1`, Uniqueid: `${epoch}.${Number(n) + 1}` };
  const far2 = { Channel: `Local/${opts.digits}@fake-phones-${opts.seq}1;2`, Uniqueid: `${epoch}.${Number(n) + 2}` };
  const bridge = `bridge-${opts.linkedid}`;
  const snap = (leg: typeof phone, state: 'Down' | 'Ring' | 'Ringing' | 'Up', context: string, exten: string, priority = '1') => ({
    Channel: leg.Channel,
    ChannelState: { Down: '0', Ring: '4', Ringing: '5', Up: '6' }[state],
    ChannelStateDesc: state,
    CallerIDNum: leg === phone ? opts.extension : opts.digits,
    CallerIDName: '<unknown>',
    ConnectedLineNum: leg === phone ? opts.digits : opts.extension,
    ConnectedLineName: '<unknown>',
    Language: 'en',
    AccountCode: '',
    Context: context,
    Exten: exten,
    Priority: priority,
    Uniqueid: leg.Uniqueid,
    Linkedid: opts.linkedid,
  });
  const dest = (state: 'Down' | 'Ringing' | 'Up') =>
    Object.fromEntries(Object.entries(snap(far1, state, 'fake-phones', opts.digits)).map(([k, v]) => [`Dest${k}`, v]));
  const out = (state: 'Ring' | 'Up', priority = '2') => snap(phone, state, 'switchboard-outbound', opts.digits, priority);
  const bridgeFields = { BridgeUniqueid: bridge, BridgeType: 'basic', BridgeTechnology: 'simple_bridge', BridgeCreator: '<unknown>', BridgeName: '<unknown>', BridgeVideoSourceMode: 'none' };
  const events: Array<Record<string, string>> = [
    { Event: 'Newchannel', Privilege: 'call,all', ...out('Ring', '1') },
    { Event: 'Newexten', Privilege: 'dialplan,all', ...out('Ring', '1'), Extension: opts.digits, Application: 'MixMonitor', AppData: `/var/spool/asterisk/monitor/${opts.linkedid}.wav` },
    { Event: 'Newexten', Privilege: 'dialplan,all', ...out('Ring'), Extension: opts.digits, Application: 'Dial', AppData: `Local/${opts.digits}@fake-phones,30` },
    { Event: 'Newchannel', Privilege: 'call,all', ...snap(far1, 'Down', 'fake-phones', opts.digits) },
    { Event: 'Newchannel', Privilege: 'call,all', ...snap(far2, 'Ring', 'fake-phones', opts.digits) },
    { Event: 'DialBegin', Privilege: 'call,all', ...out('Ring'), ...dest('Down'), DialString: `${opts.digits}@fake-phones` },
    { Event: 'Newstate', Privilege: 'call,all', ...snap(far1, 'Ringing', 'fake-phones', opts.digits) },
    { Event: 'DialState', Privilege: 'call,all', ...out('Ring'), ...dest('Ringing'), DialStatus: 'RINGING' },
    { Event: 'Newstate', Privilege: 'call,all', ...snap(far2, 'Up', 'fake-phones', '167', '4') },
    { Event: 'Newstate', Privilege: 'call,all', ...snap(far1, 'Up', 'fake-phones', opts.digits) },
    { Event: 'Newstate', Privilege: 'call,all', ...out('Up') },
    { Event: 'DialEnd', Privilege: 'call,all', ...out('Up'), ...dest('Up'), DialStatus: 'ANSWER' },
    { Event: 'BridgeCreate', Privilege: 'call,all', ...bridgeFields, BridgeNumChannels: '0' },
    { Event: 'BridgeEnter', Privilege: 'call,all', ...bridgeFields, BridgeNumChannels: '1', ...snap(far1, 'Up', 'fake-phones', opts.digits) },
    { Event: 'BridgeEnter', Privilege: 'call,all', ...bridgeFields, BridgeNumChannels: '2', ...out('Up') },
    // The manager hangs up first.
    { Event: 'HangupRequest', Privilege: 'call,all', ...out('Up'), Cause: '16' },
    { Event: 'BridgeLeave', Privilege: 'call,all', ...bridgeFields, BridgeNumChannels: '1', ...out('Up') },
    { Event: 'BridgeLeave', Privilege: 'call,all', ...bridgeFields, BridgeNumChannels: '0', ...snap(far1, 'Up', 'fake-phones', opts.digits) },
    { Event: 'BridgeDestroy', Privilege: 'call,all', ...bridgeFields, BridgeNumChannels: '0' },
    { Event: 'Hangup', Privilege: 'call,all', ...snap(far1, 'Up', 'fake-phones', opts.digits), Cause: '16', 'Cause-txt': 'Normal Clearing' },
    { Event: 'Hangup', Privilege: 'call,all', ...snap(phone, 'Up', 'switchboard-outbound', 'h', '1'), Cause: '16', 'Cause-txt': 'Normal Clearing' },
    { Event: 'Hangup', Privilege: 'call,all', ...snap(far2, 'Up', 'fake-phones', '167', '5'), Cause: '16', 'Cause-txt': 'Normal Clearing' },
    {
      Event: 'Cdr', Privilege: 'cdr,all', AccountCode: '', Source: opts.extension, Destination: opts.digits, DestinationContext: 'switchboard-outbound',
      CallerID: `"" <${opts.extension}>`, Channel: phone.Channel, DestinationChannel: far1.Channel, LastApplication: 'Dial',
      LastData: `Local/${opts.digits}@fake-phones,30`, StartTime: '2026-11-22 12:10:00', AnswerTime: '2026-11-22 12:10:02',
      EndTime: '2026-11-22 12:10:09', Duration: '9', BillableSeconds: '7', Disposition: 'ANSWERED', AMAFlags: 'DOCUMENTATION',
      UniqueID: phone.Uniqueid, UserField: '',
    },
  ];
  return events.map((e) => serializeAmi(e)).join('');
}

beforeAll(async () => {
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  const [sales] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'dial', lineTarget: 'Local/200@fake-phones' }).returning();
  salesId = sales!.id;
  await database.db.insert(departmentDids).values(['+74951110001', '+74951110002', '+74951110003'].map((did) => ({ did, departmentId: salesId })));
  people.anna = await insertUser(database, { role: 'manager', name: 'anna', extension: '101', departmentId: salesId, presence: 'available' });
  // The department list's reader: an unknown number's callback reaches her, not anna.
  people.olga = await insertUser(database, { role: 'curator', name: 'olga', departmentId: salesId });
  const [client] = await database.db.insert(clients).values({ name: 'ООО Ромашка', ownerId: people.anna.id }).returning();
  romashka = client!.id;
  await database.db.insert(clientPhones).values({ clientId: romashka, phone: ROMASHKA_PHONE, raw: '8 916 123-45-67' });

  instance = await startInstance(database, fakePbxEnv(fake), uniquePrefix());
  await waitFor(() => instance.runtime.leader.isLeader() && instance.runtime.ami.status() === 'connected', 'the instance to lead and log in', 5_000);
  for (const name of Object.keys(people)) screens[name] = await connectScreen(instance.wsUrl, people[name]!.token);
});

afterAll(async () => {
  for (const s of Object.values(screens)) s.close();
  await instance?.runtime.stop();
  await fake?.close();
  await database?.drop();
});

describe("a client's missed call", () => {
  it('is closed when the owner calls back by click-to-call', async () => {
    await fake.replay('b_inbound_noanswer_fallback');
    const missed = await endedCall(LINKED.b);
    expect(missed).toMatchObject({ direction: 'inbound', disposition: 'missed', clientId: romashka });
    const callback = await openCallbackFor(missed.id);
    expect(callback).toMatchObject({ clientId: romashka, userId: people.anna!.id, phone: ROMASHKA_PHONE });

    fake.replyToOriginateWith('e_click_to_call_answered');
    const res = await fetch(`${instance.baseUrl}/api/calls/originate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${people.anna!.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: ROMASHKA_PHONE, clientId: romashka }),
    });
    expect(res.status).toBe(202);
    expect(await endedCall(LINKED.e)).toMatchObject({
      direction: 'outbound', disposition: 'answered', clientId: romashka, externalNumber: ROMASHKA_PHONE, initiatedById: people.anna!.id,
    });
    expect(await doneCallback(callback.id)).toMatchObject({ completedAt: expect.any(Date) });
    expect(await closedFrame('anna', callback.id)).toMatchObject({ status: 'done' });
    expect(await callbacksOf(romashka)).toHaveLength(1);
  });

  it('is closed when the owner dials the client from her desk phone', async () => {
    await fake.replay('c_inbound_busy');
    const missed = await endedCall(LINKED.c);
    expect(missed).toMatchObject({ disposition: 'missed', clientId: romashka });
    const callback = await openCallbackFor(missed.id);

    const linkedid = '1795349100.60';
    await fake.broadcast(phoneDialledCall({ linkedid, extension: '101', digits: '79161234567', seq: '000000a' }));
    const row = await endedCall(linkedid);
    expect(row).toMatchObject({
      direction: 'outbound',
      disposition: 'answered',
      externalNumber: ROMASHKA_PHONE,
      clientId: romashka,
      callerNumber: '101',
      // The tracker's reading: her phone is the answering side; initiatedById is only "who clicked".
      answeredById: people.anna!.id,
      finalUserId: people.anna!.id,
      initiatedById: null,
    });
    expect(await doneCallback(callback.id)).toMatchObject({ status: 'done' });
    expect(await closedFrame('anna', callback.id)).toMatchObject({ status: 'done' });
  });
});

it("an unknown number's callback is closed by an answered call dialled to that number", async () => {
  // Scenario d with the caller's number swapped for one on no client's card.
  const chunks = scenarioChunks('d_webhook_down');
  await fake.broadcast(Buffer.from(Buffer.concat(chunks.map((c) => c.bytes)).toString('latin1').replaceAll('79161234567', STRANGER_PHONE.slice(1)), 'latin1'));
  const missed = await endedCall(LINKED.d);
  expect(missed).toMatchObject({ disposition: 'missed', clientId: null, externalNumber: STRANGER_PHONE });
  const callback = await openCallbackFor(missed.id);
  expect(callback).toMatchObject({ clientId: null, phone: STRANGER_PHONE, userId: null, departmentId: salesId });

  const linkedid = '1795349200.70';
  await fake.broadcast(phoneDialledCall({ linkedid, extension: '101', digits: STRANGER_PHONE.slice(1), seq: '000000b' }));
  expect(await endedCall(linkedid)).toMatchObject({ direction: 'outbound', disposition: 'answered', externalNumber: STRANGER_PHONE, clientId: null });
  await doneCallback(callback.id);
  expect(await closedFrame('olga', callback.id)).toMatchObject({ status: 'done' });
  // Anna's own list never had it.
  expect(screens.anna!.frames.some((f) => f.type === 'reminder.closed' && f.id === callback.id)).toBe(false);
});
