import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, createUser, TEST_PASSWORD, type TestApp } from '../support/test-app.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

const login = (loginName: string, password = TEST_PASSWORD) =>
  t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: loginName, password } });
const me = (token: string) => t.app.inject({ method: 'GET', url: '/api/auth/me', headers: bearer(token) });

describe('POST /api/auth/login', () => {
  it('returns a token and the user, whatever the case of the login', async () => {
    const u = await createUser(t, { role: 'director' });
    const res = await login(u.login.toUpperCase());
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.token).toEqual(expect.any(String));
    expect(new Date(body.expiresAt).getTime()).toBeGreaterThan(Date.now());
    expect(body.user).toEqual({ id: u.id, login: u.login, name: u.login, role: 'director', departmentId: null, managerId: null });
    expect(body.user).not.toHaveProperty('passwordHash');
  });

  it('refuses a wrong password and an unknown login alike', async () => {
    const u = await createUser(t, { role: 'director' });
    const wrong = await login(u.login, 'not the password');
    const unknown = await login('nobody-here');
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json().message).toBe(unknown.json().message);
  });

  it('answers 400 naming the field when the body is incomplete', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: 'x' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/password/);
  });
});

describe('GET /api/auth/me and POST /api/auth/logout', () => {
  it('shows the signed-in user until the token is revoked', async () => {
    const u = await createUser(t, { role: 'director' });
    const before = await me(u.token);
    expect(before.statusCode).toBe(200);
    expect(before.json()).toMatchObject({ id: u.id, login: u.login, role: 'director' });

    const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(u.token) });
    expect(out.statusCode).toBe(204);
    expect((await me(u.token)).statusCode).toBe(401);
  });

  it('logging out one session leaves the others working', async () => {
    const u = await createUser(t, { role: 'director' });
    const second = (await login(u.login)).json().token as string;
    await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: bearer(u.token) });
    expect((await me(second)).statusCode).toBe(200);
  });

  it('answers 401 without a token or with a made-up one', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/auth/me' })).statusCode).toBe(401);
    expect((await me('made-up-token')).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'POST', url: '/api/auth/logout' })).statusCode).toBe(401);
  });
});

describe('disabling a user', () => {
  it('ends their sessions and stops them from signing in again', async () => {
    const director = await createUser(t, { role: 'director' });
    const victim = await createUser(t, { role: 'director' });
    const res = await t.app.inject({ method: 'PATCH', url: `/api/users/${victim.id}`, headers: bearer(director.token), payload: { active: false } });
    expect(res.statusCode).toBe(200);
    expect(res.json().active).toBe(false);

    expect((await me(victim.token)).statusCode).toBe(401);
    expect((await login(victim.login)).statusCode).toBe(401);

    // Enabling again lets them sign in, but the old token stays revoked.
    await t.app.inject({ method: 'PATCH', url: `/api/users/${victim.id}`, headers: bearer(director.token), payload: { active: true } });
    expect((await login(victim.login)).statusCode).toBe(200);
    expect((await me(victim.token)).statusCode).toBe(401);
  });
});

describe('changing a password', () => {
  it('revokes the old sessions; the new password signs in, the old one does not', async () => {
    const u = await createUser(t, { role: 'director' });
    const res = await t.app.inject({ method: 'PATCH', url: `/api/users/${u.id}`, headers: bearer(u.token), payload: { password: 'a brand new secret' } });
    expect(res.statusCode).toBe(200);
    expect((await me(u.token)).statusCode).toBe(401);
    expect((await login(u.login)).statusCode).toBe(401);
    expect((await login(u.login, 'a brand new secret')).statusCode).toBe(200);
  });
});
