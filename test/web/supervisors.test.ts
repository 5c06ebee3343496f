import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clients } from '../../src/clients/clients.table.js';
import { callReviews, reviewComments } from '../../src/review/review.table.js';
import { eventually } from '../support/test-runtime.js';
import { addCall, startWorld, type World } from './world.js';

// Supervisors in Chromium: a review with a comment pinned where the player is, statistics with
// their chart, an import through its dry run, an export.
let w: World;
let callId = 0;
/** The <audio> element, as much of it as the tests touch (compiled without the DOM's types). */
type Media = { duration: number; currentTime: number };

beforeAll(async () => {
  w = await startWorld();
  callId = await addCall(w, w.clientIds.romashka, w.people.anna.id, '+79161234567', 8);
  const res = await fetch(`${w.instance.baseUrl}/api/scorecards`, {
    method: 'POST',
    headers: { authorization: `Bearer ${w.people.director.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'Sales call', criteria: [{ key: 'greeting', label: 'Greeted the client', weight: 1, kind: 'yes_no' }, { key: 'needs', label: 'Asked about needs', weight: 2, kind: 'scale', max: 5 }] }),
  });
  if (res.status !== 201) throw new Error(`scorecard: ${res.status} ${await res.text()}`);
}, 60_000);
afterAll(() => w?.close());

describe('reviewing a call', () => {
  it('saves a comment at the moment the player is at, with the scorecard, and shows it as a marker', async () => {
    const page = await w.open(w.people.curator, '#/review');
    await page.locator('[data-testid=review-row]', { hasText: 'Romashka' }).locator('button').click();
    const audio = page.locator('[data-testid=player] audio');
    await expect.poll(() => audio.evaluate((a: Media) => a.duration), { timeout: 10_000 }).toBeCloseTo(8, 0);
    await audio.evaluate((a: Media) => void (a.currentTime = 5.2));
    await page.locator('button:text-is("Pin at 0:05")').waitFor();
    await page.fill('input[name=comment]', 'Did not ask about the volume here');
    await page.click('button:text-is("Pin at 0:05")');
    await page.check('input[name=crit-greeting]');
    await page.fill('input[name=crit-needs]', '3');
    await page.fill('textarea[name=summary]', 'Polite, but missed the volume');
    await page.click('button:text-is("Save review")');
    const [review] = await eventually(async () => {
      const rows = await w.database.db.select().from(callReviews).where(eq(callReviews.callId, callId));
      return rows.length > 0 ? rows : null;
    }, 'the review stored');
    expect(review!.answers).toEqual({ greeting: true, needs: 3 });
    expect(review!.summary).toBe('Polite, but missed the volume');
    const comments = await w.database.db.select().from(reviewComments).where(eq(reviewComments.reviewId, review!.id));
    expect(comments.map((c) => [c.atSecond, c.body])).toEqual([[5.2, 'Did not ask about the volume here']]);
    // The marker sits at 5.2 s of 8 s.
    await page.locator('[data-testid=review-comment]', { hasText: 'Did not ask about the volume here' }).waitFor();
    const left = await page.locator('.marker').first().evaluate((m: { style: { left: string } }) => m.style.left);
    expect(parseFloat(left)).toBeCloseTo(65, 0);
    await page.context().close();
  });
});

describe('statistics', () => {
  it("compares the managers' figures and draws the chart", async () => {
    // A browser in the department's zone: from 21:00 UTC Moscow is a day ahead, and the period
    // must still end today there (it ended on the UTC day, which left out the seed's call).
    const context = await w.browser.newContext({ locale: 'en-US', timezoneId: 'Europe/Moscow', viewport: { width: 1366, height: 800 } });
    const page = await w.open(w.people.director, '#/stats', { context });
    await page.locator('[data-testid=stats] td:text-is("Anna")').waitFor();
    const annaRow = page.locator('[data-testid=stats] tr', { hasText: 'Anna' });
    // Anna's one answered inbound call of the seed.
    expect(await annaRow.locator('td').nth(1).innerText()).toBe('1');
    expect(await annaRow.locator('td').nth(2).innerText()).toBe('1');
    await page.locator('[data-testid=stats-chart] canvas').waitFor();
    // The points are days, named in the reader's language (uPlot's own legend says "Time").
    expect(await page.locator('[data-testid=stats-chart] .u-legend .u-series').first().locator('.u-label').innerText()).toBe('Day');
    await page.context().close();
  });
});

describe('import and export', () => {
  it('uploads a file, shows the dry-run report, imports it and follows it to the end; exports the base', async () => {
    const page = await w.open(w.people.director, '#/import');
    const csv = 'Название;Телефон\nЗвезда;8 916 555-11-22\nЛуна;+7 903 555-33-44\n';
    await page.setInputFiles('input[name=importFile]', { name: 'clients.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.locator('[data-testid=import-report]').waitFor();
    expect(await page.locator('[data-testid=import-report]').innerText()).toMatch(/Rows read 2: 2 new clients/);
    await page.click('button:text-is("Import")');
    await page.locator('[data-testid=import-status]:text-is("done")').waitFor({ timeout: 20_000 });
    expect((await w.database.db.select().from(clients).where(eq(clients.name, 'Луна'))).length).toBe(1);
    await page.locator('[data-testid=import-jobs] tr', { hasText: 'clients.csv' }).locator('td', { hasText: 'done' }).waitFor();

    const download = page.waitForEvent('download');
    await page.click('button:text-is("Export CSV")');
    const file = await (await download).path();
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(file!, 'utf8')).toContain('Звезда');
    await page.context().close();
  });
});
