import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dealStatusChanges } from '../../src/deals/deals.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

type U = { id: number; token: string };
let t: TestApp;
let director: U;
let curator1: U;
let curator2: U;
let manager1: U;
let manager2: U;
let assistant1: U;
let seq = 0;

const department = async (name: string) =>
  (await t.database.db.insert(departments).values({ name, lineKind: 'queue', lineTarget: 'q' }).returning({ id: departments.id }))[0]!.id;

beforeAll(async () => {
  t = await createTestApp();
  const dep1 = await department('Sales');
  const dep2 = await department('Support');
  director = await createUser(t, { role: 'director' });
  curator1 = await createUser(t, { role: 'curator', departmentId: dep1 });
  curator2 = await createUser(t, { role: 'curator', departmentId: dep2 });
  manager1 = await createUser(t, { role: 'manager', departmentId: dep1 });
  manager2 = await createUser(t, { role: 'manager', departmentId: dep2 });
  assistant1 = await createUser(t, { role: 'assistant', departmentId: dep1, managerId: manager1.id });
});
afterAll(() => t.close());

const api = (method: 'GET' | 'POST' | 'PATCH', url: string, token: string, payload?: object) =>
  t.app.inject({ method, url, headers: bearer(token), ...(payload && { payload }) });
const newClient = async (token: string) => {
  const n = ++seq;
  const res = await api('POST', '/api/clients', token, { name: `Client ${n}`, phones: [`+7 916 300 ${String(1000 + n).slice(0, 2)} ${String(1000 + n).slice(2)}`] });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; ownerId: number };
};
const newDeal = async (token: string, fields: Record<string, unknown>) => {
  const res = await api('POST', '/api/deals', token, { title: `Deal ${++seq}`, ...fields });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};

