import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

type U = { id: number; token: string; login: string };
let t: TestApp;
let dep1: number;
let dep2: number;
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
  dep1 = await department('Sales');
  dep2 = await department('Support');
  director = await createUser(t, { role: 'director' });
  curator1 = await createUser(t, { role: 'curator', departmentId: dep1 });
  curator2 = await createUser(t, { role: 'curator', departmentId: dep2 });
  manager1 = await createUser(t, { role: 'manager', departmentId: dep1 });
  manager2 = await createUser(t, { role: 'manager', departmentId: dep1 });
  assistant1 = await createUser(t, { role: 'assistant', departmentId: dep1, managerId: manager1.id });
});
afterAll(() => t.close());

const api = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, token: string, payload?: object) =>
  t.app.inject({ method, url: `/api/users${url}`, headers: bearer(token), ...(payload && { payload }) });
const newUser = (fields: Record<string, unknown> = {}) => ({
  login: `person${++seq}`,
  name: 'New Person',
  password: 'long enough password',
  role: 'manager',
  departmentId: dep1,
  ...fields,
});
const ids = (res: { json(): unknown }) => (res.json() as Array<{ id: number }>).map((u) => u.id).sort((a, b) => a - b);

describe('who sees whom', () => {
  it('shows a director everybody and never a password hash', async () => {
    const res = await api('GET', '/', director.token);
    expect(res.statusCode).toBe(200);
    expect(ids(res)).toEqual(expect.arrayContaining([director.id, curator1.id, curator2.id, manager1.id, manager2.id, assistant1.id]));
    for (const u of res.json()) expect(Object.keys(u)).not.toContain('passwordHash');
  });

  it('shows a curator their department only', async () => {
    const res = await api('GET', '/?active=true', curator1.token);
    expect(ids(res)).not.toContain(curator2.id);
    expect(ids(res)).not.toContain(director.id);
    expect(ids(res)).toEqual(expect.arrayContaining([curator1.id, manager1.id, manager2.id, assistant1.id]));
    expect((await api('GET', `/${curator2.id}`, curator1.token)).statusCode).toBe(404);
  });

  it('shows a manager self and their assistants, 404 for anybody else', async () => {
    expect(ids(await api('GET', '/', manager1.token))).toEqual([manager1.id, assistant1.id].sort((a, b) => a - b));
    expect((await api('GET', `/${assistant1.id}`, manager1.token)).statusCode).toBe(200);
    expect((await api('GET', `/${manager2.id}`, manager1.token)).statusCode).toBe(404);
  });

  it('shows an assistant self and their manager', async () => {
    expect(ids(await api('GET', '/', assistant1.token))).toEqual([manager1.id, assistant1.id].sort((a, b) => a - b));
  });

  it('filters by role within the scope', async () => {
    const res = await api('GET', '/?role=curator', director.token);
    expect(res.json().every((u: { role: string }) => u.role === 'curator')).toBe(true);
  });
});

