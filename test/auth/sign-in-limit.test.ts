import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, createUser, TEST_PASSWORD, type TestApp } from '../support/test-app.js';

// Issue 15: 1,000 wrong passwords for one login from one address were all answered 401, each
// costing an argon2 verification (~0.28 s of CPU); a 16-parallel flood slowed /pbx/route 6×.

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ SIGNIN_ADDRESS_MAX_FAILURES: '12', SIGNIN_ACCOUNT_MAX_FAILURES: '9' });
});
afterAll(() => t.close());

const login = (name: string, password: string, from = '203.0.113.7') =>
  t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: name, password }, remoteAddress: from });

describe('sign-in limit', () => {
  it('answers 429 with Retry-After after a few failures from one address, before checking the password', async () => {
    const u = await createUser(t, { role: 'manager' });
    for (let i = 0; i < 5; i++) expect((await login(u.login, 'wrong')).statusCode).toBe(401);
    const limited = await login(u.login, 'wrong');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Even the right password is refused while locked: the refusal comes before argon2.
    const started = performance.now();
    expect((await login(u.login, TEST_PASSWORD)).statusCode).toBe(429);
    expect(performance.now() - started).toBeLessThan(40);
  });

  it('does not lock the real user out: another address signs in, and the lock ends after its back-off', async () => {
    const u = await createUser(t, { role: 'manager' });
    for (let i = 0; i < 6; i++) await login(u.login, 'wrong', '198.51.100.9');
    expect((await login(u.login, TEST_PASSWORD, '198.51.100.9')).statusCode).toBe(429);
    expect((await login(u.login, TEST_PASSWORD, '192.0.2.44')).statusCode).toBe(200);
    const wait = Number((await login(u.login, 'x', '198.51.100.9')).headers['retry-after']);
    expect(wait).toBeLessThanOrEqual(2); // 1 s after the 5th failure, 2 s after the 6th
    await new Promise((r) => setTimeout(r, wait * 1000 + 100));
    expect((await login(u.login, TEST_PASSWORD, '198.51.100.9')).statusCode).toBe(200);
  });

  it('caps one address trying many logins', async () => {
    for (let i = 0; i < 12; i++) expect((await login(`nobody${i}`, 'wrong', '203.0.113.99')).statusCode).toBe(401);
    const limited = await login('nobody-else', 'wrong', '203.0.113.99');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(60); // the rest of the 15 minutes
  });

  it('caps one login tried from many addresses with short locks only', async () => {
    const u = await createUser(t, { role: 'manager' });
    for (let i = 0; i < 9; i++) expect((await login(u.login, 'wrong', `10.9.0.${i + 1}`)).statusCode).toBe(401);
    const limited = await login(u.login, TEST_PASSWORD, '10.9.1.1');
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
  });

  it('bounds argon2 verifications running at once: a flood past the gate gets 503 with Retry-After', async () => {
    const flood = await Promise.all(Array.from({ length: 40 }, (_, i) => login(`flood${i}`, 'wrong', `10.8.${i}.1`)));
    const codes = flood.map((r) => r.statusCode);
    // SIGNIN_CONCURRENCY=1 runs one, 16 wait; the rest are refused at once.
    expect(codes.filter((c) => c === 401).length).toBeLessThanOrEqual(17);
    expect(codes.filter((c) => c === 503).length).toBeGreaterThanOrEqual(23);
    expect(flood.find((r) => r.statusCode === 503)!.headers['retry-after']).toBe('1');
  });
});
