import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { upsertCall, type CallParties } from '../../src/calls/calls.repository.js';
import type { CallSummary } from '../../src/calls/call-summary.js';
import { createDatabase, type Database } from '../../src/db/client.js';
import { MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { foldCallStats } from '../../src/stats/stats-folder.js';
import { groupCpuMeter } from '../shared/cpu-meter.js';
import { freshDataDir, startDatabase } from '../shared/infra.js';
import { benchLog, cleanupRegistry, runBenchmark } from '../shared/lifecycle.js';

// What a call's own writes cost PostgreSQL, with the statistics triggers as issue 13 left them
// (migrations up to 0019) and with the queue of migration 0023, side by side in one embedded
// PostgreSQL: the three upserts bench:screenpop's service makes for an inbound answered call
// (ringing, answered, ended; src/calls/calls.repository.ts upsertCall), for calls spread over
// --users people, --concurrency at a time. Rounds alternate before/after so that load from other
// work on the machine falls on both. Figures: PostgreSQL CPU ms a call (every postgres process,
// CPU time: it moves little with other load) and the time a call's ending upsert takes. The
// "after" side folds the queue once a second as the runtime does; its cost is counted. A third
// side, "none", has no statistics trigger on calls: the floor.
//
//   npx tsx bench/screenpop/call-writes.ts [--calls 4000] [--rounds 3] [--users 2000] [--concurrency 8]

const { values: args } = parseArgs({ options: { calls: { type: 'string' }, rounds: { type: 'string' }, users: { type: 'string' }, concurrency: { type: 'string' } } });
const CALLS = Number(args.calls ?? 4000);
const ROUNDS = Number(args.rounds ?? 3);
const USERS = Number(args.users ?? 2000);
const CONCURRENCY = Number(args.concurrency ?? 8);
const ROOT = path.resolve(import.meta.dirname, '../..');
const log = benchLog('call-writes');
const cleanups = cleanupRegistry(log);
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');

/** The migrations up to (not including) `first`: a copy of the folder with the journal cut there. */
async function migrationsBefore(first: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sb-migrations-'));
  cleanups.push({ name: 'migrations copy', run: () => rm(dir, { recursive: true, force: true }) });
  await cp(MIGRATIONS_DIR, dir, { recursive: true });
  const journalPath = path.join(dir, 'meta/_journal.json');
  const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { entries: Array<{ idx: number }> };
  journal.entries = journal.entries.filter((e) => e.idx < first);
  await writeFile(journalPath, JSON.stringify(journal));
  return dir;
}

async function seed(database: Database) {
  await database.pool.query(`insert into departments (name, line_kind, line_target, time_zone)
    select 'D' || g, 'queue', 'q' || g, (array['Europe/Moscow', 'Asia/Yekaterinburg', 'Asia/Novosibirsk', 'Europe/Kaliningrad'])[1 + g % 4] from generate_series(1, 20) g`);
  await database.pool.query(`insert into users (login, name, password_hash, role, department_id, extension)
    select 'u' || g, 'U ' || g, 'x', 'manager', 1 + g % 20, (1000 + g)::text from generate_series(1, $1::int) g`, [USERS]);
  return (await database.pool.query<{ id: number }>('select id from users order by id')).rows.map((r) => r.id);
}

let seq = 0;
/** One call's three upserts, as the service stores an inbound call that is answered and ends. */
async function oneCall(database: Database, userId: number, endTimes: number[]) {
  const start = new Date();
  const linkedid = `${Math.floor(start.getTime() / 1000)}.${++seq}`;
  const summary: CallSummary = {
    linkedid, direction: 'inbound', did: '+74950000000', callerNumber: '79990000000', clientNumber: '+7999' + String(seq).padStart(7, '0'),
    startedAt: start, ringingAt: start, answeredAt: null, endedAt: null, talkSeconds: null, disposition: null, hangupCause: null,
    rang: [{ extension: '1001', at: start }], answeredByExtension: null, finalExtension: null, transfers: [], recording: null, legs: [],
    failureReason: null, originated: false, clickToCall: null,
  } as CallSummary;
  const parties: CallParties = { did: '+74950000000', clientId: null, ownerId: null, initiatedById: null, answeredById: null, finalUserId: null, externalNumber: summary.clientNumber, rang: [], transfers: [] };
  await upsertCall(database.pool, 'bench', summary, parties);
  const answered = new Date(start.getTime() + 3000);
  await upsertCall(database.pool, 'bench', { ...summary, answeredAt: answered }, { ...parties, answeredById: userId, finalUserId: userId });
  const t0 = performance.now();
  await upsertCall(database.pool, 'bench', { ...summary, answeredAt: answered, endedAt: new Date(start.getTime() + 60_000), talkSeconds: 57, disposition: 'answered', hangupCause: 16 }, { ...parties, answeredById: userId, finalUserId: userId });
  endTimes.push(performance.now() - t0);
}

type Side = 'before' | 'after' | 'none';
const SIDES: Side[] = ['before', 'after', 'none'];
const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

async function main(done: () => void) {
  const dataDir = await freshDataDir(path.join(ROOT, '.data/bench'), 'call-writes', { keep: false, removeStale: true, cleanups });
  const { url } = await startDatabase({ dataDir, databaseName: `switchboard_bench_writes_${process.pid}`, logger, cleanups });
  const sides: Record<Side, { database: Database; users: number[] }> = {} as never;
  for (const side of SIDES) {
    const u = new URL(url);
    const admin = createDatabase(url, { max: 1 });
    await admin.pool.query(`create database sb_writes_${side}`);
    await admin.close();
    u.pathname = `/sb_writes_${side}`;
    const database = createDatabase(u.toString(), { max: CONCURRENCY + 1 });
    cleanups.push({ name: `pool ${side}`, run: () => database.close() });
    await migrate(database.db, { migrationsFolder: side === 'before' ? await migrationsBefore(23) : MIGRATIONS_DIR });
    // The floor: the same writes with no statistics trigger on calls at all.
    if (side === 'none') await database.pool.query('drop trigger call_stats_insert on calls; drop trigger call_stats_update on calls; drop trigger call_stats_delete on calls');
    sides[side] = { database, users: await seed(database) };
  }
  log(`three databases: migrations through 0019 (before), with 0023 (after), and with 0023 but no statistics trigger on calls (none); ${USERS} users`);
  const meter = groupCpuMeter<'postgres'>((table) => {
    let ticks = 0;
    const walk = (pid: number, inside: boolean) => {
      for (const c of table.childrenOf(pid)) {
        const pg = inside || c.comm.startsWith('postgres');
        if (pg) ticks += c.ticks;
        walk(c.pid, pg);
      }
    };
    walk(process.pid, false);
    return { postgres: ticks };
  });
  const results: Record<Side, Array<{ cpuMsPerCall: number; callsPerS: number; endP50: number; endP99: number; other: number }>> = { before: [], after: [], none: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const side of round % 2 ? [...SIDES].reverse() : SIDES) {
      const { database, users } = sides[side];
      const endTimes: number[] = [];
      let next = 0;
      const fold = side === 'after' && process.env.BENCH_FOLD_AFTER !== '1' ? setInterval(() => void foldCallStats(database.pool), 1000) : null;
      const phase = meter.start();
      const t0 = performance.now();
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < CALLS) {
          next++;
          await oneCall(database, users[Math.floor(Math.random() * users.length)]!, endTimes);
        }
      }));
      // BENCH_FOLD_AFTER=1: no fold during the phase and the last one outside it (the trigger's share alone).
      const foldOutside = process.env.BENCH_FOLD_AFTER === '1';
      const early = foldOutside ? phase.stop() : null;
      if (side === 'after') {
        if (fold) clearInterval(fold);
        // The last interval's fold may still run (the lock turns this one away): fold until empty.
        while (Number((await database.pool.query('select count(*) from call_stats_queue')).rows[0].count) > 0) await foldCallStats(database.pool);
      }
      const wallS = (performance.now() - t0) / 1000;
      const s = early ?? phase.stop();
      endTimes.sort((a, b) => a - b);
      const r = {
        cpuMsPerCall: s ? Math.round(((s.groups.postgres * s.wallS * 1000) / CALLS) * 100) / 100 : NaN,
        callsPerS: Math.round(CALLS / wallS),
        endP50: Math.round(percentile(endTimes, 0.5) * 100) / 100,
        endP99: Math.round(percentile(endTimes, 0.99) * 100) / 100,
        other: s?.other ?? NaN,
      };
      results[side]!.push(r);
      log(`round ${round + 1} ${side.padEnd(6)}: PostgreSQL ${r.cpuMsPerCall} ms CPU a call, ${r.callsPerS} calls/s, ending upsert p50 ${r.endP50} ms p99 ${r.endP99} ms; other work on the machine ${r.other} cores`);
    }
  }
  const check = await sides.after.database.pool.query<{ queued: string; counted: string }>(
    `select (select count(*) from call_stats_queue) queued, (select sum(inbound) from call_stats_daily) counted`,
  );
  log(`after: queue left ${check.rows[0]!.queued}, calls counted in the rollup ${check.rows[0]!.counted} of ${CALLS * ROUNDS}`);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const side of SIDES) {
    const rs = results[side]!;
    log(`${side}: median of ${rs.length} rounds: ${median(rs.map((r) => r.cpuMsPerCall))} ms PostgreSQL CPU a call; ending upsert p50 ${median(rs.map((r) => r.endP50))} ms, p99 ${median(rs.map((r) => r.endP99))} ms; ${median(rs.map((r) => r.callsPerS))} calls/s`);
  }
  done();
}

runBenchmark(main, { log, cleanups, watchdogMs: 20 * 60_000 });
