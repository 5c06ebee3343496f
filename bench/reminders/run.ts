import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Queue } from 'bullmq';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/logger.js';
import { alarmJob } from '../../src/reminders/reminder-scheduler.js';
import { createReminderModule } from '../../src/reminders/reminders.module.js';
import { insertReminders, seedPeople, startInfra, type BenchInfra } from './infra.js';

// bench/reminders: N reminders due over a few minutes, fired by the real module (BullMQ worker,
// guarded UPDATE, bus publish) against real PostgreSQL and Redis. Lateness = fired time minus due
// time, taken twice: fired_at written by PostgreSQL, and the moment the bus saw the frame.
// Then a burst (all due at one instant) measures how fast a backlog drains.
//
//   npx tsx bench/reminders/run.ts [--reminders 100000] [--spread 150] [--burst 20000] [--concurrency 50]
//                                  [--pg-pool 20] [--lead 90] [--out bench/results/reminders.json]
// or BENCH_REMINDERS, BENCH_SPREAD_SECONDS, BENCH_BURST, BENCH_CONCURRENCY, BENCH_PG_POOL, BENCH_LEAD_SECONDS,
// BENCH_OUT; DATABASE_URL / REDIS_URL to use running servers instead of embedded ones.

const { values: args } = parseArgs({
  options: {
    reminders: { type: 'string' },
    spread: { type: 'string' },
    burst: { type: 'string' },
    concurrency: { type: 'string' },
    'pg-pool': { type: 'string' },
    lead: { type: 'string' },
    out: { type: 'string' },
  },
});
const setting = (arg: string | undefined, env: string, fallback: number) => Number(arg ?? process.env[env] ?? fallback);
const settings = {
  reminders: setting(args.reminders, 'BENCH_REMINDERS', 100_000),
  spreadSeconds: setting(args.spread, 'BENCH_SPREAD_SECONDS', 150),
  burst: setting(args.burst, 'BENCH_BURST', 20_000),
  concurrency: setting(args.concurrency, 'BENCH_CONCURRENCY', 50),
  pgPool: setting(args['pg-pool'], 'BENCH_PG_POOL', 20),
  /** Seconds between the start of scheduling and the first due time; scheduling must fit in it. */
  leadSeconds: setting(args.lead, 'BENCH_LEAD_SECONDS', 90),
  reconcileSeconds: setting(undefined, 'BENCH_RECONCILE_SECONDS', 60),
};
const TARGETS = { p99Ms: 1_000, maxMs: 5_000, perSecond: 1_000 };

const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
const observed = new Map<number, number>();
const published = new Map<number, number>();
const bus = {
  publish(_to: object, frame: { type: string; reminder?: { id: number } }) {
    JSON.stringify(frame); // the real bus serialises each frame once
    if (frame.type !== 'reminder.due' || !frame.reminder) return;
    observed.set(frame.reminder.id, Date.now());
    published.set(frame.reminder.id, (published.get(frame.reminder.id) ?? 0) + 1);
  },
};

const percentile = (sorted: number[], q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!);
const summary = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b);
  return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), max: s[s.length - 1] ?? NaN };
};

async function runPhase(infra: BenchInfra, queue: Queue, name: string, count: number, spreadMs: number, leadMs: number) {
  const first = new Date(Date.now() + leadMs);
  const { minId, maxId } = await insertReminders(infra.database, count, first, spreadMs);
  const scheduleStart = Date.now();
  for (let from = minId; from <= maxId; from += 1000) {
    const { rows } = await infra.database.pool.query('select id, due_at from reminders where id between $1 and $2', [from, Math.min(maxId, from + 999)]);
    const now = Date.now();
    await queue.addBulk(rows.map((r) => alarmJob('fire', Number(r.id), r.due_at as Date, now)));
  }
  const scheduleMs = Date.now() - scheduleStart;
  if (Date.now() > first.getTime()) logger.warn({ name, scheduleMs }, 'scheduling ran past the first due time: raise --lead');
  process.stdout.write(`${name}: ${count} reminders scheduled in ${scheduleMs} ms; first due at ${first.toISOString()}\n`);

  const deadline = first.getTime() + spreadMs + 120_000;
  for (;;) {
    const { rows } = await infra.database.pool.query("select count(*)::int as n from reminders where id between $1 and $2 and status = 'pending'", [minId, maxId]);
    if (rows[0].n === 0 || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 1000));
  }

  const { rows } = await infra.database.pool.query(
    `select id, extract(epoch from due_at) * 1000 as due, extract(epoch from fired_at) * 1000 as fired
     from reminders where id between $1 and $2`,
    [minId, maxId],
  );
  const dbLate: number[] = [];
  const busLate: number[] = [];
  const perSecond = new Map<number, number>();
  /** The worst lateness per second of due time: shows whether the tail is one stall or spread out. */
  const worstBySecond = new Map<number, number>();
  let twice = 0;
  let lastFired = 0;
  for (const r of rows) {
    if (r.fired === null) continue;
    const due = Number(r.due);
    const fired = Number(r.fired);
    dbLate.push(fired - due);
    const seen = observed.get(Number(r.id));
    if (seen !== undefined) busLate.push(seen - due);
    if ((published.get(Number(r.id)) ?? 0) > 1) twice++;
    const second = Math.floor(fired / 1000);
    perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    const dueSecond = Math.floor((due - first.getTime()) / 1000);
    worstBySecond.set(dueSecond, Math.max(worstBySecond.get(dueSecond) ?? 0, fired - due));
    lastFired = Math.max(lastFired, fired);
  }
  const span = Math.max(lastFired - first.getTime(), spreadMs, 1);
  return {
    name,
    reminders: count,
    fired: dbLate.length,
    firedMoreThanOnce: twice,
    scheduleMs,
    dueOverSeconds: spreadMs / 1000,
    latenessMs: { firedAt: round(summary(dbLate)), bus: round(summary(busLate)) },
    // Fired per second from the first due time to the last firing; for a burst, the drain rate.
    throughputPerSecond: Math.round((dbLate.length / span) * 1000),
    peakPerSecond: Math.max(0, ...perSecond.values()),
    worstSeconds: [...worstBySecond].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([second, ms]) => ({ dueSecond: second, maxLatenessMs: Math.round(ms) })),
  };
}

