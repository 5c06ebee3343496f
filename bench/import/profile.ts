import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { importJobs } from '../../src/import/import-jobs.table.js';
import { dryRun, type ImportEnv } from '../../src/import/import-run.js';
import { realRun } from '../../src/import/real-run.js';
import { sniffFile } from '../../src/import/read-rows.js';
import { createLogger } from '../../src/logger.js';
import { users } from '../../src/users/users.table.js';
import { freshDataDir, startDatabase } from '../shared/infra.js';
import { benchLog, cleanupRegistry, runBenchmark } from '../shared/lifecycle.js';
import { makeCsv, OWNERS } from './make-files.js';

// bench/import/profile.ts: the real run alone (and its re-import), for finding where an import's
// time goes: the wall time of each statement kind as the client sees it (round trip + execution +
// triggers), and the CPU seconds of PostgreSQL's client backends and of Node, which unlike the
// wall time hardly move with the load of a shared machine.
//   npx tsx bench/import/profile.ts [--rows 30000] [--batch 5000]
//   PROFILE_DROP='drop index …; drop trigger …'  run first, to see what an index or trigger costs
//   PROFILE_SQL='select …;; select …'            timed (CPU) against the filled base, three times
//   PROFILE_EXPLAIN=1                             EXPLAIN ANALYZE of 2,000-row inserts, per trigger
//   PROFILE_SCHEMA=1                              the triggers and indexes an import writes through

const { values: args } = parseArgs({ options: { rows: { type: 'string' }, batch: { type: 'string' } } });
const rowsN = Number(args.rows ?? 30_000);
const ROOT = path.resolve(import.meta.dirname, '../..');
const log = benchLog('import-profile');
const cleanups = cleanupRegistry(log);
const logger = createLogger('warn');

const stats = new Map<string, { n: number; ms: number }>();
let on = false;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
  const text = typeof a[0] === 'string' ? a[0] : (a[0] as { text?: string })?.text ?? '?';
  const key = text.replace(/\s+/g, ' ').trim().slice(0, 70);
  const started = performance.now();
  const p = (query as (...x: unknown[]) => unknown).apply(this, a);
  if (on && p && typeof (p as Promise<unknown>).then === 'function') {
    (p as Promise<unknown>).then(() => {
      const s = stats.get(key) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += performance.now() - started;
      stats.set(key, s);
    }, () => {});
  }
  return p;
} as never;

/** CPU seconds of a process from /proc (utime, stime; with its reaped children's when asked). */
function cpuOf(pid: number, children: boolean): { ppid: number; s: number } {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').slice(readFileSync(`/proc/${pid}/stat`, 'utf8').lastIndexOf(')') + 2).split(' ');
    const n = (i: number) => Number(f[i - 3]);
    return { ppid: n(4), s: (n(14) + n(15) + (children ? n(16) + n(17) : 0)) / 100 };
  } catch {
    return { ppid: -1, s: 0 };
  }
}

/** All of PostgreSQL's CPU so far: the postmaster with the backends it reaped, and the live ones. */
function pgCpu(postmaster: number): number {
  let total = cpuOf(postmaster, true).s;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const c = cpuOf(Number(d), false);
    if (c.ppid === postmaster) total += c.s;
  }
  return total;
}

/** CPU seconds of each client backend (the import's connections), without autovacuum and the rest. */
async function backendsCpu(pool: pg.Pool): Promise<Map<number, number>> {
  const { rows } = await pool.query(`select pid from pg_stat_activity where backend_type = 'client backend'`);
  return new Map(rows.map((r) => [r.pid as number, cpuOf(r.pid as number, false).s]));
}

