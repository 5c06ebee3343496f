import { and, eq } from 'drizzle-orm';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { calls } from '../../src/calls/calls.table.js';
import { clients } from '../../src/clients/clients.table.js';
import { deals } from '../../src/deals/deals.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { createRedis } from '../../src/infra/redis.js';
import { bearer } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// The read budget (issue 11, item 8) counts every way to the base, not only client cards and
// client pages: deal pages and cards, calls, reminders, the review queue, and a client's
// contacts, notes, history and deal files. Everything about one client is one read of that
// client; each page of a list is a read of its own.

const BUDGET = 3;
const PREFIX = uniquePrefix();
let database: TestDatabase;
let instance: TestInstance;
let departmentId: number;
let director: { id: number; token: string };
let seq = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  const [dep] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'q' }).returning();
  departmentId = dep!.id;
  director = await insertUser(database, { role: 'director', name: 'director' });
  instance = await startInstance(database, { READ_BUDGET_CARDS_PER_HOUR: String(BUDGET) }, PREFIX);
});

afterAll(async () => {
  await instance?.runtime.stop();
  await database?.drop();
});

const get = async (url: string, token: string, extra: Partial<InjectOptions> = {}) => {
  const res = await instance.runtime.app.inject({ method: 'GET', url, headers: bearer(token), ...extra });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return res.json();
};

/** A manager of their own with `count` clients, each with two deals. */
async function reader(count: number) {
  const user = await insertUser(database, { role: 'manager', name: `reader${++seq}`, departmentId });
  const rows = await database.db
    .insert(clients)
    .values(Array.from({ length: count }, (_, i) => ({ name: `Read ${seq}-${i}`, ownerId: user.id })))
    .returning({ id: clients.id });
  const clientIds = rows.map((r) => r.id);
  const dealRows = await database.db
    .insert(deals)
    .values(clientIds.flatMap((clientId) => [0, 1].map((n) => ({ clientId, title: `Deal ${n}`, status: 'new' as const, ownerId: user.id }))))
    .returning({ id: deals.id, clientId: deals.clientId });
  const dealsOf = (clientId: number) => dealRows.filter((d) => d.clientId === clientId).map((d) => d.id);
  return { ...user, clientIds, dealsOf };
}

/** The budget's trips for one user: written to the audit log before the crossing request answers. */
const trips = async (userId: number) =>
  (await database.db.select().from(auditLog).where(and(eq(auditLog.action, 'security.scraping'), eq(auditLog.actorId, userId)))).map((r) => r.details);

describe('one client, however it is looked at, is one read', () => {
  it('counts a deal card as its client’s card, with its contacts, notes, history and files', async () => {
    const me = await reader(BUDGET + 1);
    const [first, ...rest] = me.clientIds as [number, ...number[]];
    const [dealA, dealB] = me.dealsOf(first) as [number, number];
    for (const url of [
      `/api/clients/${first}`,
      `/api/clients/${first}/contacts`,
      `/api/clients/${first}/notes`,
      `/api/clients/${first}/history`,
      `/api/deals/${dealA}`,
      `/api/deals/${dealB}`,
      `/api/deals/${dealA}/notes`,
      `/api/deals/${dealA}/history`,
      `/api/deals/${dealB}/files`,
    ]) {
      await get(url, me.token);
    }
    // Two more clients through their deals only: three clients read, the budget itself.
    for (const clientId of rest.slice(0, BUDGET - 1)) await get(`/api/deals/${me.dealsOf(clientId)[0]}`, me.token);
    expect(await trips(me.id)).toEqual([]);
    // A fourth client, through its deal's notes: past the budget.
    await get(`/api/deals/${me.dealsOf(rest.at(-1)!)[1]}/notes`, me.token);
    expect(await trips(me.id)).toEqual([expect.objectContaining({ reads: BUDGET + 1, limit: BUDGET })]);
  });

  it('counts a card opened the way the console opens it (its deals, calls, files, notes, history) as one read', async () => {
    const me = await reader(BUDGET + 1);
    const open = async (clientId: number) => {
      for (const url of [`/api/clients/${clientId}`, `/api/deals?clientId=${clientId}`, `/api/calls?clientId=${clientId}`, `/api/clients/${clientId}/notes`, `/api/clients/${clientId}/history`]) {
        await get(url, me.token);
      }
      for (const dealId of me.dealsOf(clientId)) await get(`/api/deals/${dealId}/files`, me.token);
    };
    for (const clientId of me.clientIds.slice(0, BUDGET)) await open(clientId);
    expect(await trips(me.id)).toEqual([]);
    await open(me.clientIds[BUDGET]!);
    expect(await trips(me.id)).toEqual([expect.objectContaining({ reads: BUDGET + 1 })]);
  });

  it('counts a call with a client as that client, and a stranger’s call not at all', async () => {
    const me = await reader(BUDGET + 1);
    const rows = await database.db
      .insert(calls)
      .values([
        ...me.clientIds.map((clientId, i) => ({ systemName: 'pbx', linkedid: `reach-${seq}-${i}`, direction: 'inbound' as const, externalNumber: `+7916700000${i}`, clientId, ownerId: me.id, startedAt: new Date() })),
        { systemName: 'pbx', linkedid: `reach-${seq}-x`, direction: 'inbound' as const, externalNumber: '+79167009999', clientId: null, ownerId: me.id, startedAt: new Date() },
      ])
      .returning({ id: calls.id, clientId: calls.clientId });
    const stranger = rows.find((r) => r.clientId === null)!;
    await get(`/api/calls/${stranger.id}`, me.token);
    for (const call of rows.filter((r) => r.clientId !== null).slice(0, BUDGET)) await get(`/api/calls/${call.id}`, me.token);
    // The first client's card after its call: the same client.
    await get(`/api/clients/${me.clientIds[0]}`, me.token);
    expect(await trips(me.id)).toEqual([]);
    await get(`/api/calls/${rows.filter((r) => r.clientId !== null)[BUDGET]!.id}`, me.token);
    expect(await trips(me.id)).toHaveLength(1);
  });
});

