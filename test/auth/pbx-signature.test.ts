import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPbxRequest } from '../../src/auth/pbx-signature.js';
import { createTestApp, TEST_PBX_TOKEN, type TestApp } from '../support/test-app.js';

// PBX_HMAC_SECRET: /pbx/* requests carry a signed timestamp, accepted once within ±300 s.

const SECRET = 'hmac-secret-0123456789abcdef0123456789';
let t: TestApp;
let plain: TestApp;
beforeAll(async () => {
  t = await createTestApp({ PBX_HMAC_SECRET: SECRET });
  plain = await createTestApp();
});
afterAll(async () => {
  await t?.close();
  await plain?.close();
});

let seq = 0;
const target = () => `/pbx/route?caller=79161234567&did=74951110001&uniqueid=1795348783.${++seq}&step=1`;
const ask = (app: TestApp, url: string, headers: Record<string, string> = {}) =>
  app.app.inject({ method: 'GET', url, headers: { 'x-switchboard-token': TEST_PBX_TOKEN, ...headers } });
const signed = (url: string, timestamp = Math.floor(Date.now() / 1000), signedUrl = url) => ({
  'x-switchboard-timestamp': String(timestamp),
  'x-switchboard-signature': signPbxRequest(SECRET, timestamp, 'GET', signedUrl),
});

describe('PBX request signatures', () => {
  it('accepts a signed, fresh request', async () => {
    const url = target();
    expect((await ask(t, url, signed(url))).statusCode).toBe(200);
  });

  it('refuses a request without a signature, with a wrong one, or signed for another URL', async () => {
    const url = target();
    expect((await ask(t, url)).statusCode).toBe(401);
    expect((await ask(t, url, { ...signed(url), 'x-switchboard-signature': `sha256=${'0'.repeat(64)}` })).statusCode).toBe(401);
    expect((await ask(t, url.replace('step=1', 'step=2'), signed(url))).statusCode).toBe(401);
  });

  it('refuses a timestamp outside ±300 s', async () => {
    const url = target();
    const old = Math.floor(Date.now() / 1000) - 301;
    const res = await ask(t, url, signed(url, old));
    expect(res.statusCode).toBe(401);
    expect(res.json().message).toMatch(/expired/);
  });

  it('refuses a replayed request', async () => {
    const url = target();
    const headers = signed(url);
    expect((await ask(t, url, headers)).statusCode).toBe(200);
    const again = await ask(t, url, headers);
    expect(again.statusCode).toBe(401);
    expect(again.json().message).toMatch(/already used/);
  });

  it('still needs the token, and is off without PBX_HMAC_SECRET', async () => {
    const url = target();
    expect((await t.app.inject({ method: 'GET', url, headers: signed(url) })).statusCode).toBe(401);
    expect((await ask(plain, target())).statusCode).toBe(200);
  });
});
