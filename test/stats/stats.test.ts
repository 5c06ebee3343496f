import { eq } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../../src/calls/calls.table.js';
import { clients } from '../../src/clients/clients.table.js';
import { DEAL_STATUSES } from '../../src/deals/deal-statuses.js';
import { deals, dealStatusChanges } from '../../src/deals/deals.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { withActor } from '../../src/history/with-actor.js';
import { clientNotes } from '../../src/notes/notes.table.js';
import { reminders } from '../../src/reminders/reminders.table.js';
import { callReviews, scorecards, scorecardVersions } from '../../src/review/review.table.js';
import { PIPELINE } from '../../src/stats/stats-figures.js';
import { callParts, wholeMonths } from '../../src/stats/stats-query.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

// Every figure on a small hand-made week whose right answers are worked out in the comments.
// Sales runs on Yekaterinburg time (UTC+5), Service on Moscow time (UTC+3); the week asked for is
// Monday 2 – Sunday 8 November 2026, local.

let t: TestApp;
type Person = { id: number; token: string };
let director: Person, curator: Person, anna: Person, boris: Person, vera: Person;
let sales: number, service: number;
let annaClient: number;
let handedDeal: number;
const WEEK = 'from=2026-11-02&to=2026-11-08&callbackHours=2';

const at = (iso: string) => new Date(iso);
let seq = 0;
async function addCall(fields: Partial<typeof calls.$inferInsert> & { startedAt: Date }) {
  const [row] = await t.database.db
    .insert(calls)
    .values({ systemName: 'default', linkedid: `1780000000.${++seq}`, direction: 'inbound', disposition: 'answered', endedAt: fields.startedAt, ...fields })
    .returning({ id: calls.id });
  return row!.id;
}
const plus = (d: Date, seconds: number) => new Date(d.getTime() + seconds * 1000);

