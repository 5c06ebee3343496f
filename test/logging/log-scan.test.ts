import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { departments } from '../../src/departments/departments.table.js';
import { createLogger } from '../../src/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { FakeAmiServer } from '../pbx/fake-ami-server.js';
import { TEST_PBX_TOKEN } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { eventually, FAKE_PBX_LOGIN, fakePbxEnv, insertUser, uniquePrefix } from '../support/test-runtime.js';

// Issue 15: a run through the main routes and the fake PBX, its log captured at info and above,
// must hold no password, argon2 hash, token, secret or full phone number (numbers are masked
// like +7916***4567).

const CALLER = '79161234567'; // the caller of the a_inbound_answered transcript
const MOBILE = '+79035556677';
const CLIENT_PHONE = '+79267778899';
const C2C_NUMBER = '+79098887766';
const NEW_PASSWORD = 'new-user-password-42';
const WRONG_PASSWORD = 'wrong-password-for-admin';

let lines = '';
let database: TestDatabase;
let fake: FakeAmiServer;
let runtime: Runtime;
let base: string;
let receiver: http.Server;
const secrets: string[] = [TEST_PBX_TOKEN, NEW_PASSWORD, WRONG_PASSWORD, FAKE_PBX_LOGIN.secret];
let delivered = 0;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      delivered++;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  fake.onAction('Originate', (action, conn) => conn.respond(action, 'Success', { Message: 'Originate successfully queued' }));
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines += chunk.toString();
      done();
    },
  });
  const config = loadConfig({
    NODE_ENV: 'test',
    PBX_TOKEN: TEST_PBX_TOKEN,
    LOG_LEVEL: 'info',
    REDIS_URL: inject('redisUrl'),
    REDIS_PREFIX: uniquePrefix(),
    WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8',
    ...fakePbxEnv(fake),
  });
  runtime = await createRuntime({ config, logger: createLogger('info', sink), database, leaderTtlMs: 3_000, amiBackoffMs: 50, webhookBackoffMs: 100 });
  await runtime.app.listen({ host: '127.0.0.1', port: 0 });
  await runtime.start();
  base = `http://127.0.0.1:${(runtime.app.server.address() as AddressInfo).port}`;
  await eventually(async () => fake.sessions.length === 1, 'AMI login');
});

afterAll(async () => {
  await runtime?.stop();
  await fake?.close();
  await database?.drop();
  receiver?.close();
});

const call = async (method: string, path: string, token?: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { 'content-type': 'application/json' }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
};

describe('the log of a working day', () => {
  it('holds no password, hash, token, secret or full phone number', async () => {
    const director = await insertUser(database, { role: 'director', name: 'boss' });
    const [sales] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'dial', lineTarget: 'Local/200@fake-phones' }).returning();
    const anna = await insertUser(database, { role: 'manager', name: 'anna', extension: '101', departmentId: sales!.id });
    secrets.push(director.token, anna.token);

    // Sign-in: right and wrong.
    const created = await call('POST', '/api/users', director.token, { login: 'petr', name: 'Petr', password: NEW_PASSWORD, role: 'manager', departmentId: sales!.id, mobile: MOBILE });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    expect((await call('POST', '/api/auth/login', undefined, { login: 'petr', password: WRONG_PASSWORD })).status).toBe(401);
    const signedIn = await call('POST', '/api/auth/login', undefined, { login: 'petr', password: NEW_PASSWORD });
    expect(signedIn.status).toBe(200);
    secrets.push(signedIn.json.token);
    const [row] = await database.pool.query<{ password_hash: string }>("select password_hash from users where login = 'petr'").then((r) => r.rows);
    secrets.push(row!.password_hash);

    // Clients and the ring: the caller's number in every URL, the token in the query, once encoded.
    expect((await call('POST', '/api/clients', anna.token, { name: 'Romashka', phones: [CLIENT_PHONE, `+${CALLER}`] })).status).toBe(201);
    for (const q of [`token=${TEST_PBX_TOKEN}`, `%74oken=${TEST_PBX_TOKEN}`]) {
      const res = await fetch(`${base}/pbx/route?caller=${CALLER}&did=74951110001&uniqueid=1795348783.2&linkedid=1795348783.2&step=1&${q}`);
      expect(res.status).toBe(200);
    }
    expect((await fetch(`${base}/pbx/route?caller=8%20916%20123-45-67&token=${TEST_PBX_TOKEN}`)).status).toBe(200);
    expect((await call('GET', `/api/clients?q=${encodeURIComponent(CLIENT_PHONE)}&token=${anna.token}`)).status).toBe(200);

    // Webhooks with secrets, delivered for a replayed call.
    const hook = await call('POST', '/api/webhooks', director.token, { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks` });
    expect(hook.status).toBe(201);
    secrets.push(hook.json.secret);
    await fake.replay('a_inbound_answered');
    await eventually(async () => delivered >= 3, 'three webhook deliveries', 10_000);

    // Click-to-call.
    expect((await call('POST', '/api/calls/originate', anna.token, { to: C2C_NUMBER })).status).toBeLessThan(300);

    // Forced database errors whose parameters hold a hash, a mobile number and a webhook secret.
    await database.pool.query(`create function sb_fail() returns trigger language plpgsql as $$ begin raise exception 'forced failure'; end $$`);
    await database.pool.query('create trigger sb_fail_users before insert on users for each row execute function sb_fail()');
    await database.pool.query('create trigger sb_fail_hooks before insert on webhook_endpoints for each row execute function sb_fail()');
    const olga = await call('POST', '/api/users', director.token, { login: 'olga', name: 'Olga', password: NEW_PASSWORD, role: 'manager', departmentId: sales!.id, mobile: MOBILE });
    expect(olga.status, JSON.stringify(olga.json)).toBe(500);
    expect((await call('POST', '/api/webhooks', director.token, { url: 'https://93.184.215.14/hooks' })).status).toBe(500);
    await new Promise((r) => setTimeout(r, 200));
    if (process.env.LOG_SCAN_DUMP) (await import('node:fs')).writeFileSync(process.env.LOG_SCAN_DUMP, lines);

    expect(lines).toContain('forced failure'); // the errors were logged…
    expect(lines).toContain('/pbx/route');
    expect(lines).toContain('7916***4567'); // …and the caller shows, masked
    for (const secret of secrets) expect(lines, 'a secret in the log').not.toContain(secret);
    expect(lines).not.toMatch(/\$argon2/);
    expect(lines).not.toMatch(/whsec_/);
    // No run of 10+ digits that is a number we used, in any common spelling.
    for (const n of [CALLER, MOBILE, CLIENT_PHONE, C2C_NUMBER]) {
      const digits = n.replace(/\D/g, '');
      expect(lines, `${n} in the log`).not.toContain(digits);
      expect(lines, `${n} in the log`).not.toContain(digits.slice(1));
    }
    expect(lines).not.toContain('123-45-67');
    expect(lines).not.toContain('123 45 67');
  });
});
