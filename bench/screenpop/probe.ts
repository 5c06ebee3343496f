// Loaded into the service process with `--import ./bench/screenpop/probe.ts` (after tsx), so the
// unmodified entry (src/server.ts) can be observed: it answers the benchmark over the IPC channel
// of the parent, never on the network.
//   `mem`   → two forced GCs (the service runs with --expose-gc), then process.memoryUsage();
//   `stats` → event-loop delay (beyond the 5 ms sampling timer), GC pauses and when the loop
//             stalled since the last `reset`, plus the extra timings service.ts registers;
//   `reset` → starts a new measuring period;
//   `watchWrites` + marker → times the socket writes of the next frame containing the marker
//             (write-watch.ts); `writes` → their first and last write, epoch ms, and stops.
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { createWriteWatch, type WriteSpan } from './write-watch.js';

export interface ProbeStats {
  loopDelay: { p50: number; p99: number; max: number };
  gc: { count: number; totalMs: number; maxMs: number };
  /** Wall-clock (epoch ms) start and length of each event-loop stall over 15 ms (with the
   *  process's CPU time in it) and of each GC pause over 5 ms. */
  stalls: Array<{ at: number; ms: number; cpuMs: number }>;
  /** `kind`: V8's collector (minor = scavenge of the young generation, major = mark-compact). */
  gcPauses: Array<{ at: number; ms: number; kind: string }>;
  [extra: string]: unknown;
}

/** A 'gc' entry's detail.kind is one of perf_hooks.constants.NODE_PERFORMANCE_GC_*. */
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
const gcKind = (entry: object) => GC_KINDS[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';

export type ProbeRequest = { cmd: 'mem' } | { cmd: 'stats' } | { cmd: 'reset' } | { cmd: 'watchWrites'; marker: string } | { cmd: 'writes' };
export type { WriteSpan };

const extras: Array<{ collect: () => Record<string, unknown>; reset: () => void }> = [];

/** For service.ts: more figures in the `stats` answer. */
export function addProbeStats(collect: () => Record<string, unknown>, reset: () => void): void {
  extras.push({ collect, reset });
}

if (process.send) {
  const RESOLUTION_MS = 5;
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();
  // The histogram holds the timer's whole interval: the delay is what exceeds the resolution.
  const ms = (ns: number) => Math.max(0, Math.round(ns / 1e3) / 1e3 - RESOLUTION_MS);
  let gc = { count: 0, totalMs: 0, maxMs: 0 };
  let gcPauses: ProbeStats['gcPauses'] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count += 1;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      if (entry.duration > 5) gcPauses.push({ at: performance.timeOrigin + entry.startTime, ms: entry.duration, kind: gcKind(entry) });
    }
  }).observe({ entryTypes: ['gc'] });
  // A 5 ms tick that notes when it came late: when the loop was blocked, and for how long. The
  // process's CPU time over the same gap tells a loop busy with our own work (CPU ≈ the gap)
  // from a process that was not scheduled at all (other work on the machine: CPU ≪ the gap).
  let stalls: ProbeStats['stalls'] = [];
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage();
    const late = now - last - 5;
    if (late > 15) stalls.push({ at: performance.timeOrigin + last + 5, ms: late, cpuMs: (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000 });
    last = now;
    lastCpu = cpu;
  }, 5).unref();
  const writeWatch = createWriteWatch();
  process.on('message', (request: ProbeRequest) => {
    if (request?.cmd === 'mem') {
      const gc = (globalThis as { gc?: () => void }).gc;
      gc?.();
      gc?.();
      process.send?.({ cmd: 'mem', gc: gc !== undefined, usage: process.memoryUsage() });
    } else if (request?.cmd === 'stats') {
      const stats: ProbeStats = {
        loopDelay: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
        gc: { count: gc.count, totalMs: Math.round(gc.totalMs * 10) / 10, maxMs: Math.round(gc.maxMs * 10) / 10 },
        stalls,
        gcPauses,
      };
      for (const extra of extras) Object.assign(stats, extra.collect());
      process.send?.({ cmd: 'stats', stats });
    } else if (request?.cmd === 'watchWrites') {
      writeWatch.arm(request.marker);
      process.send?.({ cmd: 'watchWrites' });
    } else if (request?.cmd === 'writes') {
      process.send?.({ cmd: 'writes', span: writeWatch.take() });
    } else if (request?.cmd === 'reset') {
      loop.reset();
      gc = { count: 0, totalMs: 0, maxMs: 0 };
      stalls = [];
      gcPauses = [];
      for (const extra of extras) extra.reset();
      process.send?.({ cmd: 'reset' });
    }
  });
  // The IPC channel must not keep a finished service alive, nor outlive the benchmark.
  process.channel?.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
