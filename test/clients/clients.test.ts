import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { clientPhones } from '../../src/clients/clients.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

type U = { id: number; token: string };
let t: TestApp;
let dep1: number;
let director: U;
let curator1: U;
let curator2: U;
let manager1: U;
let manager2: U;
let managerOther: U;
let assistant1: U;
let seq = 0;

const department = async (name: string) =>
  (await t.database.db.insert(departments).values({ name, lineKind: 'queue', lineTarget: 'q' }).returning({ id: departments.id }))[0]!.id;

beforeAll(async () => {
  t = await createTestApp();
  dep1 = await department('Sales');
  const dep2 = await department('Support');
  director = await createUser(t, { role: 'director' });
  curator1 = await createUser(t, { role: 'curator', departmentId: dep1 });
  curator2 = await createUser(t, { role: 'curator', departmentId: dep2 });
  manager1 = await createUser(t, { role: 'manager', departmentId: dep1 });
  manager2 = await createUser(t, { role: 'manager', departmentId: dep1 });
  managerOther = await createUser(t, { role: 'manager', departmentId: dep2 });
  assistant1 = await createUser(t, { role: 'assistant', departmentId: dep1, managerId: manager1.id });
});
afterAll(() => t.close());

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) =>
  t.app.inject({ method, url: `/api/clients${url}`, headers: bearer(token), ...(payload && { payload }) });
/** A fresh number per call, so tests do not find each other's clients. */
const freshPhone = () => `+7 916 ${String(2000000 + ++seq).slice(0, 3)} ${String(2000000 + seq).slice(3, 5)} ${String(2000000 + seq).slice(5)}`;
const create = async (token: string, fields: Record<string, unknown> = {}) => {
  const res = await api('POST', '/', token, { name: `Client ${++seq}`, phones: [freshPhone()], ...fields });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; ownerId: number; name: string; phones: Array<{ phone: string; raw: string }> };
};
const listIds = async (token: string, query = '') => {
  const res = await api('GET', `/?limit=200${query}`, token);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as Array<{ id: number }>).map((c) => c.id);
};

describe('who sees which clients', () => {
  let c1: number;
  let c2: number;
  let cOther: number;
  beforeAll(async () => {
    c1 = (await create(manager1.token)).id;
    c2 = (await create(manager2.token)).id;
    cOther = (await create(managerOther.token)).id;
  });

  it('hides another manager\'s client: absent from the list, 404 on the card', async () => {
    expect(await listIds(manager1.token)).toContain(c1);
    expect(await listIds(manager1.token)).not.toContain(c2);
    const res = await api('GET', `/${c2}`, manager1.token);
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toBe(`client ${c2} does not exist`);
    expect((await api('PATCH', `/${c2}`, manager1.token, { name: 'Mine now' })).statusCode).toBe(404);
  });

  it("shows an assistant their manager's clients only", async () => {
    const ids = await listIds(assistant1.token);
    expect(ids).toContain(c1);
    expect(ids).not.toContain(c2);
    expect((await api('GET', `/${c1}`, assistant1.token)).statusCode).toBe(200);
    expect((await api('GET', `/${c2}`, assistant1.token)).statusCode).toBe(404);
  });

  it('shows a curator their department only', async () => {
    const ids = await listIds(curator1.token);
    expect(ids).toEqual(expect.arrayContaining([c1, c2]));
    expect(ids).not.toContain(cOther);
    expect((await api('GET', `/${cOther}`, curator1.token)).statusCode).toBe(404);
    const other = await listIds(curator2.token);
    expect(other).toContain(cOther);
    expect(other).not.toContain(c1);
  });

  it('shows a director everything', async () => {
    expect(await listIds(director.token)).toEqual(expect.arrayContaining([c1, c2, cOther]));
  });

  it('keeps the ownerId filter inside the scope', async () => {
    expect(await listIds(manager1.token, `&ownerId=${manager2.id}`)).toEqual([]);
    expect(await listIds(director.token, `&ownerId=${manager2.id}`)).toEqual([c2]);
  });
});

