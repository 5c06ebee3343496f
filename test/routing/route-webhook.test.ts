import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { bearer, createTestApp, createUser, TEST_PBX_TOKEN, type TestApp } from '../support/test-app.js';
import { parseLikeAsterisk } from '../support/asterisk-hash.js';

// The contract with the dialplan, end to end: HTTP → PostgreSQL → decision → hash body parsed
// the way Asterisk's CURL() hashcompat=yes parses it.

let t: TestApp;
let director: { id: number; token: string };
let anna: { id: number; token: string };
let boris: { id: number; token: string };
let salesId: number;
let clientId: number;

const SALES_DID = '+74951110001';
const RECEPTION_DID = '+74951110002';

// The tests write clients and departments straight into the database, as an import or another
// service would; /pbx/route reads memory only, so each question first waits for the directory
// to have read back what was committed before it (the freshness bound, made exact).
async function ask(params: Record<string, string>, headers: Record<string, string> = { 'x-switchboard-token': TEST_PBX_TOKEN }) {
  await t.directory.barrier();
  const qs = Object.entries({ format: 'hash', ...params })
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
    .join('&');
  return t.app.inject({ method: 'GET', url: `/pbx/route?${qs}`, headers });
}

async function route(params: Record<string, string>) {
  const res = await ask(params);
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return parseLikeAsterisk(res.body);
}

async function setPresence(userId: number, presence: string) {
  const res = await t.app.inject({ method: 'PUT', url: `/api/users/${userId}/presence`, headers: bearer(director.token), payload: { presence } });
  expect(res.statusCode).toBe(200);
}

beforeAll(async () => {
  t = await createTestApp({ DEFAULT_DEPARTMENT: 'Reception', MOBILE_DIAL_TEMPLATE: 'PJSIP/{number}@trunk' });
  const db = t.database.db;
  const [sales] = await db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'sales', voicemailBox: '600@default' }).returning();
  const [reception] = await db.insert(departments).values({ name: 'Reception', lineKind: 'dial', lineTarget: 'PJSIP/500', voicemailBox: '500@default' }).returning();
  salesId = sales!.id;
  await db.insert(departmentDids).values([
    { did: SALES_DID, departmentId: sales!.id },
    { did: RECEPTION_DID, departmentId: reception!.id },
  ]);
  director = await createUser(t, { role: 'director' });
  anna = await createUser(t, { role: 'manager', departmentId: salesId, extension: '101', mobile: '+79031112233', presence: 'available', absentRule: 'mobile' });
  boris = await createUser(t, { role: 'manager', departmentId: salesId, extension: '102', presence: 'available', absentRule: 'department' });
  const [client] = await db.insert(clients).values({ name: 'ООО "Ромашка", Иван', ownerId: anna.id, lastActivityAt: new Date() }).returning();
  clientId = client!.id;
  await db.insert(clientPhones).values({ clientId, phone: '+79161234567', raw: '8 (916) 123-45-67' });
});

afterAll(() => t?.close());

