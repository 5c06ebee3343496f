import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installErrorHandler } from '../../src/errors.js';
import { createTestApp, createUser, bearer, type TestApp } from '../support/test-app.js';

// Input that once gave 500s: numbers past PostgreSQL's int4, NUL in a text, long path parameters.
// Every answer here must be a 400 (or the route's own 404) with a message, never a 5xx.

let t: TestApp;
let director: Record<string, string>;
beforeAll(async () => {
  t = await createTestApp();
  director = bearer((await createUser(t, { role: 'director' })).token);
});
afterAll(() => t.close());

const send = (method: string, url: string, payload?: unknown, headers = director) =>
  t.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined && { payload: payload as object }) });

const PAST_INT4 = ['2147483648', '9007199254740993', '99999999999999999999'];

describe('numbers past the int4 range', () => {
  const routes: Array<[string, (n: string) => string, unknown?]> = [
    ['GET', (n) => `/api/users/${n}`],
    ['PATCH', (n) => `/api/users/${n}`, { name: 'x' }],
    ['PUT', (n) => `/api/users/${n}/presence`, { presence: 'away' }],
    ['GET', (n) => `/api/users?departmentId=${n}`],
    ['GET', (n) => `/api/clients/${n}`],
    ['PATCH', (n) => `/api/clients/${n}`, { name: 'x' }],
    ['DELETE', (n) => `/api/clients/${n}`],
    ['GET', (n) => `/api/clients?ownerId=${n}`],
    ['GET', (n) => `/api/clients?offset=${n}`],
    ['POST', () => '/api/clients', { name: 'x', phones: ['+79161234567'], ownerId: 2 ** 31 }],
    ['GET', (n) => `/api/departments/${n}`],
    ['PATCH', (n) => `/api/departments/${n}`, { name: 'x' }],
    ['DELETE', (n) => `/api/departments/${n}`],
    ['POST', () => '/api/users', { login: 'big', name: 'x', password: '12345678', role: 'manager', departmentId: 2 ** 31 }],
    ['GET', (n) => `/api/calls?clientId=${n}`],
    ['GET', (n) => `/api/calls?managerId=${n}`],
    ['GET', (n) => `/api/calls?offset=${n}`],
    ['DELETE', (n) => `/api/webhooks/${n}`],
  ];
  it.each(routes)('%s %s answers 400 or 404, never 500', async (method, url, body) => {
    for (const n of PAST_INT4) {
      const res = await send(method, url(n), body);
      expect([400, 404], `${method} ${url(n)}: ${res.body}`).toContain(res.statusCode);
      expect(res.json().message).toBeTruthy();
    }
  });

  it('looks up a call id past int4 as a Linkedid, and finds none', async () => {
    const res = await send('GET', '/api/calls/99999999999999999999');
    expect(res.statusCode).toBe(404);
  });
});

describe('NUL in a text', () => {
  it('refuses a NUL in the login with 400, token or not', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: '{"login":"ad\\u0000min","password":"x"}', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION', message: expect.stringContaining('NUL') });
  });

  it.each([
    ['POST', '/api/clients', { name: 'Ro\u0000mashka', phones: ['+79161234567'] }],
    ['POST', '/api/clients', { name: 'Romashka', phones: ['+7916\u00001234567'] }],
    ['GET', '/api/clients?q=a%00b', undefined],
    ['GET', '/api/calls/sb%00x', undefined],
    ['POST', '/api/departments', { name: 'Sales', line: { kind: 'dial', target: 'x' }, businessHours: { 'mo\u0000n': [] } }],
  ])('%s %s with a NUL answers 400', async (method, url, body) => {
    const res = await send(method, url, body);
    expect(res.statusCode, res.body).toBe(400);
    // Refused by the guard before anything runs, not by PostgreSQL's net under it (errors.ts).
    expect(res.json().message).toMatch(/contains a NUL character/);
  });

  it('keeps other control characters where a text may hold them', async () => {
    const res = await send('POST', '/api/clients', { name: 'Line one\tand tab', phones: ['+79161234500'] });
    expect(res.statusCode, res.body).toBe(201);
  });
});

describe('path parameters', () => {
  it('takes a Linkedid of the documented 128 characters to the route (404), not a router 414', async () => {
    const res = await send('GET', `/api/calls/${'a'.repeat(128)}`);
    expect(res.statusCode).toBe(404);
    expect(res.json().code).toBe('NOT_FOUND');
  });

  it('answers a parameter past any limit with our 400 body', async () => {
    for (const length of [129, 300, 5000]) {
      const res = await send('GET', `/api/calls/${'a'.repeat(length)}/route-trace`);
      expect(res.statusCode, String(length)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION', message: expect.any(String), reqId: expect.any(String) });
    }
  });
});

describe('the error handler under the schemas', () => {
  // A route whose input no schema checks, against the real database: what a future route that
  // forgets its schema would meet.
  it.each([
    ['select $1::int', '99999999999'],
    ['select $1::int', 'abc'],
    ['select $1::text', 'a\u0000b'],
    ['select $1::jsonb', '"a\\u0000b"'],
  ])('%s with %j is a 400 with a message', async (sql, value) => {
    const app = Fastify({ logger: false });
    installErrorHandler(app);
    app.get('/probe', async () => (await t.database.pool.query(sql, [value])).rows);
    const res = await app.inject({ method: 'GET', url: '/probe' });
    await app.close();
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION', message: expect.any(String) });
  });
});
