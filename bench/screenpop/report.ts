import type { machine } from '../shared/machine.js';
import { describeCpu, type CpuShares } from './cpu.js';

// The markdown table printed at the end of `npm run bench:screenpop` (the figures BENCHMARKS.md
// quotes), and the percentile summary every latency figure goes through.

export interface Dist {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles (with 20 samples p99 is the maximum: said where it matters). */
export function dist(values: readonly number[]): Dist | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    n: sorted.length,
    p50: round(at(50)),
    p90: round(at(90)),
    p99: round(at(99)),
    max: round(sorted[sorted.length - 1]!),
    mean: round(sorted.reduce((s, v) => s + v, 0) / sorted.length),
  };
}

const ms = (v: number | null | undefined, digits = 2) => (v === null || v === undefined || Number.isNaN(v) ? '–' : `${v.toFixed(digits)} ms`);
const quad = (d: Dist | null) => (d ? `${ms(d.p50)} / ${ms(d.p90)} / ${ms(d.p99)} / ${ms(d.max, 1)}` : '–');
const kib = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? '–' : `${(bytes / 1024).toFixed(1)} KiB`);
const mib = (bytes: number | null | undefined) => (bytes === null || bytes === undefined ? '–' : `${(bytes / 2 ** 20).toFixed(1)} MiB`);
const verdict = (met: boolean) => (met ? 'met' : '**missed**');

export interface PhaseInput {
  ratePerS: number;
  count: number;
  all: Dist | null;
  cold: Dist | null;
  warm: Dist | null;
  met: boolean;
  missing: number;
  misdelivered: number;
  withCard: number;
  benchProcess: { loopDelay: { p50: number; p99: number; max: number }; gc: { count: number; totalMs: number; maxMs: number } };
  server: {
    pipeline: Dist | null;
    deliver: Dist | null;
    loopDelay: { p50: number; p99: number; max: number } | null;
    gc: { count: number; totalMs: number; maxMs: number } | null;
    poolWaitingMax: number | null;
    cpu: CpuShares | null;
    /** PostgreSQL's CPU time over the phase / its calls, ms. */
    postgresMsPerCall?: number | null;
  };
}

export interface TableInput {
  machine: ReturnType<typeof machine>;
  loadAverage: { start: number[]; end: number[] };
  service: { entry: string };
  setup: { users: number; connectSeconds: number; screensPlacement: string | null; pinning: { service: string; bench: string } | null };
  memory: {
    rss: { before: number | null; after: number | null; perConnection: number | null };
    heap: { before: number | null; after: number | null; perConnection: number | null };
    external: { perConnection: number | null };
  };
  pops: { arriveGapMs: number; phases: PhaseInput[] };
  fanout: { oneInstance: FanoutInput & { serverDeliver: Dist | null }; twoInstances: FanoutInput };
}

export interface FanoutInput {
  instances: number;
  reps: number;
  recipients: number;
  triggerToFirst: Dist | null;
  triggerToLast: Dist | null;
  spread: Dist | null;
  incomplete: number;
  met: boolean;
  cpu: CpuShares | null;
  /** From inside the service (write-watch.ts): when its socket writes of the frame began and ended. */
  service?: { triggerToFirstWrite: Dist | null; writeLoop: Dist | null; writeLoopUserCpu: Dist | null; writeLoopSystemCpu: Dist | null; lastWriteToLastScreen: Dist | null; remoteStartLag?: Dist | null };
  bench?: { mainLoopDelay: { p99: number; max: number }; screenThreadsLoopDelay: { p99: number; max: number } | null };
  /** The loopback floor measured right after (floor.ts), as many sender threads as instances. */
  floor?: { senders: number; goToLast: Dist | null; writeLoop: Dist | null };
}

function fanoutRows(f: FanoutInput & { serverDeliver?: Dist | null }): string[] {
  const where = f.instances === 1 ? 'one instance' : `${f.instances} instances, ${(f.recipients / f.instances).toLocaleString('en')} sockets each`;
  return [
    `| **fan-out, ${where}**: reminder.ack sent → reminder.acked at the LAST of ${f.recipients.toLocaleString('en')} screens (${f.reps} reps): p50 / p90 / p99 / max | ${quad(f.triggerToLast)} — ≤ 50 ms at the median ${verdict((f.triggerToLast?.p50 ?? Infinity) <= 50)}, at the slowest rep ${verdict(f.met)} |`,
    `| — trigger → first screen | ${quad(f.triggerToFirst)} |`,
    `| — first → last screen | ${quad(f.spread)} |`,
    ...(f.service
      ? [
          `| — service: trigger → its first socket write (ack parsed, UPDATE, publish) | ${quad(f.service.triggerToFirstWrite)} |`,
          `| — service: first → last socket write (the write loop${f.instances > 1 ? ', both instances' : ''}) | ${quad(f.service.writeLoop)} |`,
          ...(f.service.remoteStartLag ? [`| — service: the other instance's first write − the sending instance's (over Redis) | ${quad(f.service.remoteStartLag)} |`] : []),
          `| — service CPU in the write loop p50: user (JavaScript) / system (kernel) | ${ms(f.service.writeLoopUserCpu?.p50)} / ${ms(f.service.writeLoopSystemCpu?.p50)} |`,
          `| — screens: the service's last write → the last screen's read | ${quad(f.service.lastWriteToLastScreen)} |`,
        ]
      : []),
    ...(f.serverDeliver ? [`| — service side: WsHub.deliver to ${f.recipients.toLocaleString('en')} sockets (the synchronous send loop) | ${quad(f.serverDeliver)} |`] : []),
    ...(f.bench
      ? [`| — benchmark event-loop delay p99 / max: main thread; screen threads | ${ms(f.bench.mainLoopDelay.p99)} / ${ms(f.bench.mainLoopDelay.max, 1)}; ${f.bench.screenThreadsLoopDelay ? `${ms(f.bench.screenThreadsLoopDelay.p99)} / ${ms(f.bench.screenThreadsLoopDelay.max, 1)}` : '– (in the main thread)'} |`]
      : []),
    `| — reps where a screen got nothing within 5 s | ${f.incomplete} |`,
    `| — cores used | ${describeCpu(f.cpu)} |`,
    ...(f.floor
      ? [`| — the machine's floor, measured next: ${f.floor.senders === 1 ? 'a bare thread writes' : `${f.floor.senders} bare threads write`} the same-size frame to ${f.recipients.toLocaleString('en')} loopback TCP sockets (floor.ts): go → last read | ${quad(f.floor.goToLast)} |`]
      : []),
  ];
}

