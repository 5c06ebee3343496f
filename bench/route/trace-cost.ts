// `npx tsx bench/route/trace-cost.ts` — PostgreSQL's own CPU for what the route webhook asks of
// it: one routing-trace row, and one directory ping (README, "How it is built"). The route
// benchmark runs PostgreSQL on the same two cores as the service and the load generator, so
// PostgreSQL's CPU per answer is throughput the service does not get.
//
// A fresh embedded PostgreSQL (deleted at the end), the migrations, then on ONE connection whose
// backend's CPU time is read from /proc before and after each measurement:
// - trace rows through the real TraceWriter (COPY, json columns: what the service does), in
//   batches of 200 (the route benchmark's 50 ms flush at ~4,000 answers/s);
// - the same rows with the previous statement (`INSERT … SELECT FROM json_to_recordset($1)`)
//   into a copy of the table with the previous jsonb columns;
// - the directory's ping (the empty query) and, for scale, `select 1`.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { decodeHashBody, encodeHashBody } from '../../src/routing/answer-format.js';
import { decodeCandidates, encodeCandidates } from '../../src/routing/trace-encoding.js';
import { createTraceWriter, type RouteDecisionRow } from '../../src/routing/trace-writer.js';
import { freshDataDir, startDatabase } from '../shared/infra.js';
import { benchLog, cleanupRegistry, runBenchmark } from '../shared/lifecycle.js';
import { TICKS_PER_S } from '../shared/proc.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ROWS = 40_000;
const BATCH = 200;
const PINGS = 20_000;

const log = benchLog('bench:trace-cost');
const cleanups = cleanupRegistry(log);
const logger = createLogger('warn');

/** User + system CPU of a process so far, in µs (clock ticks of 10 ms: measure seconds, not calls). */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / TICKS_PER_S;
}

const row = (i: number): RouteDecisionRow => ({
  linkedid: `1712345678.${i}`,
  uniqueid: `1712345678.${i}`,
  step: 1,
  lastStatus: '',
  callerRaw: '79161234567',
  caller: '+79161234567',
  did: '+74951110001',
  action: 'dial',
  reason: 'owner',
  answerBody: encodeHashBody({
    action: 'dial', dial: 'PJSIP/1017', timeout: '20', queue: '', mailbox: '', step: '1', reason: 'owner',
    client_id: '48213', client_name: 'ООО Клиент 48213', manager_id: '17', call_id: `1712345678.${i}`, tried: '1o',
  }),
  candidateList: encodeCandidates([{ target: 'owner', userId: 17, chosen: true }]),
  clientId: 48213,
  managerId: 17,
  latencyMs: 0.52,
});

const PREVIOUS_INSERT = {
  name: 'previous-trace-insert',
  text: `insert into route_decisions_jsonb
  (linkedid, uniqueid, step, last_status, caller_raw, caller, did, action, reason, answer, candidates, client_id, manager_id, latency_ms)
select linkedid, uniqueid, step, last_status, caller_raw, caller, did, action, reason, answer, candidates, client_id, manager_id, latency_ms
from json_to_recordset($1::json) as r(linkedid text, uniqueid text, step int2, last_status text, caller_raw text, caller text,
  did text, action text, reason text, answer jsonb, candidates jsonb, client_id int4, manager_id int4, latency_ms float4)`,
};
const previousJson = (rows: RouteDecisionRow[]) =>
  JSON.stringify(
    rows.map((r) => ({
      linkedid: r.linkedid, uniqueid: r.uniqueid, step: r.step, last_status: r.lastStatus, caller_raw: r.callerRaw, caller: r.caller,
      did: r.did, action: r.action, reason: r.reason, answer: decodeHashBody(r.answerBody), candidates: decodeCandidates(r.candidateList), client_id: r.clientId,
      manager_id: r.managerId, latency_ms: r.latencyMs,
    })),
  );

async function main(done: () => void) {
  const dataDir = await freshDataDir(path.join(ROOT, '.data/bench'), 'trace-cost', { keep: false, removeStale: true, cleanups });
  const { url } = await startDatabase({ dataDir, databaseName: `switchboard_trace_cost_${process.pid}`, logger, cleanups });
  const database = createDatabase(url, { max: 1 });
  cleanups.push({ name: 'pool', run: () => database.close() });
  await runMigrations(database.db);
  await database.pool.query(`create table route_decisions_jsonb (like route_decisions including all)`);
  await database.pool.query(`alter table route_decisions_jsonb alter answer type jsonb, alter candidates type jsonb`);
  // One connection: the pool's only backend does all the work measured below.
  const backend = (await database.pool.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;

  const measure = async (name: string, count: number, work: () => Promise<void>) => {
    const cpu0 = cpuMicros(backend);
    const wall0 = performance.now();
    await work();
    const cpu = (cpuMicros(backend) - cpu0) / count;
    const wall = ((performance.now() - wall0) * 1000) / count;
    log(`${name}: PostgreSQL ${cpu.toFixed(1)} µs CPU each, ${wall.toFixed(1)} µs wall`);
    return { name, count, pgCpuMicros: Math.round(cpu * 10) / 10, wallMicros: Math.round(wall * 10) / 10 };
  };

  const writer = createTraceWriter(database.pool, logger);
  const results = [];
  for (let round = 1; round <= 2; round++) {
    results.push(
      await measure(`round ${round}: trace row, COPY into json columns (the service)`, ROWS, async () => {
        for (let i = 0; i < ROWS; i += BATCH) {
          for (let j = 0; j < BATCH; j++) writer.write(row(round * ROWS + i + j));
          await writer.flush();
        }
      }),
      await measure(`round ${round}: trace row, json_to_recordset into jsonb columns (before)`, ROWS, async () => {
        for (let i = 0; i < ROWS; i += BATCH) {
          await database.pool.query({ ...PREVIOUS_INSERT, values: [previousJson(Array.from({ length: BATCH }, (_, j) => row(round * ROWS + i + j)))] });
        }
      }),
    );
  }
  const client = await database.pool.connect();
  try {
    results.push(
      await measure('directory ping (empty query)', PINGS, async () => {
        for (let i = 0; i < PINGS; i++) await client.query('');
      }),
      await measure('select 1', PINGS, async () => {
        for (let i = 0; i < PINGS; i++) await client.query('select 1');
      }),
    );
  } finally {
    client.release();
  }
  console.log(JSON.stringify({ rows: ROWS, batch: BATCH, pings: PINGS, results }, null, 2));
  done();
}

runBenchmark(main, { log, cleanups, watchdogMs: 10 * 60_000 });