async function get(who: Person, url: string) {
  const res = await t.app.inject({ method: 'GET', url, headers: bearer(who.token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

beforeAll(async () => {
  t = await createTestApp();
  const db = t.database.db;
  [{ id: sales }, { id: service }] = await db
    .insert(departments)
    .values([
      { name: 'Sales', lineKind: 'queue', lineTarget: 'sales', timeZone: 'Asia/Yekaterinburg' },
      { name: 'Service', lineKind: 'queue', lineTarget: 'service', timeZone: 'Europe/Moscow' },
    ])
    .returning({ id: departments.id }) as [{ id: number }, { id: number }];
  director = await createUser(t, { role: 'director' });
  curator = await createUser(t, { role: 'curator', departmentId: sales, name: 'carl' });
  anna = await createUser(t, { role: 'manager', departmentId: sales, name: 'anna' });
  boris = await createUser(t, { role: 'manager', departmentId: sales, name: 'boris' });
  vera = await createUser(t, { role: 'manager', departmentId: service, name: 'vera' });
  const [client] = await db.insert(clients).values({ name: 'ООО Ромашка', ownerId: anna.id }).returning();
  annaClient = client!.id;

  // Anna's calls.
  const c1 = at('2026-11-02T04:00:00Z'); // Mon 09:00 local
  await addCall({ startedAt: c1, answeredAt: plus(c1, 10), talkSeconds: 100, answeredById: anna.id, ownerId: anna.id, recordingUniqueid: 'r1' });
  const c2 = at('2026-11-03T05:00:00Z'); // Tue 10:00
  await addCall({ startedAt: c2, answeredAt: plus(c2, 20), talkSeconds: 200, answeredById: anna.id, ownerId: anna.id });
  // Missed Tue 11:00, called back by Anna an hour later: on time.
  await addCall({ startedAt: at('2026-11-03T06:00:00Z'), disposition: 'missed', ownerId: anna.id, externalNumber: '+79990000001' });
  await addCall({ startedAt: at('2026-11-03T07:00:00Z'), direction: 'outbound', initiatedById: anna.id, answeredAt: at('2026-11-03T07:00:20Z'), talkSeconds: 60, externalNumber: '+79990000001' });
  // Missed Wed, called back by Boris six hours later: late (the outbound call is Boris's).
  await addCall({ startedAt: at('2026-11-04T06:00:00Z'), disposition: 'missed', ownerId: anna.id, externalNumber: '+79990000002' });
  await addCall({ startedAt: at('2026-11-04T12:00:00Z'), direction: 'outbound', initiatedById: boris.id, talkSeconds: 40, externalNumber: '+79990000002' });
  // Abandoned Thu, never called back.
  await addCall({ startedAt: at('2026-11-05T06:00:00Z'), disposition: 'abandoned', ownerId: anna.id, externalNumber: '+79990000003' });
  // Sun 1 Nov 20:00 UTC is Mon 2 Nov 01:00 in Yekaterinburg: inside the week.
  const c7 = at('2026-11-01T20:00:00Z');
  await addCall({ startedAt: c7, answeredAt: plus(c7, 30), talkSeconds: 50, answeredById: anna.id });
  // Sun 8 Nov 20:00 UTC is Mon 9 Nov 01:00 local: outside. Internal and live calls never count.
  await addCall({ startedAt: at('2026-11-08T20:00:00Z'), answeredAt: at('2026-11-08T20:00:05Z'), talkSeconds: 999, answeredById: anna.id });
  await addCall({ startedAt: at('2026-11-03T09:00:00Z'), direction: 'internal', answeredById: anna.id, talkSeconds: 999 });
  await addCall({ startedAt: at('2026-11-03T09:30:00Z'), disposition: null, endedAt: null, answeredById: anna.id });
  // Vera (Moscow): 03:00 Mon 2 Nov local counts; 01:30 Mon 9 Nov does not.
  await addCall({ startedAt: at('2026-11-02T00:00:00Z'), answeredAt: at('2026-11-02T00:00:05Z'), talkSeconds: 30, answeredById: vera.id });
  await addCall({ startedAt: at('2026-11-08T22:30:00Z'), talkSeconds: 30, answeredById: vera.id });

  // Anna's deals. D1 went new → proposal_sent → contract_signed → contract_paid (skipping stages).
  const deal = async (title: string, status: typeof deals.$inferInsert.status, createdAt: string, amount: string | null, changes: Array<[string | null, string, string]>, changedById: number | null = null, ownerId = anna.id) => {
    const [row] = await db.insert(deals).values({ clientId: annaClient, title, status, ownerId, amount, createdAt: at(createdAt) }).returning({ id: deals.id });
    for (const [from, to, when] of changes) {
      await db.insert(dealStatusChanges).values({ dealId: row!.id, fromStatus: from as never, toStatus: to as never, changedAt: at(when), changedById });
    }
    return row!.id;
  };
  await deal('D1', 'contract_paid', '2026-11-02T06:00:00Z', '1000.00', [
    [null, 'new', '2026-11-02T06:00:00Z'], ['new', 'proposal_sent', '2026-11-03T06:00:00Z'],
    ['proposal_sent', 'contract_signed', '2026-11-04T06:00:00Z'], ['contract_signed', 'contract_paid', '2026-11-05T06:00:00Z'],
  ], anna.id);
  await deal('D2', 'refused_price', '2026-11-03T06:00:00Z', '500.00', [
    [null, 'new', '2026-11-03T06:00:00Z'], ['new', 'collecting_info', '2026-11-03T07:00:00Z'], ['collecting_info', 'refused_price', '2026-11-04T07:00:00Z'],
  ]);
  await deal('D3', 'new', '2026-11-04T06:00:00Z', null, [[null, 'new', '2026-11-04T06:00:00Z']]);
  // Created before the week, paid in it.
  await deal('D4', 'contract_paid', '2026-10-20T06:00:00Z', '250.50', [[null, 'new', '2026-10-20T06:00:00Z'], ['new', 'contract_paid', '2026-11-06T06:00:00Z']]);
  handedDeal = await deal('D5', 'interest', '2026-10-01T06:00:00Z', null, [[null, 'interest', '2026-10-01T06:00:00Z']]);

  // Reviews of Anna's calls in the week: 70 and 100; one in October does not count.
  const [card] = await db.insert(scorecards).values({ name: 'c' }).returning();
  const [version] = await db.insert(scorecardVersions).values({ scorecardId: card!.id, version: 1, criteria: [{ key: 'a', label: 'a', weight: 1, kind: 'scale', max: 10 }] }).returning();
  const [anyCall] = await db.select({ id: calls.id }).from(calls).limit(1);
  for (const [total, when] of [[70, '2026-11-04T10:00:00Z'], [100, '2026-11-07T10:00:00Z'], [10, '2026-10-30T10:00:00Z']] as const) {
    await db.insert(callReviews).values({ callId: anyCall!.id, scorecardVersionId: version!.id, reviewerId: curator.id, managerId: anna.id, answers: { a: total / 10 }, total, createdAt: at(when) });
  }

  // For the timeline: a note, a reminder done.
  await db.insert(clientNotes).values({ clientId: annaClient, authorId: anna.id, text: 'Обсудили цену', createdAt: at('2026-11-03T08:00:00Z') });
  await db.insert(reminders).values({ userId: anna.id, clientId: annaClient, dueAt: at('2026-11-06T08:00:00Z'), status: 'done', completedAt: at('2026-11-06T09:00:00Z') });
});

afterAll(() => t?.close());

type Row = { userId: number; period: string | null; figures: Record<string, any> };
const rowOf = (body: { rows: Row[] }, userId: number, period: string | null = null) => body.rows.find((r) => r.userId === userId && r.period === period)!;

describe('figures per manager', () => {
  it('counts Anna’s week in her department’s time zone', async () => {
    const f = rowOf(await get(director, `/api/stats/managers?${WEEK}`), anna.id).figures;
    expect(f).toMatchObject({
      inbound: 6, // c1, c2, two missed, the abandoned one, the 01:00-local one
      outbound: 1,
      answered: 3,
      missed: 3,
      missedNotCalledBack: 1, // the abandoned one
      callbacksOnTime: 1, // called back after 1 h (≤ 2 h); the other after 6 h
      answerRate: 0.5,
      avgAnswerSeconds: 20, // (10 + 20 + 30) / 3
      talkSecondsTotal: 410, // 100 + 200 + 60 + 50
      talkSecondsAvg: 102.5,
      dealsCreated: 3,
      paidDeals: 2, // D1 and D4 (created earlier)
      paidAmount: 1250.5,
      reviews: 2,
      avgScore: 85,
    });
    expect(f.dealsByStatus).toMatchObject({ contract_paid: 1, refused_price: 1, new: 1, interest: 0 });
    // D1 skipped stages but got past them; D2 reached collecting_info before refusing.
    expect(f.reached).toMatchObject({ new: 3, collecting_info: 2, proposal_sent: 1, interest: 1, contract_signed: 1, contract_paid: 1, in_progress: 0, completed: 0 });
    expect(f.reached).not.toHaveProperty('refused_price');
    expect(f.conversions).toContainEqual({ from: 'new', to: 'contract_signed', rate: 0.3333 });
    expect(f.conversions).toContainEqual({ from: 'new', to: 'collecting_info', rate: 0.6667 });
    expect(f.conversions).toContainEqual({ from: 'in_progress', to: 'completed', rate: null });
  });

  it('moving the callback window moves "on time"; the late one is on time within 6 hours', async () => {
    const f = rowOf(await get(director, `/api/stats/managers?from=2026-11-02&to=2026-11-08&callbackHours=6`), anna.id).figures;
    expect(f).toMatchObject({ callbacksOnTime: 2, missedNotCalledBack: 1 });
  });

  it('groups by local day, week and month', async () => {
    const days = await get(director, `/api/stats/managers?${WEEK}&groupBy=day&userIds=${anna.id}`);
    expect(days.rows.map((r: Row) => [r.period, r.figures.inbound, r.figures.outbound, r.figures.missed])).toEqual([
      ['2026-11-02', 2, 0, 0], // c1 and the 01:00-local call; D1 created
      ['2026-11-03', 2, 1, 1],
      ['2026-11-04', 1, 0, 1], // the missed call; D3; a review
      ['2026-11-05', 1, 0, 1], // the abandoned call; D1 paid
      ['2026-11-06', 0, 0, 0], // D4 paid
      ['2026-11-07', 0, 0, 0], // a review
    ]);
    expect(rowOf(days, anna.id, '2026-11-06').figures).toMatchObject({ paidDeals: 1, paidAmount: 250.5 });
    const weeks = await get(director, `/api/stats/managers?${WEEK}&groupBy=week&userIds=${anna.id}`);
    expect(weeks.rows.map((r: Row) => [r.period, r.figures.inbound])).toEqual([['2026-11-02', 6]]);
    const months = await get(director, `/api/stats/managers?${WEEK}&groupBy=month&userIds=${anna.id}`);
    expect(months.rows.map((r: Row) => [r.period, r.figures.inbound])).toEqual([['2026-11-01', 6]]);
  });

  it('compares people side by side, zeros included', async () => {
    const body = await get(director, `/api/stats/managers?${WEEK}&userIds=${anna.id}&userIds=${boris.id}&userIds=${vera.id}`);
    expect(body.rows.map((r: Row) => [r.userId, r.figures.inbound, r.figures.outbound, r.figures.talkSecondsTotal, r.figures.answerRate])).toEqual([
      [anna.id, 6, 1, 410, 0.5],
      [boris.id, 0, 1, 40, null],
      [vera.id, 1, 0, 30, 1], // the 01:30 Moscow call of 9 Nov is outside
    ]);
  });

  it('a manager sees their own figures only; a curator their department', async () => {
    expect((await get(anna, `/api/stats/managers?${WEEK}`)).rows.map((r: Row) => r.userId)).toEqual([anna.id]);
    expect((await get(anna, `/api/stats/managers?${WEEK}&userIds=${boris.id}`)).rows).toEqual([]);
    expect((await get(curator, `/api/stats/managers?${WEEK}`)).rows.map((r: Row) => r.userId).sort()).toEqual([anna.id, boris.id, curator.id].sort());
    expect((await get(director, `/api/stats/managers?${WEEK}`)).rows.map((r: Row) => r.userId).sort()).toEqual([anna.id, boris.id, curator.id, vera.id].sort());
  });

  it('refuses a period that is not one', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/stats/managers?from=2026-11-08&to=2026-11-01', headers: bearer(director.token) });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toContain('to: before from');
    const long = await t.app.inject({ method: 'GET', url: '/api/stats/managers?from=2024-01-01&to=2026-11-01', headers: bearer(director.token) });
    expect(long.statusCode).toBe(400);
    const daily = await t.app.inject({ method: 'GET', url: '/api/stats/managers?from=2026-01-01&to=2026-11-01&groupBy=day', headers: bearer(director.token) });
    expect(daily.statusCode).toBe(400);
    expect(daily.json().message).toContain('by week or month');
    expect((await t.app.inject({ method: 'GET', url: '/api/stats/managers?from=2026-01-01&to=2026-11-01&groupBy=month', headers: bearer(director.token) })).statusCode).toBe(200);
    const bad = await t.app.inject({ method: 'GET', url: '/api/stats/managers?from=2026-13-01&to=2026-11-01', headers: bearer(director.token) });
    expect(bad.statusCode).toBe(400);
  });
});

describe('figures per department', () => {
  it('adds up the department’s people', async () => {
    const body = await get(director, `/api/stats/departments?${WEEK}`);
    const s = body.rows.find((r: any) => r.departmentId === sales);
    expect(s).toMatchObject({ name: 'Sales', timeZone: 'Asia/Yekaterinburg', people: 3 });
    expect(s.figures).toMatchObject({ inbound: 6, outbound: 2, answered: 3, talkSecondsTotal: 450, talkSecondsAvg: 90, paidAmount: 1250.5, reviews: 2 });
    const v = body.rows.find((r: any) => r.departmentId === service);
    expect(v).toMatchObject({ people: 1, figures: expect.objectContaining({ inbound: 1, answered: 1, avgAnswerSeconds: 5 }) });
    expect((await get(curator, `/api/stats/departments?${WEEK}`)).rows.map((r: any) => r.departmentId)).toEqual([sales]);
  });
});

describe('timeline', () => {
  it('lists Anna’s week in order: calls, note, deal moves, reminder done', async () => {
    const body = await get(curator, `/api/stats/managers/${anna.id}/timeline?from=2026-11-02&to=2026-11-08`);
    expect(body.timeZone).toBe('Asia/Yekaterinburg');
    const kinds = body.events.map((e: any) => `${e.at.slice(0, 13)} ${e.kind}`);
    expect(kinds).toEqual([
      '2026-11-01T20 call',
      '2026-11-02T04 call',
      '2026-11-02T06 deal_status',
      '2026-11-03T05 call',
      '2026-11-03T06 call',
      '2026-11-03T06 deal_status',
      '2026-11-03T07 call',
      '2026-11-03T08 note',
      '2026-11-03T09 call', // internal: not in the figures, but work done
      '2026-11-04T06 call',
      '2026-11-04T06 deal_status',
      '2026-11-05T06 call',
      '2026-11-05T06 deal_status',
      '2026-11-06T09 reminder_done',
    ]);
    expect(body.events.find((e: any) => e.kind === 'deal_status' && e.details.to === 'contract_paid')).toMatchObject({ clientId: annaClient, details: { from: 'contract_signed' } });
    expect((await t.app.inject({ method: 'GET', url: `/api/stats/managers/${anna.id}/timeline`, headers: bearer(vera.token) })).statusCode).toBe(404);
  });

  it('shows this week by default, with a deal handed to another owner', async () => {
    await withActor(t.database.db, anna, 'api', (tx) => tx.update(deals).set({ ownerId: boris.id }).where(eq(deals.id, handedDeal)));
    const body = await get(anna, `/api/stats/managers/${anna.id}/timeline`);
    expect(body.events.filter((e: any) => e.kind === 'deal_handed')).toEqual([
      expect.objectContaining({ dealId: handedDeal, details: { fromOwnerId: anna.id, toOwnerId: boris.id } }),
    ]);
  });
});

describe('XLSX export', () => {
  it('exports the comparison table with Russian/English headers and numbers as numbers', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/stats/managers?${WEEK}&userIds=${anna.id}&userIds=${boris.id}&format=xlsx`, headers: bearer(director.token) });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('spreadsheetml');
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(res.rawPayload as unknown as ArrayBuffer);
    const sheet = book.worksheets[0]!;
    const headers = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(headers.slice(0, 3)).toEqual(['Сотрудник / Person', 'Период с / Period from', 'Входящие / Inbound']);
    expect((sheet.getRow(2).values as unknown[]).slice(1, 4)).toEqual(['anna', '', 6]);
    expect((sheet.getRow(3).values as unknown[]).slice(1, 5)).toEqual(['boris', '', 0, 1]);
    const timeline = await t.app.inject({ method: 'GET', url: `/api/stats/managers/${anna.id}/timeline?from=2026-11-02&to=2026-11-08&format=xlsx`, headers: bearer(curator.token) });
    expect(timeline.statusCode).toBe(200);
    await book.xlsx.load(timeline.rawPayload as unknown as ArrayBuffer);
    expect(book.worksheets.at(-1)!.rowCount).toBe(15); // header + 14 events
    const depts = await t.app.inject({ method: 'GET', url: `/api/stats/departments?${WEEK}&format=xlsx`, headers: bearer(curator.token) });
    expect(depts.headers['content-disposition']).toContain('departments-2026-11-02-2026-11-08.xlsx');
    const deptBook = new ExcelJS.Workbook();
    await deptBook.xlsx.load(depts.rawPayload as unknown as ArrayBuffer);
    const rows = deptBook.worksheets[0]!.getSheetValues().slice(1).map((r) => (r as unknown[]).slice(1, 5));
    // The curator's department only: Sales, 3 people, 6 inbound.
    expect(rows).toEqual([['Отдел / Department', 'Период с / Period from', 'Сотрудников / People', 'Входящие / Inbound'], ['Sales', '', 3, 6]]);
  });
});

// The rollup tables as folded: ended calls wait in call_stats_queue until call_stats_fold() (a
// job of the runtime, which this app does not run) adds them; the figures read both.
const fold = () => t.database.pool.query('select call_stats_fold()');
const monthly = async () =>
  (await fold(), await t.database.pool.query(
    `select user_id, month::text, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total::int, talk_count
     from call_stats_monthly where (inbound, outbound, answered, missed, answer_count, talk_count) <> (0, 0, 0, 0, 0, 0) order by user_id, month`,
  )).rows;
const dealStats = async () => [
  (await t.database.pool.query('select change_id, deal_id, owner_id, paid_at, amount from deal_payments order by change_id')).rows,
  (await t.database.pool.query('select deal_id, owner_id, created_at, status, reached from deal_stats order by deal_id')).rows,
  (await t.database.pool.query(`select *, month::text as month_day from deal_stats_monthly where (deals, ${PIPELINE.map((_, i) => `r_${i}`).join(', ')}) <> (0${', 0'.repeat(PIPELINE.length)}) order by user_id, month`)).rows,
];

describe('the call rollup', () => {
  const snapshot = async () =>
    (await fold(), await t.database.pool.query(
      `select user_id, day::text, inbound, outbound, answered, missed, answer_seconds_sum, answer_count, talk_total::int, talk_count
       from call_stats_daily where (inbound, outbound, answered, missed, answer_count, talk_count) <> (0, 0, 0, 0, 0, 0) order by user_id, day`,
    )).rows;

  it('follows a call as it goes live, ends, is corrected and deleted, and matches a recount', async () => {
    const db = t.database.db;
    const before = rowOf(await get(director, `/api/stats/managers?${WEEK}`), boris.id).figures;
    // Live: counts nowhere. Ended: counts. Given to Anna instead: moves. Deleted: gone.
    const id = await addCall({ startedAt: at('2026-11-06T10:00:00Z'), disposition: null, endedAt: null, answeredById: boris.id });
    await db.update(calls).set({ talkSeconds: 5 }).where(eq(calls.id, id));
    expect(rowOf(await get(director, `/api/stats/managers?${WEEK}`), boris.id).figures.inbound).toBe(before.inbound);
    await db.update(calls).set({ disposition: 'answered', answeredAt: at('2026-11-06T10:00:08Z'), talkSeconds: 70, endedAt: at('2026-11-06T10:01:30Z') }).where(eq(calls.id, id));
    const ended = rowOf(await get(director, `/api/stats/managers?${WEEK}`), boris.id).figures;
    expect(ended).toMatchObject({ inbound: before.inbound + 1, answered: 1, talkSecondsTotal: before.talkSecondsTotal + 70, avgAnswerSeconds: 8 });
    await db.update(calls).set({ answeredById: anna.id }).where(eq(calls.id, id));
    expect(rowOf(await get(director, `/api/stats/managers?${WEEK}`), boris.id).figures).toMatchObject({ inbound: before.inbound, talkSecondsTotal: before.talkSecondsTotal });
    expect(rowOf(await get(director, `/api/stats/managers?${WEEK}`), anna.id).figures).toMatchObject({ inbound: 7, talkSecondsTotal: 480 });
    await db.delete(calls).where(eq(calls.id, id));
    expect(rowOf(await get(director, `/api/stats/managers?${WEEK}`), anna.id).figures).toMatchObject({ inbound: 6, talkSecondsTotal: 410 });

    // A missed call recorded after its callback (an import out of order) finds the callback.
    const late = await addCall({ startedAt: at('2026-11-07T06:00:00Z'), disposition: 'missed', ownerId: boris.id, externalNumber: '+79990000009' });
    await addCall({ startedAt: at('2026-11-07T06:30:00Z'), direction: 'outbound', initiatedById: boris.id, externalNumber: '+79990000009', disposition: 'missed' });
    await db.delete(calls).where(eq(calls.id, late));
    await addCall({ startedAt: at('2026-11-07T06:00:00Z'), disposition: 'missed', ownerId: boris.id, externalNumber: '+79990000009' });
    expect(rowOf(await get(director, `/api/stats/managers?${WEEK}`), boris.id).figures).toMatchObject({ missed: 1, callbacksOnTime: 1, missedNotCalledBack: 0 });

    const missed = async () => (await t.database.pool.query('select call_id, user_id, started_at, returned_at from missed_calls order by call_id')).rows;
    const kept = [await snapshot(), await monthly(), await missed(), await dealStats()];
    await t.database.pool.query('select call_stats_rebuild()');
    expect([await snapshot(), await monthly(), await missed(), await dealStats()]).toEqual(kept);
  });

  it('keeps each month the sum of its days', async () => {
    await fold();
    const summed = (await t.database.pool.query(
      `select user_id, date_trunc('month', day)::date::text as month, sum(inbound)::int inbound, sum(outbound)::int outbound, sum(answered)::int answered,
         sum(missed)::int missed, sum(answer_seconds_sum) answer_seconds_sum, sum(answer_count)::int answer_count, sum(talk_total)::int talk_total, sum(talk_count)::int talk_count
       from call_stats_daily group by 1, 2 having (sum(inbound), sum(outbound), sum(answered), sum(missed), sum(answer_count), sum(talk_count)) <> (0, 0, 0, 0, 0, 0) order by 1, 2`,
    )).rows;
    expect(await monthly()).toEqual(summed);
    expect(summed.length).toBeGreaterThan(0);
  });

  it('reads whole months from the monthly rollup and the edges from the days, with the same figures', async () => {
    expect(wholeMonths('2026-10-15', '2026-11-30')).toEqual({ first: '2026-11-01', last: '2026-11-01', lastDay: '2026-11-30' });
    expect(wholeMonths('2026-10-01', '2026-12-02')).toEqual({ first: '2026-10-01', last: '2026-11-01', lastDay: '2026-11-30' });
    expect(wholeMonths('2025-12-03', '2026-12-02')).toEqual({ first: '2026-01-01', last: '2026-11-01', lastDay: '2026-11-30' });
    expect(wholeMonths('2026-02-01', '2026-02-28')).toEqual({ first: '2026-02-01', last: '2026-02-01', lastDay: '2026-02-28' });
    expect(wholeMonths('2026-11-02', '2026-11-08')).toBeNull();
    expect(wholeMonths('2026-10-20', '2026-11-10')).toBeNull();
    // A year: December less its first two days, eleven months, two days of the next December.
    expect(callParts('2025-12-03', '2026-12-02', wholeMonths('2025-12-03', '2026-12-02')!)).toEqual([
      { monthly: true, from: '2025-12-01', to: '2026-11-01', sign: 1 },
      { monthly: false, from: '2025-12-01', to: '2025-12-02', sign: -1 },
      { monthly: false, from: '2026-12-01', to: '2026-12-02', sign: 1 },
    ]);
    // Vera (Moscow): one call on 10 October (outside), one on 20 October (inside): October is read as
    // the month less its first 14 days.
    await addCall({ startedAt: at('2026-10-10T09:00:00Z'), answeredAt: at('2026-10-10T09:00:07Z'), talkSeconds: 11, answeredById: vera.id });
    await addCall({ startedAt: at('2026-10-20T09:00:00Z'), answeredAt: at('2026-10-20T09:00:03Z'), talkSeconds: 13, answeredById: vera.id });
    // October 15 – December 3: October less its first 14 days, November whole, three days of December.
    const period = 'from=2026-10-15&to=2026-12-03&callbackHours=2';
    const byDay = await get(director, `/api/stats/managers?${period}&groupBy=day`);
    const fromDays = new Map<string, Record<string, number>>();
    const callFigures = ['inbound', 'outbound', 'answered', 'missed', 'talkSecondsTotal', 'dealsCreated', ...PIPELINE.map((s) => `reached.${s}`), ...DEAL_STATUSES.map((s) => `dealsByStatus.${s}`)];
    const value = (f: Record<string, any>, k: string) => (k.includes('.') ? f[k.split('.')[0]!][k.split('.')[1]!] : f[k]) as number;
    for (const r of byDay.rows as Row[]) {
      for (const key of [`${r.userId}|${r.period!.slice(0, 7)}-01`, `${r.userId}|total`]) {
        const into = fromDays.get(key) ?? Object.fromEntries(callFigures.map((f) => [f, 0]));
        for (const f of callFigures) into[f]! += value(r.figures, f);
        fromDays.set(key, into);
      }
    }
    const pick = (f: Record<string, any>) => Object.fromEntries(callFigures.map((k) => [k, value(f, k)]));
    const byMonth = await get(director, `/api/stats/managers?${period}&groupBy=month`);
    for (const r of byMonth.rows as Row[]) if (r.figures.inbound + r.figures.outbound + r.figures.dealsCreated > 0) expect(pick(r.figures), `${r.userId} ${r.period}`).toEqual(fromDays.get(`${r.userId}|${r.period}`));
    expect((byMonth.rows as Row[]).filter((r) => r.userId === anna.id && r.period === '2026-11-01')[0]!.figures.inbound).toBe(7); // the week's 6 and Monday 9 November's
    const total = await get(director, `/api/stats/managers?${period}&groupBy=total`);
    for (const r of total.rows as Row[]) expect(pick(r.figures), String(r.userId)).toEqual(fromDays.get(`${r.userId}|total`) ?? pick(r.figures));
    expect(rowOf(total, vera.id).figures).toMatchObject({ inbound: 3, talkSecondsTotal: 13 + 30 + 30 });
    expect(rowOf(total, anna.id).figures).toMatchObject({ inbound: 7, dealsCreated: 4 }); // D1–D3 in November, D4 on 20 October
  });
});

describe('how far each deal got (deal_stats)', () => {
  it('keeps a monthly column for every status and every stage', async () => {
    const columns = (await t.database.pool.query<{ c: string }>(`select column_name c from information_schema.columns where table_name = 'deal_stats_monthly' order by ordinal_position`)).rows.map((r) => r.c);
    expect(columns).toEqual(['user_id', 'month', 'deals', ...DEAL_STATUSES.map((s) => `s_${s}`), ...PIPELINE.map((_, i) => `r_${i}`)]);
  });

  it('ranks statuses as PIPELINE does', async () => {
    const ranks = (await t.database.pool.query<{ s: string; r: number }>(`select s, deal_stage_rank(s) r from unnest($1::text[]) s`, [[...DEAL_STATUSES]])).rows;
    expect(ranks.map((r) => r.r)).toEqual(DEAL_STATUSES.map((s) => PIPELINE.indexOf(s)));
  });

  it('follows status changes, their corrections and the deal itself, and matches a recount', async () => {
    const db = t.database.db;
    const reached = async (id: number) => (await t.database.pool.query<{ reached: number; status: string; owner_id: number }>('select reached, status, owner_id from deal_stats where deal_id = $1', [id])).rows[0];
    const [row] = await db.insert(deals).values({ clientId: annaClient, title: 'R', status: 'new', ownerId: anna.id, createdAt: at('2026-09-01T06:00:00Z') }).returning({ id: deals.id });
    const id = row!.id;
    expect(await reached(id)).toEqual({ reached: 0, status: 'new', owner_id: anna.id });
    await db.insert(dealStatusChanges).values({ dealId: id, fromStatus: null, toStatus: 'new', changedAt: at('2026-09-01T06:00:00Z') });
    const [signed] = await db.insert(dealStatusChanges).values({ dealId: id, fromStatus: 'new', toStatus: 'contract_signed', changedAt: at('2026-09-02T06:00:00Z') }).returning({ id: dealStatusChanges.id });
    await db.update(deals).set({ status: 'contract_signed' }).where(eq(deals.id, id));
    await db.insert(dealStatusChanges).values({ dealId: id, fromStatus: 'contract_signed', toStatus: 'contract_paid', changedAt: at('2026-09-02T12:00:00Z') });
    await db.insert(dealStatusChanges).values({ dealId: id, fromStatus: 'contract_signed', toStatus: 'refused_price', changedAt: at('2026-09-03T06:00:00Z') });
    await db.update(deals).set({ status: 'refused_price', ownerId: boris.id, amount: '777.00' }).where(eq(deals.id, id));
    // Paid, then refused: it got as far as contract_paid; the payment follows the owner and amount.
    expect(await reached(id)).toEqual({ reached: 6, status: 'refused_price', owner_id: boris.id });
    expect((await t.database.pool.query('select owner_id, amount from deal_payments where deal_id = $1', [id])).rows).toEqual([{ owner_id: boris.id, amount: '777.00' }]);
    await t.database.pool.query(`delete from deal_status_changes where deal_id = $1 and to_status = 'contract_paid'`, [id]);
    expect((await reached(id))!.reached).toBe(5);
    await db.delete(dealStatusChanges).where(eq(dealStatusChanges.id, signed!.id));
    expect((await reached(id))!.reached).toBe(0);
    const kept = await dealStats();
    await t.database.pool.query('select call_stats_rebuild()');
    expect(await dealStats()).toEqual(kept);
    await db.delete(deals).where(eq(deals.id, id));
    expect(await reached(id)).toBeUndefined();
  });
});