describe('creating users', () => {
  it('lets a director create any role, stores the login lower-cased and the mobile as E.164', async () => {
    const res = await api('POST', '/', director.token, newUser({ login: 'Anna.K', role: 'curator', mobile: '8 (916) 123-45-67', extension: '2101' }));
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ login: 'anna.k', role: 'curator', mobile: '+79161234567', extension: '2101', presence: 'available', active: true });
    expect(res.json()).not.toHaveProperty('passwordHash');
    const signIn = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: 'anna.k', password: 'long enough password' } });
    expect(signIn.statusCode).toBe(200);
  });

  it('lets a curator create managers and assistants in their own department only', async () => {
    expect((await api('POST', '/', curator1.token, newUser())).statusCode).toBe(201);
    expect((await api('POST', '/', curator1.token, newUser({ role: 'assistant', managerId: manager2.id }))).statusCode).toBe(201);
    expect((await api('POST', '/', curator1.token, newUser({ role: 'curator' }))).statusCode).toBe(403);
    expect((await api('POST', '/', curator1.token, newUser({ role: 'director', departmentId: null }))).statusCode).toBe(403);
    expect((await api('POST', '/', curator1.token, newUser({ departmentId: dep2 }))).statusCode).toBe(403);
  });

  it('refuses managers and assistants', async () => {
    expect((await api('POST', '/', manager1.token, newUser({ role: 'assistant', managerId: manager1.id }))).statusCode).toBe(403);
    expect((await api('POST', '/', assistant1.token, newUser())).statusCode).toBe(403);
  });

  const invalid: Array<[string, Record<string, unknown>, RegExp, string?]> = [
    ['a login with spaces', { login: 'an na' }, /login/],
    ['a one-letter login', { login: 'a' }, /login/],
    ['a short password', { password: 'short' }, /password/],
    ['an unknown role', { role: 'boss' }, /role/],
    ['a manager without a department', { departmentId: null }, /departmentId/],
    ['an assistant without a manager', { role: 'assistant' }, /managerId/],
    ['a manager with a manager', { managerId: 1 }, /managerId/],
    ['a department that does not exist', { departmentId: 999999 }, /departmentId: department 999999/],
    ['an extension with letters', { extension: '10a' }, /extension/],
    ['a mobile that is not a phone', { mobile: 'mobile please' }, /mobile: "mobile please"/, 'INVALID_PHONE'],
    ['absent rule "mobile" without a mobile', { absentRule: 'mobile' }, /absentRule/],
    ['an unknown field', { shoeSize: 44 }, /unknown property "shoeSize"/],
  ];
  it.each(invalid)('refuses %s with a 400 naming the field', async (_what, fields, message, code) => {
    const res = await api('POST', '/', director.token, newUser(fields));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().message).toMatch(message);
    if (code) expect(res.json().code).toBe(code);
  });

  it('refuses an assistant whose managerId is not a manager', async () => {
    const res = await api('POST', '/', director.token, newUser({ role: 'assistant', managerId: curator1.id }));
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/managerId: .* is a curator/);
  });

  it('refuses a taken login (any case) or extension with 409', async () => {
    const login = await api('POST', '/', director.token, newUser({ login: manager1.login.toUpperCase() }));
    expect(login.statusCode).toBe(409);
    expect(login.json().message).toMatch(/login/);
    await api('POST', '/', director.token, newUser({ extension: '3301' }));
    const ext = await api('POST', '/', director.token, newUser({ extension: '3301' }));
    expect(ext.statusCode).toBe(409);
    expect(ext.json().message).toMatch(/extension: 3301/);
  });
});

