import { eq } from 'drizzle-orm';
import type { Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deals } from '../../src/deals/deals.table.js';
import { leads } from '../../src/intake/intake.table.js';
import { eventually } from '../support/test-runtime.js';
import { addCall, startWorld, type World } from './world.js';

// Clients, deals, leads and recordings in Chromium, and the one rule behind every screen: a
// manager sees their own clients only (the service decides; the console shows what it gets).
let w: World;
const ids = { annaDeal: 0, borisDeal: 0, annaCall: 0, borisCall: 0 };
/** The <audio> element, as much of it as the tests read (this file is compiled without the DOM's types). */
type Media = { duration: number; currentTime: number; play(): Promise<void> };

beforeAll(async () => {
  w = await startWorld();
  const [a] = await w.database.db.insert(deals).values({ clientId: w.clientIds.romashka, title: 'Pallets for Romashka', ownerId: w.people.anna.id, amount: '120000', important: true }).returning({ id: deals.id });
  const [b] = await w.database.db.insert(deals).values({ clientId: w.clientIds.lutik, title: 'Boxes for Lutik', ownerId: w.people.boris.id }).returning({ id: deals.id });
  ids.annaDeal = a!.id;
  ids.borisDeal = b!.id;
  // Five minutes (4.8 MB): long enough that the browser fetches a seek's bytes with a Range of their own.
  ids.annaCall = await addCall(w, w.clientIds.romashka, w.people.anna.id, '+79161234567', 300);
  ids.borisCall = await addCall(w, w.clientIds.lutik, w.people.boris.id, '+79031112233');
}, 60_000);
afterAll(() => w?.close());

const text = (page: Page) => page.locator('main').innerText();

describe("a manager never sees another manager's client", () => {
  it('in the client list, the card, the deals board, the calls and the reminders', async () => {
    const page = await w.open(w.people.anna, '#/clients');
    await page.locator('[data-testid=client-row]', { hasText: 'Romashka' }).waitFor();
    expect(await text(page)).not.toContain('Lutik');
    // Searching for it by name finds nothing.
    await page.fill('input[name=q]', 'Lutik');
    await page.locator('text=No clients found.').waitFor();

    await page.goto(`${w.instance.baseUrl}/#/clients/${w.clientIds.lutik}`);
    await page.locator('main .error').waitFor();
    expect(await text(page)).not.toContain('Lutik');

    await page.goto(`${w.instance.baseUrl}/#/deals`);
    await page.locator('.deal', { hasText: 'Pallets for Romashka' }).waitFor();
    expect(await text(page)).not.toContain('Boxes for Lutik');

    await page.goto(`${w.instance.baseUrl}/#/calls`);
    await page.locator('[data-testid=call-row]').first().waitFor();
    expect(await page.locator('[data-testid=call-row]').count()).toBe(1);
    expect(await text(page)).not.toContain('903');

    await page.goto(`${w.instance.baseUrl}/#/reminders`);
    await page.locator('h2', { hasText: 'Reminders' }).waitFor();
    expect(await text(page)).not.toContain('Lutik');
    // Screens of curators and directors are not offered.
    expect(await page.locator('.top nav').innerText()).not.toMatch(/Leads|Admin/);
    await page.context().close();
  });

  it("names the list's filters and a note's kind in the reader's language", async () => {
    const page = await w.open(w.people.anna, '#/clients', { locale: 'ru-RU' });
    await page.locator('[data-testid=client-row]', { hasText: 'Romashka' }).waitFor();
    expect(await page.locator('select[name=temperature] option').allInnerTexts()).toEqual(['все', 'холодный', 'тёплый', 'горячий']);
    expect(await page.locator('select[name=status] option').first().innerText()).toBe('все');
    // A note on the card says its kind in words too.
    await page.goto(`${w.instance.baseUrl}/#/clients/${w.clientIds.romashka}`);
    await page.click('button:text-is("Заметки")');
    await page.fill('textarea[name=note]', 'Перезвонить после обеда');
    await page.click('button:text-is("Добавить заметку")');
    await page.locator('p', { hasText: 'Перезвонить после обеда' }).locator('.muted', { hasText: '· заметка' }).waitFor();
    await page.context().close();
  });

  it("while the director sees both managers' clients", async () => {
    const page = await w.open(w.people.director, '#/clients');
    await page.locator('[data-testid=client-row]', { hasText: 'Lutik' }).waitFor();
    await page.locator('[data-testid=client-row]', { hasText: 'Romashka' }).waitFor();
    await page.context().close();
  });
});