describe('owners', () => {
  it('makes an assistant\'s new client their manager\'s', async () => {
    const c = await create(assistant1.token);
    expect(c.ownerId).toBe(manager1.id);
    expect((await api('GET', `/${c.id}`, manager1.token)).statusCode).toBe(200);
  });

  it('refuses a manager or an assistant naming another owner', async () => {
    const base = { name: 'X', phones: [freshPhone()] };
    expect((await api('POST', '/', manager1.token, { ...base, ownerId: manager2.id })).statusCode).toBe(403);
    expect((await api('POST', '/', assistant1.token, { ...base, ownerId: assistant1.id })).statusCode).toBe(403);
    expect((await create(manager1.token, { ownerId: manager1.id })).ownerId).toBe(manager1.id);
  });

  it('lets a curator assign within their department only', async () => {
    expect((await create(curator1.token, { ownerId: manager2.id })).ownerId).toBe(manager2.id);
    expect((await create(curator1.token)).ownerId).toBe(curator1.id);
    const res = await api('POST', '/', curator1.token, { name: 'X', phones: [freshPhone()], ownerId: managerOther.id });
    expect(res.statusCode).toBe(403);
    expect(res.json().message).toMatch(/ownerId/);
  });

  it('refuses an assistant or an unknown user as owner', async () => {
    const asAssistant = await api('POST', '/', director.token, { name: 'X', phones: [freshPhone()], ownerId: assistant1.id });
    expect(asAssistant.statusCode).toBe(400);
    expect(asAssistant.json().message).toMatch(/ownerId: .*assistant/);
    expect((await api('POST', '/', director.token, { name: 'X', phones: [freshPhone()], ownerId: 999999 })).statusCode).toBe(400);
  });

  it('lets a director reassign a client, and a manager not', async () => {
    const c = await create(manager1.token);
    expect((await api('PATCH', `/${c.id}`, manager1.token, { ownerId: manager2.id })).statusCode).toBe(403);
    const res = await api('PATCH', `/${c.id}`, director.token, { ownerId: manager2.id });
    expect(res.statusCode).toBe(200);
    expect((await api('GET', `/${c.id}`, manager1.token)).statusCode).toBe(404);
    expect((await api('GET', `/${c.id}`, manager2.token)).statusCode).toBe(200);
  });
});

describe('phone numbers', () => {
  it('stores all four spellings as one E.164 number and finds it by any of them', async () => {
    const formats = ['8 (916) 123-45-67', '+7 916 123 45 67', '79161234567', '9161234567'];
    const c = await create(manager2.token, { phones: formats });
    expect(c.phones).toEqual([{ phone: '+79161234567', raw: '8 (916) 123-45-67' }]);
    for (const spelling of formats) {
      const res = await api('GET', `/?phone=${encodeURIComponent(spelling)}`, manager2.token);
      expect(res.json().items.map((i: { id: number }) => i.id), spelling).toEqual([c.id]);
      expect(res.json().nextCursor).toBeNull();
    }
  });

  it('lets several clients share a number', async () => {
    const phone = freshPhone();
    const a = await create(manager1.token, { phones: [phone] });
    const b = await create(manager1.token, { phones: [phone] });
    expect(await listIds(manager1.token, `&phone=${encodeURIComponent(phone)}`)).toEqual(expect.arrayContaining([a.id, b.id]));
  });

  it('refuses a number that is not a phone with INVALID_PHONE naming it', async () => {
    const res = await api('POST', '/', manager1.token, { name: 'X', phones: ['+7 916 123 45 67', 'ask reception'] });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_PHONE', message: expect.stringMatching(/phones\[1\]: "ask reception"/) });
    const search = await api('GET', '/?phone=12', manager1.token);
    expect(search.statusCode).toBe(400);
    expect(search.json()).toMatchObject({ code: 'INVALID_PHONE', message: expect.stringMatching(/phone: "12"/) });
  });

  it('replaces the list on PATCH', async () => {
    const c = await create(manager1.token, { phones: ['+7 916 555 00 01', '+7 916 555 00 02'] });
    const res = await api('PATCH', `/${c.id}`, manager1.token, { phones: ['8 916 555 00 03'] });
    expect(res.statusCode).toBe(200);
    expect(res.json().phones).toEqual([{ phone: '+79165550003', raw: '8 916 555 00 03' }]);
    const stored = await t.database.db.select().from(clientPhones).where(eq(clientPhones.clientId, c.id));
    expect(stored.map((p) => p.phone)).toEqual(['+79165550003']);
  });

  it('keeps the old list when the new one has a bad number', async () => {
    const c = await create(manager1.token, { phones: ['+7 916 555 00 11'] });
    expect((await api('PATCH', `/${c.id}`, manager1.token, { phones: ['+7 916 555 00 12', 'nope'] })).statusCode).toBe(400);
    expect((await api('GET', `/${c.id}`, manager1.token)).json().phones).toEqual([{ phone: '+79165550011', raw: '+7 916 555 00 11' }]);
  });
});

describe('validation', () => {
  const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
    ['no phones', { name: 'X', phones: [] }, /phones/],
    ['no name', { phones: ['+79161234567'] }, /name/],
    ['an empty name', { name: '', phones: ['+79161234567'] }, /name/],
    ['a blank name', { name: '   ', phones: ['+79161234567'] }, /name/],
    ['phones as a string', { name: 'X', phones: 7 }, /phones/],
    ['an unknown field', { name: 'X', phones: ['+79161234567'], vip: true }, /unknown property "vip"/],
  ];
  it.each(invalid)('refuses %s with a 400 naming the field', async (_what, payload, message) => {
    const res = await api('POST', '/', manager1.token, payload);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().message).toMatch(message);
  });

  it('refuses a limit over 200', async () => {
    expect((await api('GET', '/?limit=201', manager1.token)).json().message).toMatch(/limit/);
  });
});

