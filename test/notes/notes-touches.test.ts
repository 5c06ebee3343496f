import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { touchClient } from '../../src/calls/calls.repository.js';
import { clients } from '../../src/clients/clients.table.js';
import { createReminder } from '../../src/reminders/reminders.service.js';
import { departments } from '../../src/departments/departments.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

type U = { id: number; token: string };
let t: TestApp;
let manager1: U;
let manager2: U;
let assistant1: U;
let curator1: U;
let seq = 0;

beforeAll(async () => {
  t = await createTestApp();
  const [dep] = await t.database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'q' }).returning();
  manager1 = await createUser(t, { role: 'manager', departmentId: dep!.id });
  manager2 = await createUser(t, { role: 'manager', departmentId: dep!.id });
  curator1 = await createUser(t, { role: 'curator', departmentId: dep!.id });
  assistant1 = await createUser(t, { role: 'assistant', departmentId: dep!.id, managerId: manager1.id });
});
afterAll(() => t.close());

const api = (method: 'GET' | 'POST', url: string, token: string, payload?: object) =>
  t.app.inject({ method, url, headers: bearer(token), ...(payload && { payload }) });
const newClient = async (token = manager1.token) => {
  const n = ++seq;
  const res = await api('POST', '/api/clients', token, { name: `Touch ${n}`, phones: [`+7 916 400 ${String(1000 + n).slice(0, 2)} ${String(1000 + n).slice(2)}`] });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; lastContactAt: string | null };
};
const lastContact = async (id: number) => (await t.database.db.select({ at: clients.lastContactAt }).from(clients).where(eq(clients.id, id)))[0]!.at;
const setTouch = (id: number, daysAgo: number | null) =>
  t.database.db.update(clients).set({ lastContactAt: daysAgo === null ? null : sql`now() - make_interval(days => ${daysAgo})` }).where(eq(clients.id, id));

describe('notes', () => {
  it('are typed, hang on a client or a deal, and a client shows its deals\' notes too', async () => {
    const client = await newClient();
    const deal = (await api('POST', '/api/deals', manager1.token, { clientId: client.id, title: 'Pallets' })).json();
    const onClient = await api('POST', `/api/clients/${client.id}/notes`, assistant1.token, { kind: 'meeting', text: 'Met at the warehouse' });
    expect(onClient.statusCode, onClient.body).toBe(201);
    expect(onClient.json()).toMatchObject({ clientId: client.id, dealId: null, kind: 'meeting', authorId: assistant1.id });
    const onDeal = await api('POST', `/api/deals/${deal.id}/notes`, manager1.token, { text: '  Send the offer  ' });
    expect(onDeal.json()).toMatchObject({ clientId: client.id, dealId: deal.id, kind: 'note', text: 'Send the offer' });
    expect((await api('POST', `/api/deals/${deal.id}/notes`, manager1.token, { kind: 'gossip', text: 'x' })).statusCode).toBe(400);

    const all = (await api('GET', `/api/clients/${client.id}/notes`, manager1.token)).json();
    expect(all.items.map((n: { dealId: number | null }) => n.dealId)).toEqual([deal.id, null]);
    const ofDeal = (await api('GET', `/api/deals/${deal.id}/notes`, manager1.token)).json();
    expect(ofDeal.items.map((n: { text: string }) => n.text)).toEqual(['Send the offer']);
    const meetings = (await api('GET', `/api/clients/${client.id}/notes?kind=meeting`, curator1.token)).json();
    expect(meetings.items.map((n: { kind: string }) => n.kind)).toEqual(['meeting']);
  });

  it('answers 404 to whoever may not see the client, for client and deal notes alike', async () => {
    const client = await newClient();
    const deal = (await api('POST', '/api/deals', manager1.token, { clientId: client.id, title: 'Secret' })).json();
    await api('POST', `/api/deals/${deal.id}/notes`, manager1.token, { text: 'price 90k' });
    for (const url of [`/api/clients/${client.id}/notes`, `/api/deals/${deal.id}/notes`]) {
      expect((await api('GET', url, manager2.token)).statusCode).toBe(404);
      expect((await api('POST', url, manager2.token, { text: 'hi' })).statusCode).toBe(404);
    }
  });
});

describe('reminders about a deal', () => {
  it('name a deal of their client; a deal of another client is not found', async () => {
    const client = await newClient();
    const other = await newClient();
    const deal = (await api('POST', '/api/deals', manager1.token, { clientId: client.id, title: 'Call about the offer' })).json();
    const dueAt = new Date(Date.now() + 3_600_000).toISOString();
    const viewer = { id: manager1.id, login: 'm', name: 'm', role: 'manager' as const, departmentId: null, managerId: null };
    const create = (clientId: number) =>
      createReminder(t.database.db, { actorId: manager1.id, ip: null }, viewer, { clientId, dealId: deal.id, dueAt, note: '', autoDial: false }, new Date());
    const row = await create(client.id);
    expect(row).toMatchObject({ clientId: client.id, dealId: deal.id });
    await expect(create(other.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('touches', () => {
  it('a note moves the client\'s lastContactAt to now', async () => {
    const client = await newClient();
    expect(await lastContact(client.id)).toBeNull();
    const before = Date.now();
    const note = (await api('POST', `/api/clients/${client.id}/notes`, manager1.token, { kind: 'call_summary', text: 'Called, busy' })).json();
    const at = await lastContact(client.id);
    expect(at!.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(at!.toISOString()).toBe(note.createdAt);
    expect((await api('GET', `/api/clients/${client.id}`, manager1.token)).json().lastContactAt).toBe(note.createdAt);
  });

  it('a call end moves it forward, never back', async () => {
    const client = await newClient();
    const ended = new Date('2026-10-01T10:00:00Z');
    await touchClient(t.database.pool, client.id, ended);
    expect(await lastContact(client.id)).toEqual(ended);
    // A late replay of an older call's end leaves the newer touch.
    await touchClient(t.database.pool, client.id, new Date('2026-09-01T10:00:00Z'));
    expect(await lastContact(client.id)).toEqual(ended);
  });

  it('filters the client list by stale=N days and by an overdue next contact', async () => {
    const fresh = await newClient();
    const old = await newClient();
    const never = await newClient();
    const overdue = await newClient();
    await setTouch(fresh.id, 2);
    await setTouch(old.id, 40);
    await setTouch(never.id, null);
    await setTouch(overdue.id, 1);
    await t.database.db.execute(sql`update clients set next_contact_at = now() - interval '1 hour' where id = ${overdue.id}`);
    await t.database.db.execute(sql`update clients set next_contact_at = now() + interval '1 day' where id = ${fresh.id}`);
    const ids = async (query: string) =>
      (await api('GET', `/api/clients?limit=200&${query}`, manager1.token)).json().items.map((c: { id: number }) => c.id).filter((id: number) => [fresh.id, old.id, never.id, overdue.id].includes(id));
    expect((await ids('stale=30')).sort()).toEqual([old.id, never.id].sort());
    expect((await ids('stale=1')).sort()).toEqual([fresh.id, old.id, never.id, overdue.id].sort());
    expect(await ids('nextContactOverdue=true')).toEqual([overdue.id]);
    expect(await ids('stale=30&nextContactOverdue=true')).toEqual([]);
    expect((await api('GET', '/api/clients?stale=0', manager1.token)).statusCode).toBe(400);
  });
});
