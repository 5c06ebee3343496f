import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { clientNotes as notes } from '../../src/notes/notes.table.js';
import { reminders } from '../../src/reminders/reminders.table.js';
import { scenarioChunks } from '../pbx/fake-ami-server.js';
import { linkedidOf } from '../support/recorded-calls.js';
import { eventually } from '../support/test-runtime.js';
import { PASSWORD, startWorld, type World } from './world.js';

// The live side of the console in Chromium: a recorded call replayed by the fake PBX pops the
// card, a click on a number and a tel: link reach the PBX as an Originate, a reminder pops.
let w: World;
beforeAll(async () => {
  w = await startWorld();
  // The PBX accepts every Originate (the call's own events are not needed here).
  w.fake.onAction('Originate', (action, conn) => conn.respond(action, 'Success', { Message: 'Originate successfully queued' }));
}, 60_000);
afterAll(() => w?.close());

/** The Originates the fake PBX received since `from`, for a number. */
const originatesTo = (number: string, from: number) => w.fake.actions.slice(from).filter((a) => a.name.toLowerCase() === 'originate' && a.headers.exten === number);

describe('the live panel', () => {
  it('pops the card of a real recorded call within 100 ms of its frame, follows answered and ended, and saves the notes typed during the call', async () => {
    const page = await w.open(w.people.anna);
    const linkedid = linkedidOf(scenarioChunks('a_inbound_answered'));
    const replay = w.replayInbound('a_inbound_answered');
    const pop = page.locator(`[data-testid=pop][data-linkedid="${linkedid}"]`);
    await pop.waitFor({ timeout: 15_000 });
    expect(await pop.locator('.client-name').textContent()).toBe('Romashka');
    // The PBX's caller ID has no `+`; the pop shows it grouped as an international number.
    await pop.locator('a.phone', { hasText: '+7 916 123-45-67' }).first().waitFor();
    // The pop-to-paint time, measured in the page from the frame's arrival to the frame after the card's paint.
    const popMs = await page.evaluate(async (id) => {
      for (let i = 0; i < 100; i++) {
        const [m] = performance.getEntriesByName(`pop:${id}`, 'measure');
        if (m) return m.duration;
        await new Promise((r) => setTimeout(r, 10));
      }
      return null;
    }, linkedid);
    expect(popMs).not.toBeNull();
    expect(popMs!).toBeLessThanOrEqual(100);
    console.log(`pop-to-paint: ${popMs!.toFixed(1)} ms`);

    await page.locator(`[data-testid=pop][data-linkedid="${linkedid}"].answered`).waitFor({ timeout: 15_000 });
    await pop.locator('textarea').fill('Wants the price list by Friday');
    await pop.locator('button', { hasText: 'Save note to the client' }).click();
    await eventually(async () => (await w.database.db.select().from(notes).where(and(eq(notes.clientId, w.clientIds.romashka), eq(notes.text, 'Wants the price list by Friday')))).length === 1, 'the note stored for Romashka');
    await replay;
    await page.locator(`[data-testid=pop][data-linkedid="${linkedid}"].ended`).waitFor({ timeout: 15_000 });
    await page.context().close();
  });
});

describe('click-to-call', () => {
  it("a click on a number in the client list sends an Originate that rings the user's phone, then the client", async () => {
    const page = await w.open(w.people.anna, '#/clients');
    const from = w.fake.actions.length;
    const row = page.locator('[data-testid=client-row]', { hasText: 'Romashka' });
    await row.locator('a.phone').first().click();
    const action = await eventually(async () => originatesTo('79161234567', from)[0], 'the Originate at the fake PBX');
    expect(action.headers.channel).toBe('Local/101@fake-phones');
    await page.context().close();
  });

  it('registers itself as the tel: handler with no token in the URL, and a tel: link opened in another page starts a call', async () => {
    const context = await w.browser.newContext({ locale: 'en-US' });
    await context.addInitScript(`navigator.registerProtocolHandler = (scheme, url) => { window.__registered = [scheme, url]; };`);
    const page = await w.open(w.people.anna, '#/live', { context });
    await page.click('button[title="Open tel: links with Switchboard"]');
    const [scheme, template] = (await page.evaluate('window.__registered')) as [string, string];
    expect(scheme).toBe('tel');
    expect(template).toBe(`${w.instance.baseUrl}/c2c?number=%s`);
    expect(template).not.toContain(w.people.anna.token);

    // What the browser does with a tel: link in any other page: the template with the link's URL.
    const other = await context.newPage();
    await other.setContent('<a href="tel:+7 903 111-22-33">Lutik</a>');
    const href = await other.getAttribute('a', 'href');
    const from = w.fake.actions.length;
    await other.goto(template.replace('%s', encodeURIComponent(href!)));
    await other.locator('button', { hasText: 'Call' }).click();
    const action = await eventually(async () => originatesTo('79031112233', from)[0], 'the Originate for the tel: link');
    expect(action.headers.channel).toBe('Local/101@fake-phones');
    await context.close();
  });

  it('the tel: handler survives an expired sign-in: it asks to sign in, then places the call', async () => {
    const context = await w.browser.newContext({ locale: 'en-US' });
    const page = await context.newPage();
    const from = w.fake.actions.length;
    await page.goto(`${w.instance.baseUrl}/c2c?number=${encodeURIComponent('tel:+79161234567')}`);
    await page.fill('input[name=login]', w.people.boris.login);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    await page.locator('button', { hasText: 'Call' }).click();
    const action = await eventually(async () => originatesTo('79161234567', from)[0], 'the Originate after signing in');
    expect(action.headers.channel).toBe('Local/201@fake-phones');
    await context.close();
  });
});