describe('search', () => {
  it('matches name or company case-insensitively, treating % and _ literally', async () => {
    const tag = `Zq${++seq}`;
    const byName = await create(manager2.token, { name: `${tag} Petrov` });
    const byCompany = await create(manager2.token, { name: 'Ivanov', company: `OOO ${tag.toLowerCase()}` });
    const percent = await create(manager2.token, { name: `${tag} 100% Ltd` });
    expect(await listIds(manager2.token, `&q=${tag.toUpperCase()}`)).toEqual(expect.arrayContaining([byName.id, byCompany.id, percent.id]));
    expect(await listIds(manager2.token, `&q=${encodeURIComponent('100%')}`)).toEqual([percent.id]);
    expect(await listIds(manager2.token, `&q=${encodeURIComponent(`${tag}_`)}`)).toEqual([]);
  });

  it('pages with limit and cursor', async () => {
    const company = `Paging ${++seq}`;
    for (let i = 0; i < 3; i++) await create(manager2.token, { company });
    const first = (await api('GET', `/?q=${encodeURIComponent(company)}&limit=2`, manager2.token)).json();
    expect(first.items).toHaveLength(2);
    const second = (await api('GET', `/?q=${encodeURIComponent(company)}&limit=2&cursor=${first.nextCursor}`, manager2.token)).json();
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
  });
});

describe('changing and deleting', () => {
  it('bumps lastActivityAt on every edit', async () => {
    const c = await create(manager1.token);
    const before = (await api('GET', `/${c.id}`, manager1.token)).json().lastActivityAt;
    expect(before).not.toBeNull();
    const res = await api('PATCH', `/${c.id}`, assistant1.token, { company: 'Acme' });
    expect(res.statusCode).toBe(200);
    expect(res.json().company).toBe('Acme');
    expect(new Date(res.json().lastActivityAt).getTime()).toBeGreaterThan(new Date(before).getTime());
  });

  it('lets only a director delete', async () => {
    const c = await create(manager1.token);
    expect((await api('DELETE', `/${c.id}`, manager1.token)).statusCode).toBe(403);
    expect((await api('DELETE', `/${c.id}`, curator1.token)).statusCode).toBe(403);
    expect((await api('DELETE', `/${c.id}`, director.token)).statusCode).toBe(204);
    expect((await api('GET', `/${c.id}`, director.token)).statusCode).toBe(404);
    expect((await api('DELETE', `/${c.id}`, director.token)).statusCode).toBe(404);
  });

  it("keeps a disabled manager's clients in the company", async () => {
    const leaving = await createUser(t, { role: 'manager', departmentId: dep1 });
    const c = await create(leaving.token);
    await t.app.inject({ method: 'PATCH', url: `/api/users/${leaving.id}`, headers: bearer(director.token), payload: { active: false } });
    expect((await api('GET', `/${c.id}`, leaving.token)).statusCode).toBe(401);
    expect((await api('GET', `/${c.id}`, curator1.token)).statusCode).toBe(200);
    expect((await api('PATCH', `/${c.id}`, curator1.token, { ownerId: manager2.id })).json().ownerId).toBe(manager2.id);
  });
});

describe('audit', () => {
  const rows = (action: string, entityId?: number) =>
    t.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, action), entityId === undefined ? undefined : eq(auditLog.entityId, String(entityId))));

  it('records create, view, update and delete with field names but no phone numbers', async () => {
    const c = await create(manager1.token, { phones: ['+7 916 777 00 01'] });
    await api('GET', `/${c.id}`, assistant1.token);
    await api('PATCH', `/${c.id}`, manager1.token, { name: 'Renamed', phones: ['+7 916 777 00 02'] });
    await api('DELETE', `/${c.id}`, director.token);

    expect(await rows('client.create', c.id)).toEqual([expect.objectContaining({ actorId: manager1.id, entity: 'client' })]);
    const [view] = await rows('client.view', c.id);
    expect(view).toMatchObject({ actorId: assistant1.id, ip: expect.any(String) });
    const [update] = await rows('client.update', c.id);
    expect(update!.details).toEqual({ fields: ['name', 'phones'] });
    expect(await rows('client.delete', c.id)).toHaveLength(1);
    const all = JSON.stringify([...(await rows('client.create', c.id)), update]);
    expect(all).not.toMatch(/916|7770/);
  });

  it('records a search once, with the number masked but for the last 4 digits', async () => {
    const q = `Audited search ${++seq}`;
    await api('GET', `/?phone=${encodeURIComponent('8 (916) 999-12-34')}&q=${encodeURIComponent(q)}`, curator2.token);
    const found = (await rows('client.search')).filter((r) => r.details?.q === q);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ actorId: curator2.id, details: { phone: '+*******1234', q, limit: 50, paged: false, returned: 0 } });
  });

  it('keeps a token given in the query string out of the audit row', async () => {
    const q = `Token search ${++seq}`;
    const res = await t.app.inject({ method: 'GET', url: `/api/clients?q=${encodeURIComponent(q)}&token=${curator2.token}` });
    expect(res.statusCode).toBe(200);
    const [row] = (await rows('client.search')).filter((r) => r.details?.q === q);
    expect(JSON.stringify(row)).not.toContain(curator2.token);
  });
});
