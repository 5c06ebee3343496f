import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { calls } from '../../src/calls/calls.table.js';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { FakeAmiServer, scenarioChunks } from '../pbx/fake-ami-server.js';
import { waitFor } from '../pbx/wait.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, eventually, insertUser, startInstance, uniquePrefix, type TestInstance, FAKE_PBX_LOGIN, fakePbxEnv } from '../support/test-runtime.js';

// Click-to-call end to end: HTTP in, the Originate as the (fake) PBX receives it, the PBX's
// recorded answer replayed back, and what the user's screen and the calls table then show.

let database: TestDatabase;
let fake: FakeAmiServer;
let instance: TestInstance;
const people: Record<string, { id: number; token: string }> = {};
let romashka: number;
let lutik: number;

const post = (who: string, body: unknown) =>
  fetch(`${instance.baseUrl}/api/calls/originate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${people[who]!.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
/** A response body, asserted field by field. */
const json = async (res: Response) => (await res.json()) as Record<string, any>;
const originates = () => fake.actions.filter((a) => a.name.toLowerCase() === 'originate');
/** `Variable` headers, joined with ',' by the fake server's parser, as a map. */
const variablesOf = (raw: string | undefined) => Object.fromEntries((raw ?? '').split(',').map((kv) => kv.split('=') as [string, string]));
const queued = () => fake.onAction('Originate', (action, conn) => conn.respond(action, 'Success', { Message: 'Originate successfully queued' }));

beforeAll(async () => {
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  const [sales] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'dial', lineTarget: 'Local/200@fake-phones' }).returning();
  for (const [name, extension] of Object.entries({ anna: '101', boris: '201', dima: '102', vera: undefined })) {
    people[name] = await insertUser(database, { role: 'manager', name, departmentId: sales!.id, ...(extension && { extension }) });
  }
  const [r] = await database.db.insert(clients).values({ name: 'ООО "Ромашка"', ownerId: people.anna!.id }).returning();
  const [l] = await database.db.insert(clients).values({ name: 'Lutik', ownerId: people.boris!.id }).returning();
  romashka = r!.id;
  lutik = l!.id;
  await database.db.insert(clientPhones).values([
    { clientId: romashka, phone: '+79161234567', raw: '8 916 123-45-67' },
    { clientId: lutik, phone: '+79031112233', raw: '+7 903 111 22 33' },
  ]);
  instance = await startInstance(
    database,
    {
      ...fakePbxEnv(fake),
      PBX_SYSTEM_NAME: uniquePrefix(),
      OUTBOUND_DIAL_TEMPLATE: 'PJSIP/{number}@trunk',
      OUTBOUND_CALLER_ID: '74951110000',
      ORIGINATE_TIMEOUT_SECONDS: '15',
    },
    uniquePrefix(),
  );
  await waitFor(() => instance.runtime.leader.isLeader() && instance.runtime.ami.status() === 'connected', 'the instance to lead and log in', 5_000);
});

afterAll(async () => {
  await instance?.runtime.stop();
  await fake?.close();
  await database?.drop();
});

beforeEach(() => {
  queued();
});

describe('POST /api/calls/originate', () => {
  it("rings the user's phone first, then the client, and the answered call is stored as outbound", async () => {
    fake.replyToOriginateWith('e_click_to_call_answered');
    const res = await post('anna', { to: '8 916 123-45-67' });
    expect(res.status).toBe(202);
    const body = await json(res);
    expect(body).toEqual({ callId: expect.any(String), linkedid: expect.stringMatching(/^sb-c2c-[0-9a-f]{16}$/), number: '+79161234567', client: { id: romashka, name: 'ООО "Ромашка"' } });

    const action = await fake.waitForAction('Originate');
    expect(action.headers).toMatchObject({
      channel: 'Local/101@fake-phones',
      context: 'switchboard-outbound',
      exten: '79161234567',
      priority: '1',
      callerid: '"ООО Ромашка" <79161234567>',
      channelid: body.linkedid,
      timeout: '15000',
      async: 'true',
    });
    expect(action.headers).not.toHaveProperty('predialgosub');
    expect(variablesOf(action.headers.variable)).toEqual({
      SWITCHBOARD_CALL_ID: body.callId,
      SWITCHBOARD_USER_ID: String(people.anna!.id),
      SWITCHBOARD_CLIENT_NAME: 'ООО Ромашка',
      SWITCHBOARD_DIAL: 'PJSIP/79161234567@trunk',
      SWITCHBOARD_CALLERID: '74951110000',
    });

    // The recorded call has its own Linkedid (the recording predates our ChannelId); it is
    // matched to the click by the ActionID of its OriginateResponse.
    const row = await eventually(async () => {
      const [r] = await database.db.select().from(calls).where(eq(calls.linkedid, '1795348911.32'));
      return r?.endedAt ? r : null;
    }, 'the replayed click-to-call stored as ended');
    expect(row).toMatchObject({ direction: 'outbound', disposition: 'answered', externalNumber: '+79161234567', clientId: romashka, initiatedById: people.anna!.id });
  });

  it.each([
    ['CR/LF', '+79161234567\r\nAction: Hangup'],
    ['a comma', '+79161234567,1'],
    ['letters', '8916abc4567'],
    ['&', '79161234567&Local/666@x'],
    ['a number too short', '12'],
  ])('refuses %s with 400 before anything reaches the PBX', async (_what, to) => {
    const before = fake.actions.length;
    const res = await post('anna', { to });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ code: 'INVALID_PHONE', message: expect.stringContaining('not a phone number') });
    expect(fake.actions.length).toBe(before);
  });

  it('checks the client: visible to the user (404) and owning the number (400)', async () => {
    const before = originates().length;
    expect((await post('anna', { to: '+79031112233', clientId: lutik })).status).toBe(404);
    const wrong = await post('anna', { to: '+79031112233', clientId: romashka });
    expect(wrong.status).toBe(400);
    expect((await json(wrong)).message).toContain('is not a phone of client');
    expect(originates().length).toBe(before);
  });

  it("does not name another manager's client on the phone", async () => {
    const res = await post('anna', { to: '+79031112233' });
    expect(res.status).toBe(202);
    expect((await json(res)).client).toBeNull();
    expect(originates().at(-1)!.headers.callerid).toBe('79031112233');
  });

  it('needs an extension to ring first', async () => {
    const res = await post('vera', { to: '+79161234567' });
    expect(res.status).toBe(400);
    expect((await json(res)).message).toContain('no phone extension');
  });

  it('answers 503 with a clear message, and sends nothing, while the PBX is down', async () => {
    fake.refusing = true;
    fake.dropConnections();
    await waitFor(() => instance.runtime.ami.status() !== 'connected', 'the AMI link to drop');
    const before = fake.actions.length;
    const res = await post('anna', { to: '+79161234567' });
    expect(res.status).toBe(503);
    expect(await json(res)).toMatchObject({ code: 'PBX_UNAVAILABLE', message: expect.stringMatching(/phone system is not reachable.*not placed/) });
    expect(fake.actions.length).toBe(before);
    fake.refusing = false;
    await waitFor(() => instance.runtime.ami.status() === 'connected', 'the AMI link to come back', 5_000);
  });

  it('limits a user to 10 calls a minute (429 with Retry-After)', async () => {
    for (let i = 0; i < 10; i++) expect((await post('dima', { to: '+79161234567' })).status).toBe(202);
    const res = await post('dima', { to: '+79161234567' });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await json(res)).toMatchObject({ code: 'RATE_LIMITED' });
    expect((await post('anna', { to: '+79161234567' })).status).toBe(202); // per user
  });
});

it('documents both routes in the OpenAPI document', async () => {
  const doc = await json(await fetch(`${instance.baseUrl}/docs/json`));
  expect(doc.paths['/api/calls/originate'].post).toMatchObject({ tags: ['calls'], responses: { 202: expect.anything() } });
  expect(doc.paths['/c2c'].get.responses['202'].content).toHaveProperty('text/html');
});

describe("reminders' autoDial", () => {
  it("calls the client's phone as the reminder's user", async () => {
    const result = await instance.runtime.clickToCall.forReminder(people.anna!.id, romashka, null);
    expect(result).toMatchObject({ number: '+79161234567', client: { id: romashka } });
    const action = originates().at(-1)!;
    expect(action.headers).toMatchObject({ channel: 'Local/101@fake-phones', exten: '79161234567', channelid: result.linkedid });
    // A missed call's number: the client is found by it.
    expect(await instance.runtime.clickToCall.forReminder(people.anna!.id, null, '+79161234567')).toMatchObject({ client: { id: romashka } });
  });
});

describe('the manager does not pick up', () => {
  it('(f) tells the user over the WebSocket, matched by ActionID', async () => {
    const screen = await connectScreen(instance.wsUrl, people.boris!.token);
    try {
      fake.replyToOriginateWith('f_click_to_call_manager_noanswer');
      const res = await post('boris', { to: '+79031112233' });
      const { callId } = await json(res);
      const frame = await screen.waitFor('originate.failed');
      expect(frame).toMatchObject({ callId, reason: 'manager_no_answer' });
    } finally {
      screen.close();
    }
  });

  it('(f3) matched by our ChannelId: the failure and the stored call carry the linkedid we answered', async () => {
    fake.onAction('Originate', (action) => {
      // The recording's own ChannelId and ActionID become the ones this Originate sent.
      const recorded = Buffer.concat(scenarioChunks('f3_click_to_call_noanswer_with_channelid', {
        'f3_click_to_call_noanswer_with_channelid-1': action.actionId!,
      }).map((c) => c.bytes)).toString('latin1');
      return fake.broadcast(Buffer.from(recorded.replaceAll('crm-c2c-0005', action.headers.channelid!), 'latin1'));
    });
    const screen = await connectScreen(instance.wsUrl, people.boris!.token);
    try {
      const res = await post('boris', { to: '+79031112233', clientId: lutik });
      const { callId, linkedid } = await json(res);
      const frame = await screen.waitFor('originate.failed', linkedid);
      expect(frame).toMatchObject({ callId, linkedid, reason: 'manager_no_answer' });
      const row = await eventually(async () => {
        const [r] = await database.db.select().from(calls).where(eq(calls.linkedid, linkedid));
        return r?.endedAt ? r : null;
      }, 'the failed click-to-call stored');
      expect(row).toMatchObject({ direction: 'outbound', disposition: 'failed', failureReason: 'manager_no_answer', initiatedById: people.boris!.id });
    } finally {
      screen.close();
    }
  });
});

describe('GET /c2c (the link form)', () => {
  const get = (query: string, headers: Record<string, string> = {}) => fetch(`${instance.baseUrl}/c2c?${query}`, { headers });
  const token = () => encodeURIComponent(people.anna!.token);

  it('calls and answers a small HTML page that echoes no secret', async () => {
    const before = originates().length;
    const res = await get(`number=${encodeURIComponent('tel:+7-916-123-45-67')}&token=${token()}`);
    expect(res.status).toBe(202);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const html = await res.text();
    expect(html).toContain('Calling +7 916 123 45 67');
    expect(html).toContain('Pick up your phone');
    expect(html).not.toContain(people.anna!.token);
    expect(originates().length).toBe(before + 1);
  });

  it('answers JSON with Accept: application/json, and takes the bearer header', async () => {
    const res = await get('number=%2B79161234567', { accept: 'application/json', authorization: `Bearer ${people.anna!.token}` });
    expect(res.status).toBe(202);
    expect(await json(res)).toMatchObject({ number: '+79161234567', client: { id: romashka } });
  });

  it('explains a bad number in an HTML page, and sends nothing', async () => {
    const before = fake.actions.length;
    const res = await get(`number=${encodeURIComponent('<script>alert(1)</script>')}&token=${token()}`);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('is not a phone number');
    expect(html).not.toContain('<script>');
    expect(fake.actions.length).toBe(before);
  });

  it('does nothing without the token (a third-party page cannot trigger it)', async () => {
    const before = fake.actions.length;
    const res = await get('number=%2B79161234567');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    // The tel: handler's way on: the console, which holds its own session (issue 14).
    expect(await res.text()).toContain('url=/#/call?to=%2B79161234567');
    expect(fake.actions.length).toBe(before);
  });
});
