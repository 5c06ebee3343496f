import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

type U = { id: number; token: string; login: string };
let t: TestApp;
let director: U;
let curator: U;
let manager: U;
let clientId: number;

beforeAll(async () => {
  t = await createTestApp();
  const [dep] = await t.database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'q' }).returning({ id: departments.id });
  director = await createUser(t, { role: 'director' });
  curator = await createUser(t, { role: 'curator', departmentId: dep!.id });
  manager = await createUser(t, { role: 'manager', departmentId: dep!.id });
  const res = await t.app.inject({ method: 'POST', url: '/api/clients', headers: bearer(manager.token), payload: { name: 'Romashka', phones: ['+7 916 400 00 01'] } });
  clientId = res.json().id;
  await t.app.inject({ method: 'GET', url: `/api/clients/${clientId}`, headers: bearer(manager.token) });
  await t.app.inject({ method: 'GET', url: '/api/clients?q=Rom', headers: bearer(manager.token) });
  await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: manager.login, password: 'not the password' } });
});
afterAll(() => t.close());

type Page = { items: Array<{ id: number; actorId: number | null; actorName: string | null; action: string; entity: string; entityId: string | null; details: any; at: string }>; nextBefore: number | null };
const audit = async (query: string, token = director.token) => {
  const res = await t.app.inject({ method: 'GET', url: `/api/audit${query}`, headers: bearer(token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
};

describe('GET /api/audit', () => {
  it('lists sign-ins, failed sign-ins, card views and searches', async () => {
    const { items } = await audit('');
    const actions = items.map((i) => i.action);
    expect(actions).toEqual(expect.arrayContaining(['auth.sign_in', 'auth.sign_in_failed', 'client.view', 'client.search', 'client.create']));
    expect(items.find((i) => i.action === 'auth.sign_in' && i.actorId === manager.id)).toMatchObject({ entity: 'user', entityId: String(manager.id), actorName: manager.login });
    const failed = items.find((i) => i.action === 'auth.sign_in_failed')!;
    expect(failed.details).toEqual({ login: manager.login });
    expect(JSON.stringify(items)).not.toContain('not the password');
  });

  it('filters by actor, action, entity and entity id, and by period', async () => {
    const byActor = await audit(`?actorId=${manager.id}`);
    expect(byActor.items.length).toBeGreaterThan(0);
    expect(byActor.items.every((i) => i.actorId === manager.id)).toBe(true);
    const views = await audit(`?action=client.view&entity=client&entityId=${clientId}`);
    expect(views.items.map((i) => [i.action, i.entityId])).toEqual([['client.view', String(clientId)]]);
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await audit(`?from=${encodeURIComponent(future)}`)).items).toEqual([]);
    const all = await audit('?limit=500');
    const oldest = all.items.at(-1)!;
    const upToOldest = await audit(`?to=${encodeURIComponent(new Date(new Date(oldest.at).getTime() + 1).toISOString())}`);
    expect(upToOldest.items.map((i) => i.id)).toContain(oldest.id);
    expect(upToOldest.items.every((i) => new Date(i.at) <= new Date(oldest.at))).toBe(true);
  });

  it('pages with a keyset, newest first, without gaps or repeats', async () => {
    await t.database.db.insert(auditLog).values(Array.from({ length: 7 }, (_, i) => ({ actorId: director.id, action: 'test.page', entity: 'x', entityId: String(i) })));
    const seen: string[] = [];
    let before: number | null = null;
    do {
      const page: Page = await audit(`?action=test.page&limit=3${before ? `&before=${before}` : ''}`);
      seen.push(...page.items.map((i) => i.entityId!));
      before = page.nextBefore;
    } while (before !== null);
    expect(seen).toEqual(['6', '5', '4', '3', '2', '1', '0']);
  });

  it('is the director\'s alone', async () => {
    for (const u of [curator, manager]) {
      const res = await t.app.inject({ method: 'GET', url: '/api/audit', headers: bearer(u.token) });
      expect(res.statusCode).toBe(403);
    }
  });
});