describe('the client card', () => {
  it('shows the contacts, deals, notes and calls of the client, and its history', async () => {
    const page = await w.open(w.people.anna, `#/clients/${w.clientIds.romashka}`);
    await page.locator('[data-testid=client-card] h2', { hasText: 'Romashka' }).waitFor();
    // Shown grouped for reading (the formatter loads after the first paint); the link keeps the stored number.
    const phone = page.locator('[data-testid=client-card] a.phone[data-phone="+79161234567"]');
    await phone.filter({ hasText: '+7 916 123-45-67' }).waitFor();
    expect(await phone.getAttribute('href')).toBe('tel:+79161234567');
    await page.click('button:text-is("Deals")');
    await page.locator('td', { hasText: 'Pallets for Romashka' }).waitFor();
    await page.click('button:text-is("Notes")');
    await page.fill('textarea[name=note]', 'Prefers calls after 14:00');
    await page.click('button:text-is("Add note")');
    await page.locator('p', { hasText: 'Prefers calls after 14:00' }).waitFor();
    await page.click('button:text-is("Calls")');
    await page.locator('button:text-is("Play")').waitFor();
    await page.click('button:text-is("History")');
    await page.locator('td', { hasText: 'clients' }).first().waitFor();
    await page.context().close();
  });
});

describe('the deals board', () => {
  it('changes a deal\'s status when it is dragged to another column', async () => {
    const page = await w.open(w.people.anna, '#/deals');
    const card = page.locator('.deal', { hasText: 'Pallets for Romashka' });
    await card.waitFor();
    // An important deal says so, and its amount comes with the currency.
    expect(await card.locator('.flag').innerText()).toBe('Important');
    expect(await card.locator('.muted').innerText()).toBe('120,000 RUB');
    await card.dragTo(page.locator('.column[data-status=interest]'));
    await page.locator('.column[data-status=interest] .deal', { hasText: 'Pallets for Romashka' }).waitFor();
    await eventually(async () => (await w.database.db.select().from(deals).where(eq(deals.id, ids.annaDeal)))[0]?.status === 'interest', 'the deal moved to interest');
    await page.context().close();
  });
});

describe("the curator's inbox of new leads", () => {
  it('lists the leads waiting for an owner and assigns one', async () => {
    const site = await fetch(`${w.instance.baseUrl}/api/intake/sites`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w.people.director.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'pallets.example.ru', departmentId: w.departmentId, allowedOrigin: 'https://pallets.example.ru' }),
    });
    const { id: siteId } = (await site.json()) as { id: number };
    const [lead] = await w.database.db.insert(leads).values({ siteId, departmentId: w.departmentId, name: 'Oleg from the form', phone: '+79990001122', phoneRaw: '8 999 000-11-22' }).returning({ id: leads.id });
    const annasPage = await w.open(w.people.anna);
    const page = await w.open(w.people.curator, '#/leads');
    const row = page.locator('[data-testid=lead-row]', { hasText: 'Oleg from the form' });
    await row.waitFor();
    await row.locator('select').selectOption(String(w.people.anna.id));
    await row.locator('button:text-is("Assign")').click();
    await row.waitFor({ state: 'detached' });
    const [stored] = await w.database.db.select().from(leads).where(eq(leads.id, lead!.id));
    expect(stored!.assignedToId).toBe(w.people.anna.id);
    // Anna is told at once (deal.assigned).
    await annasPage.locator('.toast', { hasText: 'A website lead is now your deal' }).waitFor();
    await annasPage.context().close();
    await page.context().close();
  });
});

describe('the recording player', () => {
  it('plays a recording and seeks through HTTP Range (206)', async () => {
    const page = await w.open(w.people.anna, '#/calls');
    const ranged: Response[] = [];
    page.on('response', (r) => {
      if (r.url().includes(`/api/calls/${ids.annaCall}/recording`) && r.status() === 206) ranged.push(r);
    });
    await page.click('button:text-is("Play")');
    const audio = page.locator('[data-testid=player] audio');
    await expect.poll(() => audio.evaluate((a: Media) => a.duration), { timeout: 10_000 }).toBeCloseTo(300, 0);
    // The waveform is drawn (wavesurfer, loaded on demand) …
    await page.locator('[data-testid=player] .wave > div').waitFor();
    // … a click on the waveform at 3/4 seeks there, its bytes fetched with a Range from there on …
    const box = (await page.locator('[data-testid=player] .wave').boundingBox())!;
    const before = ranged.length;
    await page.mouse.click(box.x + box.width * 0.75, box.y + box.height / 2);
    await expect.poll(() => audio.evaluate((a: Media) => a.currentTime)).toBeGreaterThan(200);
    await expect.poll(() => ranged.length).toBeGreaterThan(before);
    const start = Number(/^bytes=(\d+)-/.exec((await ranged.at(-1)!.request().headerValue('range')) ?? '')?.[1]);
    // 3/4 of 300 s at 16,000 bytes a second, past the 44-byte header.
    expect(start).toBeGreaterThan(16_000 * 200);
    // … and it plays from there.
    const at = await audio.evaluate((a: Media) => a.currentTime);
    await audio.evaluate((a: Media) => a.play());
    await expect.poll(() => audio.evaluate((a: Media) => a.currentTime), { timeout: 10_000 }).toBeGreaterThan(at + 0.2);
    await page.context().close();
  });
});
