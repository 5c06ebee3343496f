import { performance } from 'node:perf_hooks';
import { machineTicks, readProcesses, TICKS_PER_S, type ProcessTable } from './proc.js';

// Average cores used per group of processes over a phase (Linux /proc; null elsewhere), and by
// everything else on the machine, and what the hypervisor took away (steal). On a shared 2-core
// VM those two decide whether a run's figures mean anything. Each benchmark says which processes
// form its groups (its own cpu.ts).

export interface GroupShares<G extends string> {
  groups: Record<G, number>;
  /** Busy cores of the machine minus the groups' (never below 0), host steal NOT included
   *  (it was until 2026-11-22 22:00 UTC: older figures' "other" is this plus steal). */
  other: number;
  /** Busy cores of the whole machine, host steal NOT included (it was until 2026-11-22 22:00 UTC). */
  machine: number;
  /** Cores the hypervisor gave to something else while this machine wanted them (/proc/stat
   *  steal). A phase with steal did not have the CPU it seemed to have. */
  steal: number;
  wallS: number;
  /** CPU time of each group over the phase, unrounded (ms; 10 ms ticks): per-call figures from it. */
  cpuMs: Record<G, number>;
}

interface Sample<G extends string> {
  at: number;
  machine: { busy: number; steal: number };
  groups: Record<G, number>;
}

/** `groupTicks` sums the CPU ticks of each group from one reading of the process table. */
export function groupCpuMeter<G extends string>(groupTicks: (table: ProcessTable) => Record<G, number>) {
  const supported = process.platform === 'linux';
  const sample = (): Sample<G> | null => {
    if (!supported) return null;
    const groups = groupTicks(readProcesses());
    return { at: performance.now(), machine: machineTicks(), groups };
  };
  return {
    /** Call before the phase; `stop()` after it. */
    start(): { stop(): GroupShares<G> | null } {
      const first = sample();
      return {
        stop() {
          const last = sample();
          if (!first || !last) return null;
          const wallS = (last.at - first.at) / 1000;
          const cores = (ticks: number) => Math.round((ticks / TICKS_PER_S / wallS) * 100) / 100;
          const groups = Object.fromEntries(
            (Object.keys(last.groups) as G[]).map((g) => [g, cores(last.groups[g] - first.groups[g])]),
          ) as Record<G, number>;
          const ours = (Object.values(groups) as number[]).reduce((a, b) => a + b, 0);
          const steal = cores(last.machine.steal - first.machine.steal);
          const machine = Math.round((cores(last.machine.busy - first.machine.busy) - steal) * 100) / 100;
          const cpuMs = Object.fromEntries((Object.keys(last.groups) as G[]).map((g) => [g, ((last.groups[g] - first.groups[g]) * 1000) / TICKS_PER_S])) as Record<G, number>;
          return { groups, other: Math.max(0, Math.round((machine - ours) * 100) / 100), machine, steal, wallS: Math.round(wallS * 10) / 10, cpuMs };
        },
      };
    },
  };
}