async function main(done: () => void): Promise<void> {
  const dataDir = await freshDataDir(path.join(ROOT, '.data/bench'), 'import-profile', { keep: false, removeStale: true, cleanups });
  const { url } = await startDatabase({ dataDir, databaseName: `switchboard_bench_import_${process.pid}`, logger, cleanups });
  const database = createDatabase(url, { max: 4 });
  cleanups.push({ name: 'pool', run: () => database.close() });
  await runMigrations(database.db);
  const db = database.db;
  if (process.env.PROFILE_SCHEMA === '1') {
    const t = await database.pool.query(`select tgrelid::regclass::text as t, tgname, pg_get_triggerdef(oid) as def from pg_trigger where not tgisinternal and tgrelid::regclass::text in ('clients','client_phones','client_contacts','client_notes','change_history','import_jobs') order by 1,2`);
    for (const r of t.rows) log(`trigger ${r.def}`);
    const i = await database.pool.query(`select indexdef from pg_indexes where tablename in ('clients','client_phones','client_contacts','client_notes','change_history') order by tablename`);
    for (const r of i.rows) log(`index ${r.indexdef}`);
  }
  const [director] = await db.insert(users).values({ login: 'bench-director', name: 'Bench Director', passwordHash: 'x', role: 'director' }).returning();
  await db.insert(users).values(OWNERS.map((o) => ({ ...o, passwordHash: 'x', role: 'manager' as const })));
  const viewer = { id: director!.id, login: director!.login, name: director!.name, role: 'director' as const, departmentId: null, managerId: null };
  // PROFILE_DROP: statements run before the import (drop a trigger or an index) to see what it costs.
  for (const q of (process.env.PROFILE_DROP ?? '').split(';').filter((x) => x.trim())) await database.pool.query(q);
  const backend = (await database.pool.query('select pg_backend_pid() as pid')).rows[0].pid as number;
  const postmaster = cpuOf(backend, false).ppid;
  const env: ImportEnv = { db, region: 'RU', utcOffset: '+03:00', ...(args.batch && { batchSize: Number(args.batch) }) };
  const file = path.join(dataDir, 'clients-utf8.csv');
  await makeCsv(file, rowsN, { delimiter: ',', cp1251: false });
  for (const pass of ['first', 'reimport']) {
    const shape = await sniffFile(file);
    const check = await dryRun(env, viewer, { path: file, shape, sheet: null }, null, `${file}.rejected.csv`);
    const [job] = await db.insert(importJobs).values({ createdBy: viewer.id, fileName: 'bench.csv', format: 'csv', encoding: shape.encoding, delimiter: shape.delimiter, mapping: check.mapping, defaultOwnerId: viewer.id, rowsTotal: check.report.rowsRead, status: 'running' }).returning();
    stats.clear();
    on = true;
    const started = performance.now();
    const pg0 = pgCpu(postmaster);
    const before = await backendsCpu(database.pool);
    const node0 = process.cpuUsage();
    await realRun(env, viewer, job!, { path: file, shape, sheet: null }, { afterBatch: () => false });
    const s = (performance.now() - started) / 1000;
    on = false;
    const node = process.cpuUsage(node0);
    const after = await backendsCpu(database.pool);
    const backendsS = [...after].reduce((sum, [pid, cpu]) => sum + cpu - (before.get(pid) ?? 0), 0);
    log(`${pass}: ${rowsN} rows in ${s.toFixed(2)} s = ${Math.round(rowsN / s)} rows/s; CPU: PostgreSQL ${(pgCpu(postmaster) - pg0).toFixed(2)} s (client backends ${backendsS.toFixed(2)} s), Node ${((node.user + node.system) / 1e6).toFixed(2)} s`);
    const total = [...stats.values()].reduce((a, b) => a + b.ms, 0);
    for (const [k, v] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 20)) log(`  ${v.ms.toFixed(0).padStart(6)} ms ${String(v.n).padStart(5)}× ${k}`);
    log(`  ${total.toFixed(0)} ms in statements`);
  }
  // PROFILE_SQL: statements timed against the filled base (each three times), e.g. two ways to build a jsonb.
  for (const q of (process.env.PROFILE_SQL ?? '').split(';;').filter((x) => x.trim())) {
    const times: string[] = [];
    for (let k = 0; k < 3; k++) {
      const b0 = pgCpu(postmaster);
      const r = await database.pool.query(q);
      times.push(`${(pgCpu(postmaster) - b0).toFixed(2)} s CPU (${JSON.stringify(r.rows[0]).slice(0, 80)})`);
    }
    log(`sql ${q.replace(/\s+/g, ' ').slice(0, 60)}: ${times.join(', ')}`);
  }
  if (process.env.PROFILE_EXPLAIN === '1') await explain(database.pool, director!.id);
  done();
}

/** EXPLAIN ANALYZE of a batch's writes (2,000 new clients, their phones and contacts), rolled back. */
async function explain(pool: pg.Pool, actorId: number) {
  const variants: Record<string, string[]> = {
    asis: [],
    noRouting: ['drop trigger clients_routing_changed on clients', 'drop trigger client_phones_routing_changed on client_phones'],
    noGin: ['drop index clients_search_text_trgm', 'drop index clients_emails_trgm', 'drop index clients_tags_gin', 'drop index client_phones_phone_trgm'],
    noHistory: ['drop trigger history_set_insert on clients', 'drop trigger history_set_insert on client_phones', 'drop trigger history_set_insert on client_contacts'],
    ginPending: ['set local gin_pending_list_limit = 65536'],
  };
  for (const [name, pre] of Object.entries(variants)) {
    const c = await pool.connect();
    try {
      await c.query('begin');
      await c.query(`select set_config('switchboard.actor_id', $1, true), set_config('switchboard.via', 'import', true), set_config('switchboard.import_id', '1', true), set_config('switchboard.history_bulk', 'on', true)`, [String(actorId)]);
      for (const q of pre) await c.query(q);
      const stmts = [
        `insert into clients (name, kind, inn, emails, website, address, status, segment_id, source_id, next_contact_at, owner_id, last_activity_at)
         select 'ООО "Пример ' || g || '"', 'company', case when g % 3 = 0 then (8800000000 + g)::text end, case when g % 2 = 0 then array['x' || g || '@firm.example'] else '{}' end,
                null, null, 'potential', null, null, null, ${actorId}, now() from generate_series(1, 2000) g`,
        `insert into client_phones (client_id, phone, raw) select c.id, '+7955' || lpad((c.id * 13 + k)::text, 7, '0'), '8 955 ' || c.id from (select id from clients order by id desc limit 2000) c, generate_series(1, 1) k on conflict do nothing`,
        `insert into client_contacts (client_id, name, position) select c.id, 'Контакт ' || c.id, 'Директор' from (select id from clients order by id desc limit 1200) c`,
      ];
      for (const q of stmts) {
        const r = await c.query(`explain (analyze, buffers) ${q}`);
        const lines = r.rows.map((x) => x['QUERY PLAN'] as string);
        log(`${name}: ${q.slice(0, 40).replace(/\s+/g, ' ')} :: ${lines.filter((l) => /^(Insert|Trigger|Execution|Planning Time)|Buffers/.test(l.trim())).map((l) => l.trim()).join(' | ')}`);
      }
    } finally {
      await c.query('rollback');
      c.release();
    }
  }
}

runBenchmark(main, { log, cleanups, watchdogMs: 10 * 60_000 });