function phaseRows(p: PhaseInput, arriveGapMs: number): string[] {
  const s = p.server;
  const rows = [
    `| **pop latency at ${p.ratePerS} calls/s** (${p.count.toLocaleString('en')} pops), AMI DialBegin written → call.ringing at the screen: p50 / p90 / p99 / max | ${quad(p.all)} — p99 ≤ 20 ms ${verdict(p.met)} |`,
    `| — cold: the whole call start in one write (client lookup, card query, call upsert before the pop) | ${quad(p.cold)} |`,
    `| — warm: trunk channel ${arriveGapMs} ms before the dial (the route step in between) | ${quad(p.warm)} |`,
    `| — missing / misdelivered / with a client card | ${p.missing} / ${p.misdelivered} / ${p.withCard} of ${p.count} |`,
  ];
  if (s.pipeline) rows.push(`| — service side: DialBegin handled → frame handed to WsHub.deliver | ${quad(s.pipeline)} |`);
  if (s.poolWaitingMax !== null) rows.push(`| — service side: most queries waiting for a pooled connection (pool of 10) | ${s.poolWaitingMax} |`);
  rows.push(
    `| — service event-loop delay p50 / p99 / max; GC pauses count, total, longest | ${s.loopDelay ? `${ms(s.loopDelay.p50)} / ${ms(s.loopDelay.p99)} / ${ms(s.loopDelay.max, 1)}` : '–'}; ${s.gc ? `${s.gc.count}, ${ms(s.gc.totalMs, 0)}, ${ms(s.gc.maxMs, 1)}` : '–'} |`,
    `| — cores used | ${describeCpu(s.cpu)} |`,
    `| — this process (screens, fake PBX): event-loop delay max; GC longest | ${ms(p.benchProcess.loopDelay.max, 1)}; ${ms(p.benchProcess.gc.maxMs, 1)} |`,
  );
  return rows;
}

export function table(r: TableInput): string {
  return [
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}; load average at start ${r.loadAverage.start.join(' ')}, at end ${r.loadAverage.end.join(' ')}`,
    `Service: ${r.service.entry} (child process, NODE_ENV=production, LOG_LEVEL=warn)`,
    r.setup.pinning ? `CPUs: service(s) ${r.setup.pinning.service}, benchmark (screens, fake PBX) ${r.setup.pinning.bench}, PostgreSQL and Redis any (BENCH_PIN=1)` : 'CPUs: not pinned (BENCH_PIN=1 pins them: bench/shared/pin.ts)',
    `Screens' threads: ${r.setup.screensPlacement ?? 'placed by the kernel'} (bench/shared/pin.ts, screensApart; BENCH_SCREENS_SCHED=normal leaves them to the kernel)`,
    '',
    '| figure | value |',
    '|---|---|',
    `| ${r.setup.users.toLocaleString('en')} WebSocket screens connected (100 handshakes at a time) | ${r.setup.connectSeconds.toFixed(1)} s |`,
    ...r.pops.phases.flatMap((p) => phaseRows(p, r.pops.arriveGapMs)),
    ...fanoutRows(r.fanout.oneInstance),
    ...fanoutRows(r.fanout.twoInstances),
    `| **memory per idle connection**: service VmRSS (after − before) ÷ ${r.setup.users.toLocaleString('en')} | ${kib(r.memory.rss.perConnection)} (RSS ${mib(r.memory.rss.before)} → ${mib(r.memory.rss.after)}) |`,
    `| — JS heap after forced GC, per connection | ${kib(r.memory.heap.perConnection)} (heap ${mib(r.memory.heap.before)} → ${mib(r.memory.heap.after)}) |`,
    `| — external + array buffers after forced GC, per connection | ${kib(r.memory.external.perConnection)} |`,
  ].join('\n');
}