describe('GET /pbx/route: a known client', () => {
  it.each(['89161234567', '+79161234567', '79161234567', '9161234567', '8 (916) 123-45-67'])(
    'caller %s rings the owner’s device',
    async (caller) => {
      const answer = await route({ caller, did: '74951110001', uniqueid: '1700000000.1', linkedid: '1700000000.1', step: '1' });
      expect(answer).toMatchObject({ action: 'dial', dial: 'PJSIP/101', timeout: '20', reason: 'owner', client_id: String(clientId), manager_id: String(anna.id), step: '1' });
      expect(answer.client_name).toBe('ООО "Ромашка", Иван');
    },
  );

  it('walks the chain step by step: owner → mobile → department queue → voicemail → hangup', async () => {
    const call = { caller: '79161234567', did: '74951110001', uniqueid: '1700000001.5', linkedid: '1700000001.5' };
    const s1 = await route({ ...call, step: '1', last_status: '' });
    const s2 = await route({ ...call, step: '2', last_status: 'NOANSWER' });
    const s3 = await route({ ...call, step: '3', last_status: 'NOANSWER' });
    const s4 = await route({ ...call, step: '4', last_status: 'TIMEOUT' });
    const s5 = await route({ ...call, step: '5', last_status: '' });
    expect([s1.reason, s2.reason, s3.reason, s4.reason, s5.reason]).toEqual(['owner', 'owner_mobile', 'department', 'voicemail', 'steps_exhausted']);
    expect(s2).toMatchObject({ action: 'dial', dial: 'PJSIP/79031112233@trunk', timeout: '25' });
    expect(s3).toMatchObject({ action: 'queue', queue: 'sales', timeout: '30' });
    expect(s4.action).toBe('voicemail');
    expect(s4.mailbox).toMatch(/@default$/);
    expect(s5.action).toBe('hangup');
    expect(s5.call_id).toBe('1700000001.5');
  });

  it('skips an owner who is away without ringing them', async () => {
    await setPresence(anna.id, 'away');
    try {
      const answer = await route({ caller: '79161234567', did: '74951110001', uniqueid: '1700000002.1', linkedid: '1700000002.1', step: '1' });
      expect(answer).toMatchObject({ action: 'dial', reason: 'owner_mobile', dial: 'PJSIP/79031112233@trunk' });
    } finally {
      await setPresence(anna.id, 'available');
    }
  });

  it('sends an absent owner with rule "department" to the department line at once', async () => {
    const db = t.database.db;
    const [c] = await db.insert(clients).values({ name: 'Boris client', ownerId: boris.id }).returning();
    await db.insert(clientPhones).values({ clientId: c!.id, phone: '+79160000002', raw: '+79160000002' });
    await setPresence(boris.id, 'dnd');
    const answer = await route({ caller: '+79160000002', did: '74951110001', uniqueid: '1700000003.1', linkedid: '1700000003.1', step: '1' });
    expect(answer).toMatchObject({ action: 'queue', queue: 'sales', reason: 'department', manager_id: String(boris.id) });
  });

  it('gives a shared number to the owner of the most recently active client and says it was a tie', async () => {
    const db = t.database.db;
    const [older] = await db.insert(clients).values({ name: 'Old', ownerId: anna.id, lastActivityAt: new Date('2026-01-01') }).returning();
    const [newer] = await db.insert(clients).values({ name: 'New', ownerId: boris.id, lastActivityAt: new Date('2026-06-01') }).returning();
    await setPresence(boris.id, 'available');
    await db.insert(clientPhones).values([
      { clientId: older!.id, phone: '+79165550000', raw: 'x' },
      { clientId: newer!.id, phone: '+79165550000', raw: 'x' },
    ]);
    const res = await ask({ caller: '89165550000', did: '74951110001', linkedid: 'tie-1', uniqueid: 'tie-1', step: '1', format: 'json' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ reason: 'owner', client_id: String(newer!.id), manager_id: String(boris.id), dial: 'PJSIP/102' });
    const trace = await waitForTrace('tie-1');
    // The trace reads back the plan and the answer the dialplan got (stored as text, migration 0025).
    expect(trace.steps[0].candidates[0]).toEqual({ target: 'owner', userId: boris.id, chosen: true });
    expect(trace.steps[0].answer).toEqual(res.json());
    expect(trace.steps[0].tie).toBe(true);
    expect(trace.steps[0].tieClients).toEqual([
      { clientId: newer!.id, ownerId: boris.id, ownerActive: true, lastActivityAt: '2026-06-01T00:00:00.000Z', chosen: true },
      { clientId: older!.id, ownerId: anna.id, ownerActive: true, lastActivityAt: '2026-01-01T00:00:00.000Z' },
    ]);
  });

  it('never gives a tie to a deactivated owner, and keeps the tie in the trace', async () => {
    const db = t.database.db;
    const gone = await createUser(t, { role: 'manager', departmentId: salesId, extension: '103', presence: 'available' });
    const [leaver] = await db.insert(clients).values({ name: 'Leaver', ownerId: gone.id, lastActivityAt: new Date('2026-07-01') }).returning();
    const [kept] = await db.insert(clients).values({ name: 'Kept', ownerId: anna.id, lastActivityAt: null }).returning();
    await db.insert(clientPhones).values([
      { clientId: leaver!.id, phone: '+79165551111', raw: 'x' },
      { clientId: kept!.id, phone: '+79165551111', raw: 'x' },
    ]);
    const res = await t.app.inject({ method: 'PATCH', url: `/api/users/${gone.id}`, headers: bearer(director.token), payload: { active: false } });
    expect(res.statusCode, res.body).toBe(200);
    const answer = await route({ caller: '+79165551111', did: SALES_DID, linkedid: 'tie-2', uniqueid: 'tie-2', step: '1' });
    expect(answer).toMatchObject({ reason: 'owner', client_id: String(kept!.id), manager_id: String(anna.id), dial: 'PJSIP/101' });
    const trace = await waitForTrace('tie-2');
    expect(trace.steps[0]).toMatchObject({ tie: true, clientId: kept!.id });
    expect(trace.steps[0].tieClients).toEqual([
      { clientId: kept!.id, ownerId: anna.id, ownerActive: true, lastActivityAt: null, chosen: true },
      { clientId: leaver!.id, ownerId: gone.id, ownerActive: false, lastActivityAt: '2026-07-01T00:00:00.000Z' },
    ]);
  });
});

