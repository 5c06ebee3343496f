import { groupCpuMeter } from '../shared/cpu-meter.js';

// Who used the CPU during a phase of bench:route: the load generator (this process), the
// service, the bare server, PostgreSQL (postmaster and backends), redis, and everything else on
// the machine (bench/shared/cpu-meter.ts does the sampling).

export type CpuGroup = 'loadgen' | 'service' | 'bare' | 'postgres' | 'redis' | 'other';
/** `steal`: cores the hypervisor took away; not in `other` since 2026-11-22 22:00 UTC (bench/shared/cpu-meter.ts). */
export type CpuShares = Record<CpuGroup, number> & { steal: number; wallS: number; cores: number };

export function cpuMeter(pids: () => { service?: number; bare?: number }) {
  const meter = groupCpuMeter((table) => {
    const sum = (list: Array<{ ticks: number }>) => list.reduce((a, p) => a + p.ticks, 0);
    const { service, bare } = pids();
    const mine = table.subtree(process.pid);
    return {
      // This process only (autocannon or the paced generator); its children are in their groups.
      loadgen: table.get(process.pid)?.own ?? 0,
      service: sum(table.subtree(service)),
      bare: sum(table.subtree(bare)),
      postgres: sum(mine.filter((p) => p.comm === 'postgres')),
      redis: sum(mine.filter((p) => p.comm.startsWith('redis'))),
    };
  });
  return {
    start() {
      const phase = meter.start();
      return {
        /** Average cores used per group over the phase; `cores` is the whole machine's. */
        stop(): CpuShares | null {
          const s = phase.stop();
          return s && { ...s.groups, other: s.other, steal: s.steal, wallS: s.wallS, cores: s.machine };
        },
      };
    },
  };
}