describe('changing users', () => {
  it('lets a user change their own name, mobile and absent rule', async () => {
    const me = await createUser(t, { role: 'manager', departmentId: dep1 });
    const res = await api('PATCH', `/${me.id}`, me.token, { name: 'Renamed', mobile: '+7 916 000 11 22', absentRule: 'mobile' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: 'Renamed', mobile: '+79160001122', absentRule: 'mobile' });
  });

  it('refuses a user their own role, department or extension', async () => {
    expect((await api('PATCH', `/${manager2.id}`, manager2.token, { role: 'curator' })).statusCode).toBe(403);
    expect((await api('PATCH', `/${manager2.id}`, manager2.token, { departmentId: dep2 })).statusCode).toBe(403);
    const ext = await api('PATCH', `/${manager2.id}`, manager2.token, { extension: '4444' });
    expect(ext.statusCode).toBe(403);
    expect(ext.json().message).toMatch(/extension/);
  });

  it("lets a curator edit their department's managers but not move them away or change their password", async () => {
    const m = await api('POST', '/', director.token, newUser());
    const id = m.json().id as number;
    const ok = await api('PATCH', `/${id}`, curator1.token, { extension: '5501', name: 'Edited' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ extension: '5501', name: 'Edited' });
    expect((await api('PATCH', `/${id}`, curator1.token, { departmentId: dep2 })).statusCode).toBe(403);
    expect((await api('PATCH', `/${id}`, curator1.token, { role: 'curator' })).statusCode).toBe(403);
    expect((await api('PATCH', `/${id}`, curator1.token, { password: 'another password' })).statusCode).toBe(403);
    expect((await api('PATCH', `/${id}`, curator2.token, { name: 'X' })).statusCode).toBe(404);
  });

  it("keeps managers from editing others, even their assistant", async () => {
    expect((await api('PATCH', `/${assistant1.id}`, manager1.token, { name: 'X' })).statusCode).toBe(403);
    expect((await api('PATCH', `/${manager2.id}`, manager1.token, { name: 'X' })).statusCode).toBe(404);
  });

  it('drops the manager when an assistant is promoted, and refuses to demote a manager who has assistants', async () => {
    const boss = (await api('POST', '/', director.token, newUser())).json().id as number;
    const helper = (await api('POST', '/', director.token, newUser({ role: 'assistant', managerId: boss }))).json().id as number;
    const demote = await api('PATCH', `/${boss}`, director.token, { role: 'curator' });
    expect(demote.statusCode).toBe(409);
    expect(demote.json().message).toMatch(/assistant/);
    const promoted = await api('PATCH', `/${helper}`, director.token, { role: 'manager' });
    expect(promoted.statusCode, promoted.body).toBe(200);
    expect(promoted.json()).toMatchObject({ role: 'manager', managerId: null });
  });

  it('refuses to let a director disable themselves', async () => {
    const res = await api('PATCH', `/${director.id}`, director.token, { active: false });
    expect(res.statusCode).toBe(403);
  });

  it('answers 404 for an unknown user and 400 for an empty patch', async () => {
    expect((await api('PATCH', '/999999', director.token, { name: 'X' })).statusCode).toBe(404);
    expect((await api('PATCH', `/${manager1.id}`, director.token, {})).statusCode).toBe(400);
  });

  it('writes user changes to the audit log without the password', async () => {
    const me = await createUser(t, { role: 'manager', departmentId: dep1 });
    await api('PATCH', `/${me.id}`, me.token, { name: 'Audited', password: 'a new password 1' });
    const [row] = await t.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'user.update'), eq(auditLog.entityId, String(me.id))));
    expect(row).toMatchObject({ actorId: me.id, entity: 'user', details: { fields: ['name', 'password'] } });
    expect(JSON.stringify(row!.details)).not.toContain('a new password 1');
  });
});

describe('PUT /:id/presence', () => {
  it('lets a user set their own status and records when it changed', async () => {
    const before = (await api('GET', `/${manager1.id}`, manager1.token)).json();
    const res = await api('PUT', `/${manager1.id}/presence`, manager1.token, { presence: 'dnd' });
    expect(res.statusCode).toBe(200);
    expect(res.json().presence).toBe('dnd');
    expect(new Date(res.json().presenceChangedAt).getTime()).toBeGreaterThan(new Date(before.presenceChangedAt).getTime());

    // Repeating the same status keeps the time it was first set.
    const again = await api('PUT', `/${manager1.id}/presence`, manager1.token, { presence: 'dnd' });
    expect(again.json().presenceChangedAt).toBe(res.json().presenceChangedAt);
  });

  it("lets the department's curator and a director set it", async () => {
    expect((await api('PUT', `/${manager2.id}/presence`, curator1.token, { presence: 'away' })).statusCode).toBe(200);
    expect((await api('PUT', `/${manager2.id}/presence`, director.token, { presence: 'available' })).statusCode).toBe(200);
  });

  it('refuses other managers, assistants and curators of other departments', async () => {
    expect((await api('PUT', `/${manager2.id}/presence`, manager1.token, { presence: 'away' })).statusCode).toBe(404);
    expect((await api('PUT', `/${assistant1.id}/presence`, manager1.token, { presence: 'away' })).statusCode).toBe(403);
    expect((await api('PUT', `/${manager1.id}/presence`, assistant1.token, { presence: 'away' })).statusCode).toBe(403);
    expect((await api('PUT', `/${manager1.id}/presence`, curator2.token, { presence: 'away' })).statusCode).toBe(404);
  });

  it('refuses an unknown status with a 400 naming the field', async () => {
    const res = await api('PUT', `/${manager1.id}/presence`, manager1.token, { presence: 'lunch' });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/presence/);
  });
});
