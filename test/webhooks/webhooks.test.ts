import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySignature } from '../../src/webhooks/signing.js';
import { FakeAmiServer } from '../pbx/fake-ami-server.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { eventually, insertUser, startInstance, uniquePrefix, type TestInstance, FAKE_PBX_LOGIN, fakePbxEnv } from '../support/test-runtime.js';

// An existing CRM gets the call history through signed webhooks delivered by BullMQ.

interface Received {
  path: string;
  event: string;
  key: string;
  signature: string;
  body: string;
  status: number;
}

let database: TestDatabase;
let fake: FakeAmiServer;
let instance: TestInstance;
let receiver: http.Server;
let receiverUrl: string;
const received: Received[] = [];
let failFirst = true;

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const key = String(req.headers['idempotency-key']);
      // The first attempt at call.ended fails, to see the retry carry the same key.
      const status = failFirst && req.headers['x-switchboard-event'] === 'call.ended' && !received.some((r) => r.key === key) ? 503 : 200;
      received.push({ path: String(req.url), event: String(req.headers['x-switchboard-event']), key, signature: String(req.headers['x-switchboard-signature']), body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;

  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  await insertUser(database, { role: 'manager', name: 'anna', extension: '101' });
  instance = await startInstance(
    database,
    // No PUBLIC_URL: the links must name the port the instance really listens on (PORT=0 here).
    // The receivers listen on loopback: allowed here as a director would allow a LAN CRM.
    { ...fakePbxEnv(fake), WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8' },
    uniquePrefix(),
  );
  await eventually(async () => fake.sessions.length === 1, 'AMI login');
});

afterAll(async () => {
  await instance?.runtime.stop();
  await fake?.close();
  await database?.drop();
  receiver?.close();
});

describe('outbound webhooks', () => {
  let secret = '';

  it('lets only a director register an endpoint, and shows the secret once', async () => {
    const manager = await insertUser(database, { role: 'manager', name: 'm' });
    const director = await insertUser(database, { role: 'director', name: 'd' });
    const refused = await fetch(`${instance.baseUrl}/api/webhooks`, { method: 'POST', headers: { authorization: `Bearer ${manager.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: receiverUrl }) });
    expect(refused.status).toBe(403);
    const res = await fetch(`${instance.baseUrl}/api/webhooks`, { method: 'POST', headers: { authorization: `Bearer ${director.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: receiverUrl }) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { secret: string };
    secret = created.secret;
    expect(secret).toMatch(/^whsec_/);
    const list = await (await fetch(`${instance.baseUrl}/api/webhooks`, { headers: { authorization: `Bearer ${director.token}` } })).json();
    expect(JSON.stringify(list)).not.toContain(secret);
  });

  it('delivers call.started, call.answered and call.ended, signed, with the recording link', async () => {
    await fake.replay('a_inbound_answered');
    await eventually(async () => received.some((r) => r.event === 'call.ended' && r.status === 200), 'call.ended delivered after a retry', 10_000);
    const ok = received.filter((r) => r.status === 200);
    expect(ok.map((r) => r.event).sort()).toEqual(['call.answered', 'call.ended', 'call.started']);
    for (const r of ok) expect(verifySignature(secret, r.signature, r.body, Math.floor(Date.now() / 1000))).toBe(true);
    // A tampered body or another secret does not verify.
    expect(verifySignature(secret, ok[0]!.signature, ok[0]!.body.replace('inbound', 'outbound'), Math.floor(Date.now() / 1000))).toBe(false);
    expect(verifySignature('whsec_other', ok[0]!.signature, ok[0]!.body, Math.floor(Date.now() / 1000))).toBe(false);

    const ended = JSON.parse(ok.find((r) => r.event === 'call.ended')!.body);
    expect(ended).toMatchObject({ event: 'call.ended', call: { linkedid: '1795348783.2', direction: 'inbound', disposition: 'answered', talkSeconds: 3 } });
    expect(ended.call.recordingUrl).toBe(`${instance.baseUrl.replace('127.0.0.1', 'localhost')}/api/calls/${ended.call.id}/recording`);
    // The trunk sent the DID as 74951110001: every event carries both numbers in E.164.
    for (const r of ok) expect(JSON.parse(r.body).call, r.event).toMatchObject({ did: '+74951110001', number: '+79161234567' });
  });

  it('retries a failed delivery with the same idempotency key', () => {
    const attempts = received.filter((r) => r.event === 'call.ended');
    expect(attempts.map((r) => r.status)).toEqual([503, 200]);
    expect(new Set(attempts.map((r) => r.key)).size).toBe(1);
  });

  it('does not deliver twice when the PBX replays the same call', async () => {
    const before = received.length;
    failFirst = false;
    await fake.replay('a_inbound_answered');
    await instance.runtime.pipeline.drain();
    await new Promise((r) => setTimeout(r, 500));
    expect(received.length).toBe(before);
  });

  it('an endpoint registered right after a call gets the next call from its start (the cached list is read again)', async () => {
    // Call c fills the dispatcher's list of endpoints (cached for up to a second) …
    await fake.replay('c_inbound_busy');
    await eventually(async () => received.some((r) => r.event === 'call.ended' && JSON.parse(r.body).call.linkedid === '1795348842.18'), 'call c delivered');
    // … a second endpoint is registered through this instance's API, and call b2 comes at once.
    const director = await insertUser(database, { role: 'director', name: 'd2' });
    const res = await fetch(`${instance.baseUrl}/api/webhooks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${director.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${receiverUrl}-second` }),
    });
    expect(res.status).toBe(201);
    await fake.replay('b2_inbound_noanswer_fallback_answered');
    const second = await eventually(async () => {
      const got = received.filter((r) => r.path === '/hooks-second' && JSON.parse(r.body).call.linkedid === '1795348825.12').map((r) => r.event);
      // Deliveries run concurrently (BullMQ worker): they may arrive in any order.
      return ['call.started', 'call.answered', 'call.ended'].every((e) => got.includes(e)) ? got : null;
    }, 'call b2 at the second endpoint');
    expect(second.sort()).toEqual(['call.answered', 'call.ended', 'call.started']);
  });
});
