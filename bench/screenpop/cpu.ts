import os from 'node:os';
import { groupCpuMeter } from '../shared/cpu-meter.js';

// Who used the CPU during a phase of bench:screenpop: this process (screens + fake AMI), the
// service instance(s), PostgreSQL and Redis when this run started them (descendants of this
// process), and everything else on the machine (bench/shared/cpu-meter.ts does the sampling).

export interface CpuShares {
  /** Average cores used over the phase. */
  bench: number;
  service: number;
  postgres: number;
  redis: number;
  /** Everything else the machine ran (host steal not included since 2026-11-22 22:00 UTC). */
  other: number;
  /** Cores the hypervisor took away (bench/shared/cpu-meter.ts). */
  steal: number;
  machine: number;
  cores: number;
  wallS: number;
  /** PostgreSQL's CPU time over the phase, ms (unrounded: divided by the calls it is the CPU a call). */
  postgresCpuMs: number;
}

type Group = 'bench' | 'service' | 'postgres' | 'redis';

/** start() before a phase, stop() after: average cores per group over the phase. */
export function cpuMeter(servicePids: () => ReadonlyArray<number | undefined>) {
  const meter = groupCpuMeter<Group>((table) => {
    const pids = servicePids();
    // A process's ticks include only the children it has reaped, so a subtree's time is the sum of its members'.
    const groups: Record<Group, number> = { bench: table.get(process.pid)?.ticks ?? 0, service: 0, postgres: 0, redis: 0 };
    const walk = (pid: number, inherited: Group | null) => {
      for (const c of table.childrenOf(pid)) {
        const group = inherited ?? (pids.includes(c.pid) ? 'service' : c.comm.startsWith('postgres') ? 'postgres' : c.comm.startsWith('redis') ? 'redis' : 'bench');
        groups[group] += c.ticks;
        walk(c.pid, group);
      }
    };
    walk(process.pid, null);
    return groups;
  });
  return {
    start(): { stop: () => CpuShares | null } {
      const phase = meter.start();
      return {
        stop() {
          const s = phase.stop();
          return s && { ...s.groups, other: s.other, steal: s.steal, machine: s.machine, cores: os.cpus().length, wallS: s.wallS, postgresCpuMs: s.cpuMs.postgres };
        },
      };
    },
  };
}

export const describeCpu = (c: CpuShares | null) =>
  c ? `bench ${c.bench}, service ${c.service}, postgres ${c.postgres}, redis ${c.redis}, other processes ${c.other} (machine ${c.machine} of ${c.cores} cores); host steal ${c.steal}` : '–';
