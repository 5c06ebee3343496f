import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postWebhook } from '../../src/webhooks/post-webhook.js';
import { createTargetPolicy, WebhookTargetError } from '../../src/webhooks/webhook-target.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

// Issue 15: webhook URLs to loopback, link-local and private addresses were accepted, so a
// director's token (or a stolen one) could make the worker POST to the metadata service or Redis.

let open: TestApp;
let lan: TestApp;
let receiver: http.Server;
let hits = 0;

beforeAll(async () => {
  open = await createTestApp();
  lan = await createTestApp({ WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8, 192.168.10.0/24' });
  receiver = http.createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(200).end();
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await open?.close();
  await lan?.close();
  receiver?.close();
});

const register = async (t: TestApp, url: string) => {
  const director = await createUser(t, { role: 'director' });
  return t.app.inject({ method: 'POST', url: '/api/webhooks', headers: bearer(director.token), payload: { url } });
};

describe('webhook targets', () => {
  it.each([
    'http://127.0.0.1:6379/',
    'http://localhost:8080/hooks',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.5/hooks',
    'http://192.168.1.1/hooks',
    'http://100.64.0.1/hooks',
    'http://0.0.0.0:3000/',
    'http://[::1]:3000/',
    'http://[::ffff:127.0.0.1]/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://2130706433/', // 127.0.0.1 as one decimal number
  ])('refuses %s by default', async (url) => {
    const res = await register(open, url);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION');
  });

  it('accepts a public address, and a private range a director allowed', async () => {
    expect((await register(open, 'https://93.184.215.14/hooks')).statusCode).toBe(201);
    expect((await register(lan, 'http://127.0.0.1:9/hooks')).statusCode).toBe(201);
    expect((await register(lan, 'http://192.168.10.20/hooks')).statusCode).toBe(201);
    expect((await register(lan, 'http://192.168.11.20/hooks')).statusCode).toBe(400);
  });

  it('checks the address again when it delivers, inside the connection (DNS rebinding)', async () => {
    // `localhost` stands for a name that resolved to a public address when it was registered.
    const url = `http://localhost:${(receiver.address() as AddressInfo).port}/hooks`;
    await expect(postWebhook(url, {}, '{}', createTargetPolicy(''), 2_000)).rejects.toBeInstanceOf(WebhookTargetError);
    await expect(postWebhook(url.replace('localhost', '127.0.0.1'), {}, '{}', createTargetPolicy(''), 2_000)).rejects.toBeInstanceOf(WebhookTargetError);
    expect(hits).toBe(0);
    expect(await postWebhook(url, {}, '{}', createTargetPolicy('127.0.0.0/8,::1/128'), 2_000)).toBe(200);
    expect(hits).toBe(1);
  });
});
