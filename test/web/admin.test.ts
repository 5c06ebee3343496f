import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { departments } from '../../src/departments/departments.table.js';
import { intakeSites } from '../../src/intake/intake.table.js';
import { hashSiteKey } from '../../src/intake/site-keys.js';
import { webhookEndpoints } from '../../src/webhooks/webhooks.table.js';
import { startWorld, type World } from './world.js';

// The director's screens in Chromium: what is typed there reaches the service.
let w: World;
beforeAll(async () => {
  w = await startWorld();
}, 60_000);
afterAll(() => w?.close());

describe("the director's screens", () => {
  it("names the users' columns and roles in the reader's language", async () => {
    const page = await w.open(w.people.director, '#/admin', { locale: 'ru-RU' });
    const anna = page.locator('[data-testid=users] tr', { hasText: 'Anna' });
    await anna.waitFor();
    expect(await anna.locator('td').nth(2).innerText()).toBe('менеджер');
    expect(await page.locator('[data-testid=users] th').allInnerTexts()).toEqual(['Имя', 'Логин', 'Роль', 'Внутренний', 'Мобильный', 'Статус', '']);
    await page.context().close();
  });

  it('lists the users; adds a department with its numbers and hours, a web-form site (its key shown once) and a webhook; shows the audit log', async () => {
    const page = await w.open(w.people.director, '#/admin');
    await page.locator('[data-testid=users] td:text-is("Anna")').waitFor();
    expect(await page.locator('[data-testid=users]').innerText()).toContain(w.people.boris.login);

    await page.click('button:text-is("Departments")');
    await page.fill('input[name=deptName]', 'Wholesale');
    await page.fill('input[name=deptQueue]', 'wholesale');
    await page.fill('input[name=deptDids]', '+74951110050, +74951110051');
    await page.fill('input[name=deptHours]', '10:00-19:00');
    await page.fill('input[name=deptTimeZone]', 'Europe/Moscow');
    await page.click('button:text-is("Add")');
    await page.locator('[data-testid=departments] td:text-is("Wholesale")').waitFor();
    expect(await page.locator('[data-testid=departments]').innerText()).toContain('Mon 10:00–19:00');
    const [dept] = await w.database.db.select().from(departments).where(eq(departments.name, 'Wholesale'));
    expect(dept!.timeZone).toBe('Europe/Moscow');

    await page.click('button:text-is("Web-form sites")');
    await page.fill('input[name=siteName]', 'opt.example.ru');
    await page.fill('input[name=siteOrigin]', 'https://opt.example.ru');
    await page.selectOption('select[name=siteDepartment]', String(dept!.id));
    await page.click('button:text-is("Add")');
    const key = (await page.locator('[data-testid=site-key]').innerText()).split(': ').at(-1)!;
    const [site] = await w.database.db.select().from(intakeSites).where(eq(intakeSites.name, 'opt.example.ru'));
    expect(site!.departmentId).toBe(dept!.id);
    // The key shown is the one the service keeps (as its hash), and the list shows only its start.
    expect(hashSiteKey(key)).toBe(site!.keyHash);
    expect(await page.locator('[data-testid=sites]').innerText()).not.toContain(key);

    await page.click('button:text-is("Webhooks")');
    await page.fill('input[name=webhookUrl]', 'https://93.184.215.14/switchboard');
    await page.click('button:text-is("Add")');
    await page.locator('[data-testid=webhooks] td:text-is("https://93.184.215.14/switchboard")').waitFor();
    expect((await w.database.db.select().from(webhookEndpoints)).map((e) => e.url)).toContain('https://93.184.215.14/switchboard');

    await page.click('button:text-is("Audit log")');
    await page.locator('[data-testid=audit] td', { hasText: 'intake_site.create' }).first().waitFor();
    await page.context().close();
  });

  it("switch the protection of the base; a manager's list follows at once", async () => {
    const page = await w.open(w.people.director, '#/admin');
    await page.click('button:text-is("Protection")');
    const mask = page.locator('input[name=maskPhonesInLists]');
    expect(await mask.isChecked()).toBe(true);
    await mask.uncheck();
    await page.locator('.toast', { hasText: 'Saved' }).first().waitFor();
    const listed = async () => {
      const res = await fetch(`${w.instance.baseUrl}/api/clients/search?q=Romashka`, { headers: { authorization: `Bearer ${w.people.anna.token}` } });
      return ((await res.json()) as { items: Array<{ phones: Array<{ phone: string }> }> }).items.flatMap((c) => c.phones.map((p) => p.phone));
    };
    expect((await listed()).some((p) => p.includes('*'))).toBe(false);
    await mask.check();
    await page.locator('.toast', { hasText: 'Saved' }).nth(1).waitFor();
    expect((await listed()).every((p) => p.includes('*'))).toBe(true);
    await page.context().close();
  });

  it('are not offered to a manager', async () => {
    const page = await w.open(w.people.anna, '#/admin');
    expect(await page.locator('.top nav').innerText()).not.toContain('Admin');
    expect(await page.locator('[data-testid=users]').count()).toBe(0);
    await page.context().close();
  });
});