describe('deals', () => {
  it('lists the pipeline with its labels, in order', async () => {
    const res = await api('GET', '/api/deals/statuses', assistant1.token);
    expect(res.statusCode).toBe(200);
    const list = res.json() as Array<{ status: string; stage: string; ru: string }>;
    expect(list.map((s) => s.status)).toEqual([
      'new', 'collecting_info', 'proposal_sent', 'interest', 'contract_approval', 'contract_signed', 'contract_paid', 'in_progress', 'completed',
      'refused_not_needed', 'refused_self', 'refused_price', 'refused_call_back', 'refused_no_money',
    ]);
    expect(list[2]).toEqual({ status: 'proposal_sent', stage: 'open', ru: 'КП отправлено', en: 'Proposal sent' });
  });

  it("opens a deal owned by the client's owner, in RUB, with its first status kept", async () => {
    const client = await newClient(manager1.token);
    // The assistant works the manager's book: the deal is the manager's, not the assistant's.
    const deal = await newDeal(assistant1.token, { clientId: client.id, amount: '125000.50', important: true, source: 'website' });
    expect(deal).toMatchObject({ clientId: client.id, ownerId: manager1.id, currency: 'RUB', amount: '125000.50', status: 'new', important: true, createdById: assistant1.id });
    expect(deal.statusChanges).toEqual([{ fromStatus: null, toStatus: 'new', changedById: assistant1.id, changedAt: deal.createdAt }]);
    // A manager may not hand the deal to somebody else.
    const res = await api('POST', '/api/deals', manager1.token, { clientId: client.id, title: 'x', ownerId: manager2.id });
    expect(res.statusCode).toBe(403);
  });

  it('keeps every status change with who and when, and refuses moves the rules forbid', async () => {
    const client = await newClient(manager1.token);
    const deal = await newDeal(manager1.token, { clientId: client.id });
    const path = ['proposal_sent', 'refused_price', 'interest', 'completed'];
    for (const [i, status] of path.entries()) {
      const who = i % 2 === 0 ? manager1 : assistant1;
      const res = await api('POST', `/api/deals/${deal.id}/status`, who.token, { status });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().status).toBe(status);
    }
    const rows = await t.database.db.select().from(dealStatusChanges).where(eq(dealStatusChanges.dealId, deal.id)).orderBy(dealStatusChanges.id);
    expect(rows.map((r) => [r.fromStatus, r.toStatus, r.changedById])).toEqual([
      [null, 'new', manager1.id],
      ['new', 'proposal_sent', manager1.id],
      ['proposal_sent', 'refused_price', assistant1.id],
      ['refused_price', 'interest', manager1.id],
      ['interest', 'completed', assistant1.id],
    ]);
    const got = (await api('GET', `/api/deals/${deal.id}`, manager1.token)).json();
    expect(got.statusChanges.map((c: { toStatus: string }) => c.toStatus)).toEqual(['new', ...path]);
    // Completed is closed; the status never moves through PATCH.
    expect((await api('POST', `/api/deals/${deal.id}/status`, manager1.token, { status: 'in_progress' })).statusCode).toBe(409);
    expect((await api('PATCH', `/api/deals/${deal.id}`, manager1.token, { status: 'new' })).statusCode).toBe(400);
    expect((await api('POST', `/api/deals/${deal.id}/status`, manager1.token, { status: 'won' })).statusCode).toBe(400);
    expect(await t.database.db.$count(dealStatusChanges, eq(dealStatusChanges.dealId, deal.id))).toBe(5);
  });

  it('answers 404 to whoever may not see the client, on every route', async () => {
    const client = await newClient(manager1.token);
    const deal = await newDeal(manager1.token, { clientId: client.id });
    for (const who of [manager2, curator2]) {
      expect((await api('GET', `/api/deals/${deal.id}`, who.token)).statusCode).toBe(404);
      expect((await api('PATCH', `/api/deals/${deal.id}`, who.token, { title: 'mine' })).statusCode).toBe(404);
      expect((await api('POST', `/api/deals/${deal.id}/status`, who.token, { status: 'interest' })).statusCode).toBe(404);
      expect((await api('POST', '/api/deals', who.token, { clientId: client.id, title: 'x' })).statusCode).toBe(404);
      const list = (await api('GET', `/api/deals?clientId=${client.id}`, who.token)).json();
      expect(list.items).toEqual([]);
    }
    for (const who of [director, curator1, manager1, assistant1]) {
      expect((await api('GET', `/api/deals/${deal.id}`, who.token)).statusCode).toBe(200);
    }
  });

  it('filters by client, owner, status, stage, type and important, and pages by keyset', async () => {
    const type = (await api('POST', '/api/deal-types', director.token, { name: 'Supply', color: '#2E7D32' })).json();
    const client = await newClient(manager1.token);
    const a = await newDeal(manager1.token, { clientId: client.id, typeId: type.id, important: true });
    const b = await newDeal(manager1.token, { clientId: client.id, status: 'interest' });
    const c = await newDeal(manager1.token, { clientId: client.id, status: 'refused_self' });
    const ids = async (query: string) => (await api('GET', `/api/deals?clientId=${client.id}&${query}`, manager1.token)).json().items.map((d: { id: number }) => d.id);
    expect(await ids('')).toEqual([c.id, b.id, a.id]);
    expect(await ids(`typeId=${type.id}`)).toEqual([a.id]);
    expect(await ids('important=true')).toEqual([a.id]);
    expect(await ids('status=interest&status=new')).toEqual([b.id, a.id]);
    expect(await ids('stage=refused')).toEqual([c.id]);
    expect(await ids(`ownerId=${manager1.id}&stage=open`)).toEqual([b.id, a.id]);
    const page1 = (await api('GET', `/api/deals?clientId=${client.id}&limit=2`, manager1.token)).json();
    expect(page1.items.map((d: { id: number }) => d.id)).toEqual([c.id, b.id]);
    expect(page1.nextCursor).toBe(b.id);
    const page2 = (await api('GET', `/api/deals?clientId=${client.id}&limit=2&after=${page1.nextCursor}`, manager1.token)).json();
    expect(page2).toEqual({ items: [expect.objectContaining({ id: a.id })], nextCursor: null });
  });
});

describe('deal types', () => {
  it('are edited by the director only, read by everybody, and archived ones cannot be given', async () => {
    for (const who of [curator1, manager1, assistant1]) {
      expect((await api('POST', '/api/deal-types', who.token, { name: `T${++seq}`, color: '#112233' })).statusCode).toBe(403);
    }
    expect((await api('POST', '/api/deal-types', director.token, { name: 'Bad colour', color: 'red' })).statusCode).toBe(400);
    const res = await api('POST', '/api/deal-types', director.token, { name: 'Service', color: '#AA0000' });
    expect(res.statusCode, res.body).toBe(201);
    const type = res.json();
    expect(type).toMatchObject({ name: 'Service', color: '#aa0000', archived: false });
    expect((await api('PATCH', `/api/deal-types/${type.id}`, manager1.token, { color: '#000000' })).statusCode).toBe(403);
    expect((await api('PATCH', `/api/deal-types/${type.id}`, director.token, { archived: true })).json()).toMatchObject({ archived: true });
    const list = (await api('GET', '/api/deal-types', assistant1.token)).json();
    expect(list).toContainEqual({ id: type.id, name: 'Service', color: '#aa0000', archived: true });
    const client = await newClient(manager1.token);
    const refused = await api('POST', '/api/deals', manager1.token, { clientId: client.id, title: 'x', typeId: type.id });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().message).toContain('archived');
  });
});