describe('GET /pbx/route: unknown callers and departments', () => {
  it('sends an unknown caller to the department of the dialled number', async () => {
    const answer = await route({ caller: '+74990000000', did: '+7 495 111-00-01', uniqueid: 'u1', linkedid: 'u1', step: '1' });
    expect(answer).toMatchObject({ action: 'queue', queue: 'sales', reason: 'unknown_caller', client_id: '', manager_id: '' });
  });

  it('sends a call to an unknown DID to DEFAULT_DEPARTMENT', async () => {
    const answer = await route({ caller: '+74990000000', did: '74950000000', uniqueid: 'u2', linkedid: 'u2', step: '1' });
    expect(answer).toMatchObject({ action: 'dial', dial: 'PJSIP/500', reason: 'unknown_caller' });
  });

  it('treats an anonymous or garbage caller ID as unknown', async () => {
    const answer = await route({ caller: 'anonymous', did: '74951110002', uniqueid: 'u3', linkedid: 'u3', step: '1' });
    expect(answer).toMatchObject({ action: 'dial', dial: 'PJSIP/500', reason: 'unknown_caller' });
  });

  it('sends callers to voicemail outside business hours', async () => {
    const db = t.database.db;
    const closed = { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] };
    const [night] = await db.insert(departments).values({ name: 'Night', lineKind: 'dial', lineTarget: 'PJSIP/700', voicemailBox: '700@default', businessHours: closed, timeZone: 'Europe/Moscow' }).returning();
    await db.insert(departmentDids).values({ did: '+74951110007', departmentId: night!.id });
    const answer = await route({ caller: '+74990000001', did: '74951110007', uniqueid: 'u4', linkedid: 'u4', step: '1' });
    expect(answer).toMatchObject({ action: 'voicemail', mailbox: '700@default', reason: 'after_hours' });
  });
});

