import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../../src/calls/calls.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { foldCallStats } from '../../src/stats/stats-folder.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';
import { eventually, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// Migration 0023: an ended call's share of the call rollups waits in call_stats_queue until
// call_stats_fold() adds it. These tests hold the figures to the same answers queued, folded and
// recounted, and check that the queue gets only what changes a figure.

let t: TestApp;
type Person = { id: number; token: string };
let director: Person, anna: Person, boris: Person;
let seq = 0;

const at = (iso: string) => new Date(iso);
async function addCall(fields: Partial<typeof calls.$inferInsert> & { startedAt: Date }) {
  const [row] = await t.database.db
    .insert(calls)
    .values({ systemName: 'default', linkedid: `1790000000.${++seq}`, direction: 'inbound', disposition: 'answered', endedAt: fields.startedAt, ...fields })
    .returning({ id: calls.id });
  return row!.id;
}
const queue = async () =>
  (await t.database.pool.query<{ user_id: number; inbound: number; answered: number; answer_seconds_sum: number; talk_total: string; talk_count: number }>(
    'select user_id, inbound, answered, answer_seconds_sum, talk_total, talk_count from call_stats_queue',
  )).rows;
const rollups = async () => [
  (await t.database.pool.query('select * from call_stats_daily where (inbound, outbound, answered, missed, answer_count, talk_count) <> (0, 0, 0, 0, 0, 0) order by user_id, day')).rows,
  (await t.database.pool.query('select * from call_stats_monthly where (inbound, outbound, answered, missed, answer_count, talk_count) <> (0, 0, 0, 0, 0, 0) order by user_id, month')).rows,
];
async function get(url: string) {
  const res = await t.app.inject({ method: 'GET', url, headers: bearer(director.token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { rows: Array<{ userId?: number; departmentId?: number | null; period: string | null; figures: Record<string, unknown> }> };
}
// Periods that read the daily rollup only, the monthly one with edges added and taken away, by
// person and by department.
const QUERIES = [
  '/api/stats/managers?from=2026-10-25&to=2026-12-05&groupBy=day',
  '/api/stats/managers?from=2026-10-25&to=2026-12-05&groupBy=week',
  '/api/stats/managers?from=2026-10-03&to=2026-12-05&groupBy=month',
  '/api/stats/managers?from=2026-10-30&to=2026-11-30&groupBy=total',
  '/api/stats/departments?from=2026-10-01&to=2026-12-31&groupBy=month',
];
// A day whose calls were all taken back keeps a row of zeros in the rollup until a recount (as
// before 0023): such rows are left out when answers are compared across a recount.
const nonEmpty = (r: { figures: Record<string, unknown> }) => Object.values(r.figures).some((v) => typeof v === 'number' && v !== 0);
const everything = async () => (await Promise.all(QUERIES.map(get))).map((res) => ({ rows: res.rows.filter(nonEmpty) }));

beforeAll(async () => {
  t = await createTestApp();
  const [{ id: sales }] = (await t.database.db
    .insert(departments)
    .values([{ name: 'Sales', lineKind: 'queue', lineTarget: 'sales', timeZone: 'Asia/Yekaterinburg' }])
    .returning({ id: departments.id })) as [{ id: number }];
  director = await createUser(t, { role: 'director' });
  anna = await createUser(t, { role: 'manager', departmentId: sales, name: 'anna' }); // UTC+5
  boris = await createUser(t, { role: 'manager', name: 'boris' }); // no department: Moscow, UTC+3
});

afterAll(() => t?.close());

describe('the call rollup queue', () => {
  it('gets nothing from a live call, the share of an ended one, a -1/+1 pair for a correction and a -1 for a delete', async () => {
    await foldCallStats(t.database.pool);
    const start = at('2026-11-10T07:00:00Z');
    const id = await addCall({ startedAt: start, disposition: null, endedAt: null, ownerId: anna.id });
    await t.database.db.update(calls).set({ answeredById: anna.id, answeredAt: at('2026-11-10T07:00:08Z') }).where(eq(calls.id, id));
    expect(await queue()).toEqual([]);
    await t.database.db.update(calls).set({ disposition: 'answered', talkSeconds: 70, endedAt: at('2026-11-10T07:01:30Z') }).where(eq(calls.id, id));
    expect(await queue()).toEqual([{ user_id: anna.id, inbound: 1, answered: 1, answer_seconds_sum: 8, talk_total: '70', talk_count: 1 }]);
    // What no figure reads: nothing more.
    await t.database.db.update(calls).set({ recordingFile: 'x.wav', hangupCause: 16 }).where(eq(calls.id, id));
    expect(await queue()).toHaveLength(1);
    await t.database.db.update(calls).set({ answeredById: boris.id }).where(eq(calls.id, id));
    const sumOf = (rows: Awaited<ReturnType<typeof queue>>, userId: number) => rows.filter((r) => r.user_id === userId).reduce((n, r) => n + r.inbound, 0);
    const moved = await queue();
    expect(moved).toHaveLength(3);
    expect([sumOf(moved, anna.id), sumOf(moved, boris.id)]).toEqual([0, 1]);
    await t.database.db.delete(calls).where(eq(calls.id, id));
    const gone = await queue();
    expect(gone).toHaveLength(4);
    expect([sumOf(gone, anna.id), sumOf(gone, boris.id)]).toEqual([0, 0]);
    expect(await foldCallStats(t.database.pool)).toBe(4);
    expect(await queue()).toEqual([]);
  });

  it('gives the same figures queued, folded and recounted, in each person’s time zone', async () => {
    // 60 calls over October–December, some on either side of a local midnight and month end:
    // 31 Oct 19:30 UTC is 1 November 00:30 for Anna (UTC+5), 31 October 22:30 for Boris (UTC+3).
    const made: Array<{ userId: number; startedAt: Date; inbound: boolean; answered: boolean; talk: number }> = [];
    for (let i = 0; i < 60; i++) {
      const userId = i % 2 ? anna.id : boris.id;
      const startedAt = new Date(Date.UTC(2026, 9, 20) + i * 26 * 3_600_000 + (i % 3 === 0 ? 19.5 * 3_600_000 : 0));
      const inbound = i % 4 !== 3;
      const answered = i % 5 !== 4;
      const talk = 10 + i;
      made.push({ userId, startedAt, inbound, answered, talk });
      await addCall({
        startedAt,
        direction: inbound ? 'inbound' : 'outbound',
        disposition: answered ? 'answered' : 'missed',
        answeredAt: answered ? new Date(startedAt.getTime() + 5_000) : null,
        talkSeconds: answered ? talk : null,
        ...(inbound ? { answeredById: answered ? userId : null, ownerId: userId } : { initiatedById: userId }),
        externalNumber: `+7999100${String(i).padStart(4, '0')}`,
      });
    }
    await addCall({ startedAt: at('2026-10-31T19:30:00Z'), answeredAt: at('2026-10-31T19:30:04Z'), talkSeconds: 9, answeredById: anna.id });
    await addCall({ startedAt: at('2026-10-31T19:30:00Z'), answeredAt: at('2026-10-31T19:30:04Z'), talkSeconds: 9, answeredById: boris.id });
    made.push({ userId: anna.id, startedAt: at('2026-10-31T19:30:00Z'), inbound: true, answered: true, talk: 9 });
    made.push({ userId: boris.id, startedAt: at('2026-10-31T19:30:00Z'), inbound: true, answered: true, talk: 9 });
    expect((await queue()).length).toBe(62);

    const queued = await everything();
    // Worked out here from the calls made: each person's inbound calls and talk per local month.
    const local = (m: (typeof made)[number]) => new Date(m.startedAt.getTime() + (m.userId === anna.id ? 5 : 3) * 3_600_000).toISOString();
    const byMonth = queued[2]!.rows;
    for (const userId of [anna.id, boris.id]) {
      for (const month of ['2026-10', '2026-11', '2026-12']) {
        const mine = made.filter((m) => m.userId === userId && local(m).startsWith(month) && local(m) >= '2026-10-03' && local(m) < '2026-12-06');
        const row = byMonth.find((r) => r.userId === userId && r.period === `${month}-01`);
        expect(row?.figures.inbound ?? 0, `${userId} ${month}`).toBe(mine.filter((m) => m.inbound).length);
        expect(row?.figures.talkSecondsTotal ?? 0, `${userId} ${month}`).toBe(mine.filter((m) => m.answered).reduce((n, m) => n + m.talk, 0));
      }
    }
    const annaNov1 = queued[0]!.rows.find((r) => r.userId === anna.id && r.period === '2026-11-01')!;
    const borisOct31 = queued[0]!.rows.find((r) => r.userId === boris.id && r.period === '2026-10-31')!;
    expect(annaNov1.figures.inbound).toBe(made.filter((m) => m.userId === anna.id && m.inbound && local(m).startsWith('2026-11-01')).length);
    expect(borisOct31.figures.inbound).toBe(made.filter((m) => m.userId === boris.id && m.inbound && local(m).startsWith('2026-10-31')).length);

    expect(await foldCallStats(t.database.pool)).toBe(62);
    expect(await queue()).toEqual([]);
    expect(await everything()).toEqual(queued);
    const folded = await rollups();
    await t.database.pool.query('select call_stats_rebuild()');
    expect(await rollups()).toEqual(folded);
    expect(await everything()).toEqual(queued);
  });

  it('lets one fold run at a time: a second one returns at once and folds nothing twice', async () => {
    const before = await everything();
    await addCall({ startedAt: at('2026-11-20T09:00:00Z'), answeredAt: at('2026-11-20T09:00:03Z'), talkSeconds: 33, answeredById: anna.id });
    const client = await t.database.pool.connect();
    try {
      await client.query('begin');
      expect(Number((await client.query('select call_stats_fold() as n')).rows[0].n)).toBe(1);
      expect(await foldCallStats(t.database.pool)).toBe(0); // the lock is held: no wait, no double count
      await client.query('commit');
    } finally {
      client.release();
    }
    const after = await everything();
    const total = (r: Awaited<ReturnType<typeof everything>>) => r[3]!.rows.find((x) => x.userId === anna.id)!.figures;
    expect(total(after)).toMatchObject({ inbound: (total(before).inbound as number) + 1, talkSecondsTotal: (total(before).talkSecondsTotal as number) + 33 });
  });

  it('counts every call once while calls end and folds run side by side', async () => {
    const total = async () => (await get('/api/stats/managers?from=2026-12-01&to=2026-12-31&groupBy=total')).rows.find((r) => r.userId === anna.id)!.figures;
    const before = await total();
    let ending = true;
    const folds = (async () => {
      let n = 0;
      while (ending) n += await foldCallStats(t.database.pool);
      return n;
    })();
    const ids = await Promise.all(
      Array.from({ length: 80 }, (_, i) => addCall({ startedAt: new Date(Date.UTC(2026, 11, 10, 6, i)), answeredAt: new Date(Date.UTC(2026, 11, 10, 6, i, 2)), talkSeconds: 1, answeredById: anna.id })),
    );
    // And corrections of half of them, to Boris, while folding goes on.
    await Promise.all(ids.filter((_, i) => i % 2).map((id) => t.database.db.update(calls).set({ answeredById: boris.id }).where(eq(calls.id, id))));
    ending = false;
    const folded = (await folds) + (await foldCallStats(t.database.pool));
    expect(folded).toBe(80 + 2 * 40);
    expect(await total()).toMatchObject({ inbound: (before.inbound as number) + 40, talkSecondsTotal: (before.talkSecondsTotal as number) + 40 });
    const kept = await rollups();
    await t.database.pool.query('select call_stats_rebuild()');
    expect(await rollups()).toEqual(kept);
  });
});

describe('the folder in the runtime', () => {
  let instances: TestInstance[] = [];
  afterAll(async () => {
    for (const i of instances) await i.runtime.stop();
  });

  it('folds the queue within its period on one of two instances', async () => {
    const prefix = uniquePrefix();
    instances = [await startInstance(t.database, { STATS_FOLD_MS: '200' }, prefix), await startInstance(t.database, { STATS_FOLD_MS: '200' }, prefix)];
    await eventually(async () => instances.some((i) => i.runtime.statsFolder.isLeader()) || null, 'a folder leader');
    expect(instances.filter((i) => i.runtime.statsFolder.isLeader())).toHaveLength(1);
    const day = async () => (await t.database.pool.query('select inbound from call_stats_daily where user_id = $1 and day = $2', [boris.id, '2026-12-20'])).rows[0]?.inbound ?? 0;
    const before = await day();
    await addCall({ startedAt: at('2026-12-20T09:00:00Z'), answeredById: boris.id });
    await eventually(async () => ((await day()) === before + 1 && (await queue()).length === 0) || null, 'the call folded into its day', 3_000);
  });
});
