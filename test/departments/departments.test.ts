import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

let t: TestApp;
let director: { id: number; token: string };
let seq = 0;

beforeAll(async () => {
  t = await createTestApp();
  director = await createUser(t, { role: 'director' });
});
afterAll(() => t.close());

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) =>
  t.app.inject({ method, url: `/api/departments${url}`, headers: bearer(token), ...(payload && { payload }) });

/** A valid department body with a unique name; override what a test is about. */
const body = (fields: Record<string, unknown> = {}) => ({ name: `Sales ${++seq}`, line: { kind: 'queue', target: 'sales' }, ...fields });
const create = async (fields: Record<string, unknown> = {}) => {
  const res = await api('POST', '/', director.token, body(fields));
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; name: string; dids: string[] };
};

describe('creating and reading departments', () => {
  it('creates a department with every field and reads it back', async () => {
    const hours = { mon: [['09:00', '18:00']], fri: [['22:00', '02:00']], holidays: ['2026-01-01'] };
    const res = await api('POST', '/', director.token, {
      name: 'Wholesale',
      line: { kind: 'dial', target: 'PJSIP/101&PJSIP/102' },
      voicemailBox: '500@sales',
      dids: ['8 (495) 111-22-33', '+7 495 111 22 44'],
      businessHours: hours,
      timeZone: 'europe/berlin',
    });
    expect(res.statusCode, res.body).toBe(201);
    const created = res.json();
    expect(created).toMatchObject({
      name: 'Wholesale',
      line: { kind: 'dial', target: 'PJSIP/101&PJSIP/102' },
      voicemailBox: '500@sales',
      dids: ['+74951112233', '+74951112244'],
      businessHours: hours,
      timeZone: 'Europe/Berlin',
    });

    const read = await api('GET', `/${created.id}`, director.token);
    expect(read.json()).toEqual(created);
    const manager = await createUser(t, { role: 'manager', departmentId: created.id });
    const list = await api('GET', '/', manager.token);
    expect(list.statusCode).toBe(200);
    expect(list.json().map((d: { id: number }) => d.id)).toContain(created.id);
  });

  it('defaults to always open in Europe/Moscow with no DIDs', async () => {
    const d = await create();
    expect(d).toMatchObject({ businessHours: null, timeZone: 'Europe/Moscow', dids: [], voicemailBox: null });
  });

  it('answers 404 for an unknown id and 401 without a token', async () => {
    expect((await api('GET', '/999999', director.token)).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: '/api/departments' })).statusCode).toBe(401);
  });

  it('refuses a duplicate name with 409', async () => {
    const d = await create();
    const res = await api('POST', '/', director.token, body({ name: d.name }));
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toMatch(/name/);
  });
});

describe('validation', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a queue name with a space', { line: { kind: 'queue', target: 'sales team' } }, /line\.target/],
    ['a dial string with a comma', { line: { kind: 'dial', target: 'PJSIP/101,30' } }, /comma/],
    ['a dial string with a space', { line: { kind: 'dial', target: 'PJSIP/101 &PJSIP/102' } }, /whitespace/],
    ['a dial target without technology', { line: { kind: 'dial', target: '101' } }, /Tech\/resource/],
    ['an unknown line kind', { line: { kind: 'ivr', target: 'x' } }, /line/],
    ['a bad voicemail box', { voicemailBox: 'sales' }, /voicemailBox/],
    ['an unknown time zone', { timeZone: 'Mars/Olympus' }, /timeZone/],
    ['business hours with a bad time', { businessHours: { mon: [['9:00', '18:00']] } }, /businessHours: mon\[0\]/],
    ['business hours with an unknown day', { businessHours: { funday: [] } }, /funday/],
    ['a missing name', { name: undefined }, /name/],
  ];
  it.each(cases)('refuses %s with a 400 naming the field', async (_what, fields, message) => {
    const res = await api('POST', '/', director.token, body(fields));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json().message).toMatch(message);
  });

  it('refuses a DID that is not a phone number with INVALID_PHONE naming it', async () => {
    const res = await api('POST', '/', director.token, body({ dids: ['+74951110000', 'call us'] }));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'INVALID_PHONE', message: expect.stringMatching(/dids\[1\].*call us/) });
  });
});

