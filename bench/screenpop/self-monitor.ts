import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

// Event-loop delay and GC pauses of THIS thread over a phase (the benchmark's main thread: the
// fake PBX and the pop schedule; the screens' threads measure themselves in screen-worker.ts).

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

export function selfMonitor() {
  const RESOLUTION_MS = 5;
  const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  loop.enable();
  const pauses: Array<{ start: number; duration: number }> = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) pauses.push({ start: e.startTime, duration: e.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      loop.disable();
      observer.disconnect();
      const ms = (ns: number) => Math.max(0, Math.round(ns / 1e3) / 1e3 - RESOLUTION_MS);
      return {
        loopDelay: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
        gc: {
          count: pauses.length,
          totalMs: round(pauses.reduce((sum, p) => sum + p.duration, 0), 1),
          maxMs: round(Math.max(0, ...pauses.map((p) => p.duration)), 1),
        },
        gcOverlapping: (from: number, to: number) =>
          round(pauses.filter((p) => p.start < to && p.start + p.duration > from).reduce((sum, p) => sum + p.duration, 0), 1),
      };
    },
  };
}
