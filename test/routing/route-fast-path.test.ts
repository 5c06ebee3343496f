import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { loadConfig } from '../../src/config.js';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { serverWithFrontDoor } from '../../src/http/server-factory.js';
import { createRouteFastPath } from '../../src/routing/route-fast-path.js';
import type { RouteService } from '../../src/routing/route-service.js';
import { createTestApp, createUser, TEST_PBX_TOKEN, type TestApp } from '../support/test-app.js';

// /pbx/route?format=hash is answered before Fastify (route-fast-path.ts). It must answer exactly
// what the documented Fastify route answers, and leave every other request to Fastify.

let t: TestApp;
let base: string;

beforeAll(async () => {
  t = await createTestApp({ DEFAULT_DEPARTMENT: 'Sales' });
  const db = t.database.db;
  const [sales] = await db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'sales', voicemailBox: '600@default' }).returning();
  await db.insert(departmentDids).values({ did: '+74951110001', departmentId: sales!.id });
  const anna = await createUser(t, { role: 'manager', departmentId: sales!.id, extension: '101', mobile: '+79031112233', presence: 'available', absentRule: 'mobile' });
  const [client] = await db.insert(clients).values({ name: 'Ромашка', ownerId: anna.id }).returning();
  await db.insert(clientPhones).values({ clientId: client!.id, phone: '+79161234567', raw: 'x' });
  await t.directory.barrier();
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await t?.close();
});

const qs = (params: Record<string, string>) => Object.entries(params).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');

describe('the fast path answers as the Fastify route does', () => {
  // Each call's steps, over HTTP (the fast path) with one linkedid and through app.inject (which
  // never reaches the HTTP server: the Fastify route) with another.
  const calls: Array<Array<Record<string, string>>> = [
    [{ caller: '89161234567', did: '74951110001', step: '1' }, { caller: '89161234567', did: '74951110001', step: '2', last_status: 'NOANSWER' }, { caller: '89161234567', did: '74951110001', step: '3', last_status: 'BUSY' }],
    [{ caller: '+7 (916) 123-45-67', did: '+74951110001' }],
    [{ caller: '74997770000', did: '74951110001' }],
    [{ caller: 'anonymous', did: '74951119999', step: 'x' }],
    [{ caller: '8916\u00001234567', did: '74951110001', last_status: 'chanunavail' }],
  ];

  it.each(calls.map((steps, i) => [i, steps] as const))('call %i: same status, type and body', async (i, steps) => {
    const viaHttp = `fast-${i}.1`;
    const viaFastify = `slow-${i}.1`;
    let tried = { http: '', fastify: '' };
    for (const step of steps) {
      const res = await fetch(`${base}/pbx/route?${qs({ format: 'hash', ...step, uniqueid: viaHttp, linkedid: viaHttp, tried: tried.http, token: TEST_PBX_TOKEN })}`);
      const inj = await t.app.inject({ method: 'GET', url: `/pbx/route?${qs({ format: 'hash', ...step, uniqueid: viaFastify, linkedid: viaFastify, tried: tried.fastify })}`, headers: { 'x-switchboard-token': TEST_PBX_TOKEN } });
      const body = await res.text();
      expect(res.status).toBe(inj.statusCode);
      expect(res.headers.get('content-type')).toBe(inj.headers['content-type']);
      expect(body.replaceAll(viaHttp, viaFastify)).toBe(inj.body);
      tried = { http: new URLSearchParams(body).get('tried') ?? '', fastify: new URLSearchParams(inj.body).get('tried') ?? '' };
    }
  });

  it('leaves a wrong token, a missing one and the JSON format to Fastify', async () => {
    const wrong = await fetch(`${base}/pbx/route?${qs({ format: 'hash', caller: '89161234567', token: 'nope' })}`);
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ code: 'FORBIDDEN', message: 'PBX token is wrong' });
    const missing = await fetch(`${base}/pbx/route?${qs({ format: 'hash', caller: '89161234567' })}`);
    expect(missing.status).toBe(401);
    const json = await fetch(`${base}/pbx/route?${qs({ caller: '89161234567', did: '74951110001' })}`, { headers: { 'x-switchboard-token': TEST_PBX_TOKEN } });
    expect(json.status).toBe(200);
    expect(await json.json()).toMatchObject({ action: 'dial', reason: 'owner' });
  });
});

describe('which requests the front door takes', () => {
  const config = loadConfig({ NODE_ENV: 'test', PBX_TOKEN: TEST_PBX_TOKEN });
  // What the front door does with an answer is checked above on the real service; here only the
  // choice of requests, so the route service is a recorder.
  const asked: unknown[] = [];
  const recorder = { route: (q: unknown) => (asked.push(q), { answer: { action: 'dial' }, hashBody: 'action=dial' }) } as unknown as RouteService;

  async function served(fast: ReturnType<typeof createRouteFastPath>, path: string, init: { method?: string; headers?: Record<string, string> } = {}) {
    const server = serverWithFrontDoor(() => fast)((_req, res) => res.writeHead(599).end(), {});
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`, init);
      return res.status === 599 ? 'fastify' : 'front door';
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('takes the plain question with the right token, in the header or the query', async () => {
    const fast = createRouteFastPath(config, recorder, { signed: false });
    expect(await served(fast, `/pbx/route?format=hash&caller=1&token=${TEST_PBX_TOKEN}`)).toBe('front door');
    expect(await served(fast, '/pbx/route?format=hash&caller=1', { headers: { 'x-switchboard-token': TEST_PBX_TOKEN } })).toBe('front door');
    expect(asked).toHaveLength(2);
  });

  it('leaves everything else to Fastify', async () => {
    const fast = createRouteFastPath(config, recorder, { signed: false });
    asked.length = 0;
    for (const path of [
      `/pbx/route?caller=1&token=${TEST_PBX_TOKEN}`,
      `/pbx/route?format=json&token=${TEST_PBX_TOKEN}`,
      `/pbx/route?format=hash&format=hash&token=${TEST_PBX_TOKEN}`,
      `/pbx/route?format=hash&token=${TEST_PBX_TOKEN}x`,
      `/pbx/route?format=hash&token=${TEST_PBX_TOKEN}&token=${TEST_PBX_TOKEN}`,
      '/pbx/route?format=hash',
      `/pbx/routes?format=hash&token=${TEST_PBX_TOKEN}`,
      `/api/clients?format=hash&token=${TEST_PBX_TOKEN}`,
    ]) {
      expect(await served(fast, path), path).toBe('fastify');
    }
    // A wrong header is not rescued by a right query token: Fastify's guard reads the header first.
    expect(await served(fast, `/pbx/route?format=hash&token=${TEST_PBX_TOKEN}`, { headers: { 'x-switchboard-token': 'wrong' } })).toBe('fastify');
    expect(await served(fast, `/pbx/route?format=hash&token=${TEST_PBX_TOKEN}`, { method: 'POST' })).toBe('fastify');
    expect(asked).toHaveLength(0);
  });

  it('is off when the PBX must also be checked by address, signature or loopback', () => {
    expect(createRouteFastPath(loadConfig({ NODE_ENV: 'test', PBX_TOKEN: TEST_PBX_TOKEN, PBX_ALLOWED_IPS: '10.0.0.1' }), recorder, { signed: false })).toBeNull();
    expect(createRouteFastPath(config, recorder, { signed: true })).toBeNull();
    expect(createRouteFastPath(loadConfig({ NODE_ENV: 'development' }), recorder, { signed: false })).toBeNull();
  });
});