describe('reminders', () => {
  it('pops a reminder at its time; "call" dials the client, "done" closes it in the service', async () => {
    const page = await w.open(w.people.anna, '#/reminders');
    const dueAt = new Date(Date.now() + 1_500).toISOString();
    const res = await fetch(`${w.instance.baseUrl}/api/reminders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w.people.anna.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ clientId: w.clientIds.romashka, dueAt, note: 'Send the contract' }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: number };
    await page.locator('[data-testid=reminder-row]', { hasText: 'Send the contract' }).waitFor();
    const due = page.locator('[data-testid=reminder-due]', { hasText: 'Send the contract' });
    await due.waitFor({ timeout: 10_000 });
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(dueAt));
    const from = w.fake.actions.length;
    await due.locator('button', { hasText: 'Call' }).click();
    await eventually(async () => originatesTo('79161234567', from)[0], "the Originate to the reminder's client");
    await due.locator('button', { hasText: 'Done' }).click();
    await due.waitFor({ state: 'detached' });
    await eventually(async () => (await w.database.db.select().from(reminders).where(eq(reminders.id, id)))[0]?.status === 'done', 'the reminder done');
    await page.context().close();
  });
});

describe('a callback', () => {
  it('says how many calls were missed and when, in the reader\'s language and time zone', async () => {
    const lastMissedAt = new Date('2026-03-05T09:07:00Z');
    await w.database.db.insert(reminders).values({
      kind: 'callback', userId: w.people.anna.id, clientId: w.clientIds.romashka, phone: '+79161234567',
      dueAt: new Date(Date.now() + 3_600_000), missedCalls: 3, lastMissedAt,
    });
    const page = await w.open(w.people.anna, '#/reminders', { locale: 'ru-RU', context: await w.browser.newContext({ locale: 'ru-RU', timezoneId: 'Asia/Yekaterinburg' }) });
    const row = page.locator('[data-testid=reminder-row]', { hasText: 'Пропущенных звонков: 3' });
    await row.waitFor();
    // 09:07 UTC is 14:07 in Yekaterinburg; the kind is in words.
    expect(await row.innerText()).toContain('14:07');
    expect(await row.innerText()).toContain('Перезвонить');
    await page.context().close();
  });
});

describe('an unknown caller', () => {
  it('alerts a hidden tab, offers "create client" with the number filled in, and the card shows the new client', async () => {
    // Nobody has the caller's number any more: the pop says so.
    await w.database.db.delete(clientPhones).where(eq(clientPhones.phone, '+79161234567'));
    // A tab in the background, with notifications allowed: the browser's Notification is recorded.
    const context = await w.browser.newContext({ locale: 'en-US' });
    await context.addInitScript(`
      Object.defineProperty(document, 'hidden', { get: () => true });
      window.__notifications = [];
      window.Notification = class { static permission = 'granted'; static requestPermission() { return Promise.resolve('granted'); }
        constructor(title, opts) { window.__notifications.push({ title, body: opts.body }); } close() {} };`);
    const page = await w.open(w.people.boris, '#/live', { context });
    const linkedid = linkedidOf(scenarioChunks('b2_inbound_noanswer_fallback_answered'));
    const replay = w.replayInbound('b2_inbound_noanswer_fallback_answered');
    const pop = page.locator(`[data-testid=pop][data-linkedid="${linkedid}"]`);
    await pop.locator('form.new-client').waitFor({ timeout: 15_000 });
    expect(await page.evaluate('window.__notifications')).toEqual([{ title: 'Incoming call', body: '79161234567' }]);
    // As the PBX showed it; the service stores it in E.164.
    expect(await pop.locator('input[name=clientPhone]').inputValue()).toBe('79161234567');
    await pop.locator('input[name=clientName]').fill('Vasilek');
    await pop.locator('button', { hasText: 'Create client' }).click();
    await pop.locator('.client-name', { hasText: 'Vasilek' }).waitFor();
    const [created] = await w.database.db.select().from(clients).where(eq(clients.name, 'Vasilek'));
    const phones = await w.database.db.select().from(clientPhones).where(eq(clientPhones.clientId, created!.id));
    expect(phones.map((p) => p.phone)).toEqual(['+79161234567']);
    await replay;
    await page.context().close();
  });
});
