import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startWorld, type World } from './world.js';

// The console as served by the service, in a real Chromium: serving, sign-in, the language, the
// live channel's state.
let w: World;
beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(() => w?.close());

describe('serving the console', () => {
  it('answers / with the console, its assets cached for good, and a deep path with the same page', async () => {
    const root = await fetch(`${w.instance.baseUrl}/`);
    expect(root.status).toBe(200);
    const html = await root.text();
    expect(html).toContain('<div id="app">');
    const asset = /src="(\/assets\/index-[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${w.instance.baseUrl}${asset}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('cache-control')).toContain('immutable');
    const deep = await fetch(`${w.instance.baseUrl}/clients/12`);
    expect(deep.status).toBe(200);
    expect(await deep.text()).toBe(html);
  });

  it('never shadows the service: unknown API paths stay JSON 404s, and a missing asset is a 404', async () => {
    for (const path of ['/api/nothing-here', '/pbx/nothing', '/c2c/x', '/docs/nothing', '/metrics/x', '/assets/missing.js']) {
      const res = await fetch(`${w.instance.baseUrl}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type'), path).toMatch(/application\/json/);
    }
    const health = await fetch(`${w.instance.baseUrl}/health`);
    expect(health.headers.get('content-type')).toMatch(/application\/json/);
  });
});

describe('in the browser', () => {
  async function signIn(page: Page, login: string, password: string) {
    await page.fill('input[name=login]', login);
    await page.fill('input[name=password]', password);
    await page.click('button[type=submit]');
  }

  it('signs in with login and password, shows who is signed in and the live channel online', async () => {
    const context = await w.browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${w.instance.baseUrl}/`);
    await signIn(page, w.people.anna.login, 'wrong password');
    await expect.poll(() => page.locator('[role=alert]').textContent()).toContain('wrong login or password');
    await signIn(page, w.people.anna.login, PASSWORD);
    await page.locator('[data-testid=me]').waitFor();
    expect(await page.textContent('[data-testid=me]')).toBe('Anna');
    await page.locator('[data-testid=live-state][data-state=online]').waitFor();
    // The phone's own state and the presence switch, from the presence.snapshot frame.
    await expect.poll(() => page.inputValue('select[name=presence]')).toBe('available');
    await context.close();
  });

  it('speaks Russian when the browser prefers it, and switches to English and back', async () => {
    const page = await w.open(w.people.anna, '#/live', { locale: 'ru-RU' });
    expect(await page.textContent('.top nav')).toContain('Клиенты');
    expect(await page.getAttribute('html', 'lang')).toBe('ru');
    await page.selectOption('select[name=lang]', 'en');
    expect(await page.textContent('.top nav')).toContain('Clients');
    // The choice is kept over the browser's preference.
    await page.reload();
    await page.locator('.top nav').waitFor();
    expect(await page.textContent('.top nav')).toContain('Clients');
    await page.selectOption('select[name=lang]', 'ru');
    expect(await page.textContent('[data-testid=live-state]')).toBe('На связи');
    await page.context().close();
  });

  it('changes presence through the switch, and the service stores it', async () => {
    const page = await w.open(w.people.boris);
    await expect.poll(() => page.inputValue('select[name=presence]')).toBe('available');
    await page.selectOption('select[name=presence]', 'dnd');
    await expect.poll(async () => ((await (await fetch(`${w.instance.baseUrl}/api/users/${w.people.boris.id}`, { headers: { authorization: `Bearer ${w.people.director.token}` } })).json()) as { presence: string }).presence).toBe('dnd');
    await page.selectOption('select[name=presence]', 'available');
    await page.context().close();
  });

  it('shows the live channel offline when the service drops it, and reconnects by itself', async () => {
    const page = await w.open(w.people.anna);
    for (const c of w.instance.runtime.hub.connections()) c.socket.close(1012, 'restart');
    await page.locator('[data-testid=live-state][data-state=offline]').waitFor({ timeout: 2_000 });
    await page.locator('[data-testid=live-state][data-state=online]').waitFor({ timeout: 10_000 });
    expect(w.instance.runtime.hub.size).toBeGreaterThan(0);
    await page.context().close();
  });

  it('a session the service no longer accepts sends the user to sign in again', async () => {
    const login = await fetch(`${w.instance.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ login: w.people.curator.login, password: PASSWORD }) });
    const { token } = (await login.json()) as { token: string };
    const page = await w.open({ ...w.people.curator, token }, '#/clients');
    // Revoked elsewhere (signed out on another device, or expired).
    await fetch(`${w.instance.baseUrl}/api/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    // The next request is refused (or the live channel is closed first): either way, sign in again.
    await page.evaluate('location.hash = "#/deals"');
    await page.locator('form.signin').waitFor();
    expect(await page.textContent('form.signin')).toContain('Your session has ended');
    await page.context().close();
  });
});