const round = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)]));

async function main() {
  const infra = await startInfra({ logger, pgPool: settings.pgPool });
  const prefix = `bench-${Date.now()}`;
  const queueRedis = createRedis(infra.redisUrl, 'blocking');
  const queue = new Queue('reminders', { connection: queueRedis, prefix });
  const module = createReminderModule({
    db: infra.database.db,
    redisUrl: infra.redisUrl,
    bus,
    logger,
    config: { MISSED_CALL_CALLBACK_MINUTES: 15, MISSED_CALL_ESCALATE_MINUTES: 120, REMINDER_RECONCILE_SECONDS: settings.reconcileSeconds },
    prefix,
    concurrency: settings.concurrency,
  });
  try {
    await seedPeople(infra.database, 200, 5);
    const startAt = Date.now();
    await module.start();
    process.stdout.write(`worker and reconciler started in ${Date.now() - startAt} ms\n`);
    const phases = [await runPhase(infra, queue, 'spread', settings.reminders, settings.spreadSeconds * 1000, settings.leadSeconds * 1000)];
    if (settings.burst > 0) phases.push(await runPhase(infra, queue, 'burst', settings.burst, 0, 15_000));
    const reconcileStart = Date.now();
    const reconcile = await module.reconcile();
    const reconcileMs = Date.now() - reconcileStart;
    // After a Redis flush with N reminders pending: how long the reconciler takes to re-create
    // every alarm. Due in 100 s (inside its horizon) and never scheduled, as if Redis lost them.
    const lost = await insertReminders(infra.database, settings.reminders, new Date(Date.now() + 100_000), 0);
    const recoveryStart = Date.now();
    const recovered = await module.reconcile();
    const recovery = { pendingWithoutAlarm: lost.maxId - lost.minId + 1, ...recovered, ms: Date.now() - recoveryStart };
    process.stdout.write(`reconciler re-created ${recovered.added} lost alarms in ${recovery.ms} ms\n`);
    const spread = phases[0]!;
    const result = {
      date: new Date().toISOString(),
      machine: { nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.release()}` },
      infra: infra.where,
      settings,
      phases,
      reconcileAfterRun: { ...reconcile, ms: reconcileMs },
      recovery,
      targets: TARGETS,
      met: {
        p99: spread.latenessMs.firedAt.p99! <= TARGETS.p99Ms && spread.latenessMs.bus.p99! <= TARGETS.p99Ms,
        max: spread.latenessMs.firedAt.max! <= TARGETS.maxMs && spread.latenessMs.bus.max! <= TARGETS.maxMs,
        throughput: Math.max(...phases.map((p) => p.throughputPerSecond)) >= TARGETS.perSecond,
        exactlyOnce: phases.every((p) => p.fired === p.reminders && p.firedMoreThanOnce === 0),
      },
    };
    const file = path.resolve(args.out ?? process.env.BENCH_OUT ?? 'bench/results/reminders.json');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`\n${table(phases)}\n\ntargets met: ${JSON.stringify(result.met)}\nwritten to ${path.relative(process.cwd(), file)}\n`);
  } finally {
    await module.stop();
    await queue.close();
    queueRedis.disconnect();
    await infra.close();
  }
}

function table(phases: Array<Awaited<ReturnType<typeof runPhase>>>): string {
  const lines = [
    '| phase | reminders | due over | fired | fired twice | lateness p50 / p99 / max (fired_at) | lateness p50 / p99 / max (bus) | throughput | peak 1 s |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const p of phases) {
    const f = p.latenessMs.firedAt;
    const b = p.latenessMs.bus;
    lines.push(
      `| ${p.name} | ${p.reminders} | ${p.dueOverSeconds} s | ${p.fired} | ${p.firedMoreThanOnce} | ${f.p50} / ${f.p99} / ${f.max} ms | ${b.p50} / ${b.p99} / ${b.max} ms | ${p.throughputPerSecond}/s | ${p.peakPerSecond}/s |`,
    );
  }
  return lines.join('\n');
}

main().catch((err) => {
  logger.error({ err }, 'benchmark failed');
  process.exitCode = 1;
});