describe('DIDs', () => {
  it('collapses the same number written twice', async () => {
    const d = await create({ dids: ['84953330001', '+7 495 333-00-01'] });
    expect(d.dids).toEqual(['+74953330001']);
  });

  it('refuses a DID owned by another department with 409 naming it, and changes nothing', async () => {
    const a = await create({ dids: ['+74954440001'] });
    const b = await create({ dids: ['+74954440002'] });
    const res = await api('PATCH', `/${b.id}`, director.token, { dids: ['+74954440003', '8 495 444-00-01'] });
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toContain('+74954440001');
    expect(res.json().message).toContain(a.name);
    expect((await api('GET', `/${b.id}`, director.token)).json().dids).toEqual(['+74954440002']);

    const onCreate = await api('POST', '/', director.token, body({ dids: ['+74954440002'] }));
    expect(onCreate.statusCode).toBe(409);
  });

  it('replaces the list on PATCH, freeing the old numbers', async () => {
    const a = await create({ dids: ['+74955550001', '+74955550002'] });
    const res = await api('PATCH', `/${a.id}`, director.token, { dids: ['+74955550003'] });
    expect(res.json().dids).toEqual(['+74955550003']);
    const b = await create({ dids: ['+74955550001'] });
    expect(b.dids).toEqual(['+74955550001']);
  });
});

describe('permissions', () => {
  it('lets only a director create and delete', async () => {
    const d = await create();
    const curator = await createUser(t, { role: 'curator', departmentId: d.id });
    const manager = await createUser(t, { role: 'manager', departmentId: d.id });
    expect((await api('POST', '/', curator.token, body())).statusCode).toBe(403);
    expect((await api('POST', '/', manager.token, body())).statusCode).toBe(403);
    expect((await api('DELETE', `/${d.id}`, curator.token)).statusCode).toBe(403);
  });

  it('lets a curator change their own department only', async () => {
    const own = await create();
    const other = await create();
    const curator = await createUser(t, { role: 'curator', departmentId: own.id });
    const ok = await api('PATCH', `/${own.id}`, curator.token, { voicemailBox: '700' });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().voicemailBox).toBe('700');
    expect((await api('PATCH', `/${other.id}`, curator.token, { voicemailBox: '700' })).statusCode).toBe(403);
    const manager = await createUser(t, { role: 'manager', departmentId: own.id });
    expect((await api('PATCH', `/${own.id}`, manager.token, { voicemailBox: '700' })).statusCode).toBe(403);
  });
});

describe('updating and deleting', () => {
  it('patches only the given fields', async () => {
    const d = await create({ voicemailBox: '100', businessHours: { mon: [['09:00', '18:00']] } });
    const res = await api('PATCH', `/${d.id}`, director.token, { line: { kind: 'dial', target: 'PJSIP/200' }, businessHours: null });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: d.name, voicemailBox: '100', line: { kind: 'dial', target: 'PJSIP/200' }, businessHours: null });
  });

  it('answers 400 for an empty patch and 404 for an unknown department', async () => {
    const d = await create();
    expect((await api('PATCH', `/${d.id}`, director.token, {})).statusCode).toBe(400);
    expect((await api('PATCH', '/999999', director.token, { voicemailBox: null })).statusCode).toBe(404);
    expect((await api('DELETE', '/999999', director.token)).statusCode).toBe(404);
  });

  it('refuses to delete a department users belong to, then deletes it once empty', async () => {
    const d = await create({ dids: ['+74956660001'] });
    const manager = await createUser(t, { role: 'manager', departmentId: d.id });
    const refused = await api('DELETE', `/${d.id}`, director.token);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().message).toMatch(/1 user/);

    const other = await create();
    await t.app.inject({ method: 'PATCH', url: `/api/users/${manager.id}`, headers: bearer(director.token), payload: { departmentId: other.id } });
    expect((await api('DELETE', `/${d.id}`, director.token)).statusCode).toBe(204);
    expect((await api('GET', `/${d.id}`, director.token)).statusCode).toBe(404);
    // Its numbers are free again.
    expect((await create({ dids: ['+74956660001'] })).dids).toEqual(['+74956660001']);
  });

  it('writes department changes to the audit log', async () => {
    const d = await create();
    await api('PATCH', `/${d.id}`, director.token, { name: `${d.name} renamed` });
    const rows = await t.database.db.select().from(auditLog).where(eq(auditLog.entityId, String(d.id)));
    const actions = rows.filter((r) => r.entity === 'department').map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['department.create', 'department.update']));
    expect(rows.every((r) => r.actorId === director.id)).toBe(true);
  });
});