describe('every page of a list is a read', () => {
  it('counts deal pages one each, the same page again once, and tells the directors', async () => {
    const me = await reader(3);
    const screen = await connectScreen(instance.wsUrl, director.token);
    try {
      let cursor: number | null = null;
      for (let page = 1; page <= BUDGET; page++) {
        const body: { items: unknown[]; nextCursor: number | null } = await get(`/api/deals?limit=1${cursor ? `&after=${cursor}` : ''}`, me.token);
        expect(body.items).toHaveLength(1);
        cursor = body.nextCursor;
      }
      await get('/api/deals?limit=1', me.token);
      expect(await trips(me.id)).toEqual([]);
      await get(`/api/deals?limit=1&after=${cursor}`, me.token);
      expect(await trips(me.id)).toEqual([expect.objectContaining({ reads: BUDGET + 1 })]);
      expect(await screen.waitFor('security.scraping')).toMatchObject({ user: { id: me.id, role: 'manager' }, reads: BUDGET + 1, limit: BUDGET });
    } finally {
      screen.close();
    }
  });

  it('counts GET /api/clients cursor pages one each', async () => {
    const me = await reader(BUDGET + 2);
    let cursor: string | null = null;
    for (let page = 1; page <= BUDGET; page++) {
      const body: { nextCursor: string | null } = await get(`/api/clients?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, me.token);
      cursor = body.nextCursor;
    }
    expect(await trips(me.id)).toEqual([]);
    await get(`/api/clients?limit=1&cursor=${encodeURIComponent(cursor!)}`, me.token);
    expect(await trips(me.id)).toHaveLength(1);
  });

  it('counts calls pages and reminder pages', async () => {
    const me = await reader(2);
    await get('/api/calls?limit=1', me.token);
    await get('/api/calls?limit=1&offset=1', me.token);
    await get('/api/reminders?limit=1', me.token);
    expect(await trips(me.id)).toEqual([]);
    await get('/api/reminders?limit=1&offset=1', me.token);
    expect(await trips(me.id)).toHaveLength(1);
  });

  it('counts every random draw of the review queue: each brings other calls', async () => {
    const me = await reader(1);
    for (let i = 0; i < BUDGET; i++) await get('/api/review/queue?random=true&limit=5', me.token);
    expect(await trips(me.id)).toEqual([]);
    await get('/api/review/queue?random=true&limit=5', me.token);
    expect(await trips(me.id)).toHaveLength(1);
  });

  it('never counts a director', async () => {
    for (let i = 0; i < BUDGET + 2; i++) await get(`/api/deals?limit=1&ownerId=${director.id}&typeId=${i + 1}`, director.token);
    expect(await trips(director.id)).toEqual([]);
  });
});

it('keeps a token given in the query string out of Redis', async () => {
  const me = await reader(1);
  await get(`/api/deals?limit=1&token=${me.token}`, me.token, { headers: {} });
  const redis = createRedis(inject('redisUrl'), 'command');
  onTestFinished(() => redis.disconnect());
  if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
  const members = await redis.zrange(`${PREFIX}:reads:${me.id}`, 0, -1);
  expect(members).toHaveLength(1);
  expect(members.join()).not.toContain(me.token);
});
