import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Viewer } from '../../src/auth/viewer.js';
import { searchClientBase } from '../../src/clients/client-search.js';
import { encodeCursor, type Sort } from '../../src/clients/search-cursor.js';
import { createDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { freshDataDir, startDatabase } from '../shared/infra.js';
import { benchLog, cleanupRegistry, runBenchmark } from '../shared/lifecycle.js';
import { machine } from '../shared/machine.js';
import { seedClientBase } from './seed.js';

// bench/clientbase/pages.ts: GET /api/clients's pages (issue 11: page 5,000 must cost what page 1
// costs) over the seeded base of bench:clientbase. Page 1 and a deep page by cursor through the
// service function the route calls (the page, its phones, the audit insert), against the same
// pages by offset as the list asked them before (its SQL: page + count(*), without phones or
// audit, so the old figures are a lower bound). The director's deep page is page 5,000 (or the
// last, for a smaller base); a
// manager has no such page, so theirs is their last one. Buffers from EXPLAIN (ANALYZE, BUFFERS).
//
//   npm run bench:clientpages -- [--clients 1000000] [--runs 20] [--out bench/results/clientpages.json]

const { values: args } = parseArgs({ options: { clients: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string' } } });
const clientsN = Number(args.clients ?? 1_000_000);
const runs = Number(args.runs ?? 20);
const ROOT = path.resolve(import.meta.dirname, '../..');
const out = args.out ?? path.join(ROOT, 'bench/results/clientpages.json');
const LIMIT = 50;
const DEEP_PAGE = 5_000;

const log = benchLog('clientpages');
const cleanups = cleanupRegistry(log);
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
const KEY: Record<Sort, string> = { name: 'name', lastContact: "coalesce(last_contact_at, '-infinity')", nextContact: "coalesce(next_contact_at, 'infinity')" };
const ORDER: Record<Sort, string> = { name: 'asc', lastContact: 'desc', nextContact: 'asc' };

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
const round = (x: number) => Math.round(x * 100) / 100;

// The SQL of the last list call, for EXPLAIN (as bench/clientbase/run.ts does).
let captured: Array<{ text: string; values: unknown[] }> = [];
let capturing = true;
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
  const first = a[0] as string | { text?: string; values?: unknown[] };
  const text = typeof first === 'string' ? first : first?.text;
  if (capturing && text && /from "clients"/.test(text) && / limit \$\d+$/.test(text.trim())) captured.push({ text, values: (typeof first === 'string' ? undefined : first.values) ?? (a[1] as unknown[]) ?? [] });
  return (originalQuery as (...x: unknown[]) => unknown).apply(this, a);
} as typeof pg.Client.prototype.query;

async function main(done: () => void): Promise<void> {
  const started = new Date();
  const loadBefore = os.loadavg();
  const dataDir = await freshDataDir(path.join(ROOT, '.data/bench'), 'clientpages', { keep: false, removeStale: true, cleanups });
  const { url } = await startDatabase({ dataDir, databaseName: `switchboard_bench_clientpages_${process.pid}`, logger, cleanups });
  const database = createDatabase(url, { max: 4 });
  cleanups.push({ name: 'pool', run: () => database.close() });
  await runMigrations(database.db);
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  cleanups.push({ name: 'seed connection', run: () => sql.end() });
  log(`seeding ${clientsN} clients`);
  await seedClientBase(sql, { clients: clientsN, managers: 200, departments: 10 }, (name) => log(`seed: ${name}`));

  const viewers = await sql.query<{ id: number; role: 'director' | 'manager'; department_id: number | null; n: number }>(
    `(select u.id, u.role, u.department_id, 0 n from users u where login = 'bench-director')
     union all
     (select u.id, u.role, u.department_id, count(*)::int n from users u join clients c on c.owner_id = u.id
      where u.login like 'bench-manager-%' group by u.id order by count(*) desc, u.id limit 1)`,
  );
  const asViewer = (r: (typeof viewers.rows)[number]): Viewer => ({ id: r.id, login: `u${r.id}`, name: 'bench', role: r.role, departmentId: r.department_id, managerId: null });
  const roles = [
    { role: 'director', viewer: asViewer(viewers.rows[0]!), where: 'true', deepPage: Math.min(DEEP_PAGE, Math.floor(clientsN / LIMIT)) },
    { role: 'manager', viewer: asViewer(viewers.rows[1]!), where: `owner_id = ${viewers.rows[1]!.id}`, deepPage: Math.ceil(viewers.rows[1]!.n / LIMIT) },
  ];
  log(`manager owns ${viewers.rows[1]!.n} clients: their deep page is ${roles[1]!.deepPage}`);

  type Case = { key: string; run: () => Promise<unknown>; explain: Array<{ text: string; values: unknown[] }> };
  const cases: Case[] = [];
  for (const { role, viewer, where, deepPage } of roles) {
    for (const sort of ['name', 'lastContact'] as const) {
      // The cursor of the row before the deep page, as the previous page's nextCursor would carry it.
      const before = (await sql.query<{ k: string; id: number }>(`select (${KEY[sort]})::text k, id from clients where ${where} order by ${KEY[sort]} ${ORDER[sort]}, id ${ORDER[sort]} offset $1 limit 1`, [(deepPage - 1) * LIMIT - 1])).rows[0]!;
      for (const [page, cursor] of [[1, undefined], [deepPage, encodeCursor(sort, before.k, before.id)]] as const) {
        const run = () => searchClientBase(database.db, { actorId: viewer.id, ip: '127.0.0.1' }, viewer, { limit: LIMIT, sort, ...(cursor && { cursor }) }, 'RU', { typos: false });
        captured = [];
        await run();
        cases.push({ key: `${role} ${sort} page ${page} (cursor)`, run, explain: captured });
        captured = [];
      }
    }
    // The list before: last activity first, by offset, with a total.
    for (const page of [1, deepPage]) {
      const pageSql = { text: `select * from clients where ${where} order by last_activity_at desc nulls last, id desc limit ${LIMIT} offset ${(page - 1) * LIMIT}`, values: [] };
      const countSql = { text: `select count(*) from clients where ${where}`, values: [] };
      cases.push({ key: `${role} page ${page} (offset, before)`, run: () => Promise.all([database.pool.query(pageSql.text), database.pool.query(countSql.text)]), explain: [pageSql, countSql] });
    }
  }

  capturing = false;
  const timings = new Map<string, number[]>();
  for (let r = -2; r < runs; r++) {
    for (const c of cases) {
      const t0 = performance.now();
      await c.run();
      if (r >= 0) timings.set(c.key, [...(timings.get(c.key) ?? []), performance.now() - t0]);
    }
  }
  const loadAfter = os.loadavg();

  const results = [];
  for (const c of cases) {
    const sorted = [...timings.get(c.key)!].sort((a, b) => a - b);
    let buffers = 0;
    for (const q of c.explain) {
      const plan = (await sql.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, costs off, timing off) ${q.text}`, q.values)).rows.map((x) => x['QUERY PLAN']).join('\n');
      const shared = plan.match(/Buffers: shared hit=(\d+)(?: read=(\d+))?/);
      buffers += shared ? Number(shared[1]) + Number(shared[2] ?? 0) : 0;
    }
    results.push({ case: c.key, p50Ms: round(percentile(sorted, 0.5)), p95Ms: round(percentile(sorted, 0.95)), buffers });
  }
  const report = { benchmark: 'clientpages', started: started.toISOString(), machine: { ...machine(), loadAvgBefore: loadBefore.map(round), loadAvgAfter: loadAfter.map(round) }, clients: clientsN, runs, limit: LIMIT, results };
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  done();
  for (const r of results) log(`${r.case.padEnd(42)} p50 ${String(r.p50Ms).padStart(8)}  p95 ${String(r.p95Ms).padStart(8)} ms  buffers ${r.buffers}`);
  log(`load ${loadBefore.map(round)} → ${loadAfter.map(round)}; written ${out}`);
}

runBenchmark(main, { log, cleanups, watchdogMs: 30 * 60_000 });