describe('GET /pbx/route: what the PBX may send', () => {
  it('refuses a missing token with 401 and a wrong one with 403, and accepts ?token=', async () => {
    expect((await ask({ caller: '1' }, {})).statusCode).toBe(401);
    expect((await ask({ caller: '1' }, { 'x-switchboard-token': 'nope' })).statusCode).toBe(403);
    expect((await ask({ caller: '79161234567', did: '74951110001', token: TEST_PBX_TOKEN }, {})).statusCode).toBe(200);
  });

  it('answers garbage parameters with a safe 200, never a 4xx/5xx', async () => {
    const urls = [
      '/pbx/route?format=hash',
      '/pbx/route?format=hash&step=abc&caller=%00%0d%0a&did=<script>',
      '/pbx/route?format=hash&step=-5&step=7&caller=1&caller=2',
      '/pbx/route?format=hash&last_status=noanswer&step=99999999999999999999',
      `/pbx/route?format=hash&caller=${'9'.repeat(5000)}`,
    ];
    for (const url of urls) {
      const res = await t.app.inject({ method: 'GET', url, headers: { 'x-switchboard-token': TEST_PBX_TOKEN } });
      expect(res.statusCode, url).toBe(200);
      const answer = parseLikeAsterisk(res.body);
      expect(['dial', 'queue', 'voicemail', 'hangup'], url).toContain(answer.action);
      expect(answer.dial ?? '', url).not.toMatch(/[,\s]/);
    }
  });

  it('keeps the answer parseable by Asterisk: every key present, no "+" for spaces', async () => {
    const res = await ask({ caller: '79161234567', did: '74951110001', linkedid: 'k1', uniqueid: 'k1', step: '1' });
    expect(res.body).not.toContain('+');
    expect(Object.keys(parseLikeAsterisk(res.body))).toEqual(['action', 'dial', 'timeout', 'queue', 'mailbox', 'step', 'reason', 'client_id', 'client_name', 'manager_id', 'call_id', 'tried']);
  });
});

describe('GET /api/calls/:linkedid/route-trace', () => {
  it('shows every step with inputs, candidates, reason and latency to a director', async () => {
    const call = { caller: '79161234567', did: '74951110001', uniqueid: 'tr-1', linkedid: 'tr-1' };
    await route({ ...call, step: '1' });
    await route({ ...call, step: '2', last_status: 'BUSY' });
    const trace = await waitForTrace('tr-1', 2);
    expect(trace.steps.map((s: { step: number; reason: string; lastStatus: string }) => [s.step, s.reason, s.lastStatus])).toEqual([
      [1, 'owner', ''],
      [2, 'owner_mobile', 'BUSY'],
    ]);
    expect(trace.steps[0]).toMatchObject({ caller: '+79161234567', did: '+74951110001', clientId, managerId: anna.id });
    expect(trace.steps[0].latencyMs).toBeGreaterThan(0);
  });

  it('has every step of a call asked for right after its last step (the README walk-through)', async () => {
    const call = { caller: '79161234567', did: '74951110001', uniqueid: 'tr-now', linkedid: 'tr-now' };
    await route({ ...call, step: '1' });
    await route({ ...call, step: '2', last_status: 'NOANSWER' });
    // No waiting: decisions are queued for up to 50 ms, and this instance must still show them.
    const res = await t.app.inject({ method: 'GET', url: '/api/calls/tr-now/route-trace', headers: bearer(director.token) });
    expect(res.statusCode).toBe(200);
    expect(res.json().steps.map((s: { step: number; reason: string }) => [s.step, s.reason])).toEqual([
      [1, 'owner'],
      [2, 'owner_mobile'],
    ]);
  });

  it('hides the trace from a manager the call was not routed to', async () => {
    await waitForTrace('tr-1', 2);
    const res = await t.app.inject({ method: 'GET', url: '/api/calls/tr-1/route-trace', headers: bearer(boris.token) });
    expect(res.statusCode).toBe(404);
    const own = await t.app.inject({ method: 'GET', url: '/api/calls/tr-1/route-trace', headers: bearer(anna.token) });
    expect(own.statusCode).toBe(200);
  });
});

async function waitForTrace(linkedid: string, steps = 1) {
  return vi.waitFor(
    async () => {
      const res = await t.app.inject({ method: 'GET', url: `/api/calls/${linkedid}/route-trace`, headers: bearer(director.token) });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.steps.length).toBeGreaterThanOrEqual(steps);
      return body;
    },
    { timeout: 3000, interval: 30 },
  );
}
