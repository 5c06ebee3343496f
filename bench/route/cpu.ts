import { readdirSync, readFileSync } from 'node:fs';

// Who used the CPU during a phase (Linux /proc; elsewhere the figures are null): the load
// generator (this process), the service, the bare server, PostgreSQL (postmaster and backends),
// redis, and everything else on the machine. On a shared 2-core box "everything else" decides
// whether a run's figures mean anything.

export type CpuGroup = 'loadgen' | 'service' | 'bare' | 'postgres' | 'redis' | 'other';
export type CpuShares = Record<CpuGroup, number> & { wallS: number; cores: number };

interface Sample {
  at: number;
  machineBusy: number;
  groups: Record<Exclude<CpuGroup, 'other'>, number>;
}

const TICKS_PER_S = 100; // USER_HZ on Linux

function machineBusyTicks(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return user + nice + system + irq + softirq + steal;
}

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime. */
  own: number;
  /** With the reaped children (cutime + cstime): exited PostgreSQL backends stay counted. */
  ticks: number;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const rest = stat.slice(close + 2).split(' ');
      // rest[0] = state (field 3); utime..cstime are fields 14–17.
      const own = Number(rest[11]) + Number(rest[12]);
      out.push({ pid: Number(entry), ppid: Number(rest[1]), comm, own, ticks: own + Number(rest[13]) + Number(rest[14]) });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function cpuMeter(pids: () => { service?: number; bare?: number }) {
  const supported = process.platform === 'linux';
  const sample = (): Sample | null => {
    if (!supported) return null;
    const procs = processes();
    const children = new Map<number, Proc[]>();
    for (const p of procs) {
      const list = children.get(p.ppid) ?? [];
      list.push(p);
      children.set(p.ppid, list);
    }
    const subtree = (pid: number | undefined): Proc[] => {
      if (pid === undefined) return [];
      const root = procs.find((p) => p.pid === pid);
      if (!root) return [];
      const out = [root];
      for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!.pid) ?? []));
      return out;
    };
    const sum = (list: Proc[]) => list.reduce((a, p) => a + p.ticks, 0);
    const { service, bare } = pids();
    const mine = subtree(process.pid);
    const serviceTree = subtree(service);
    const bareTree = subtree(bare);
    const postgres = mine.filter((p) => p.comm === 'postgres');
    const redis = mine.filter((p) => p.comm.startsWith('redis'));
    const self = procs.find((p) => p.pid === process.pid);
    return {
      at: performance.now(),
      machineBusy: machineBusyTicks(),
      groups: {
        // This process only (autocannon or the paced generator); its children are in their groups.
        loadgen: self?.own ?? 0,
        service: sum(serviceTree),
        bare: sum(bareTree),
        postgres: sum(postgres),
        redis: sum(redis),
      },
    };
  };

  return {
    start() {
      const first = sample();
      return {
        /** Average cores used per group over the phase. */
        stop(): CpuShares | null {
          const last = sample();
          if (!first || !last) return null;
          const wallS = (last.at - first.at) / 1000;
          const cores = (ticks: number) => Math.round((ticks / TICKS_PER_S / wallS) * 100) / 100;
          const groups = Object.fromEntries(
            (Object.keys(last.groups) as Array<keyof Sample['groups']>).map((g) => [g, cores(last.groups[g] - first.groups[g])]),
          ) as Record<Exclude<CpuGroup, 'other'>, number>;
          const ours = Object.values(groups).reduce((a, b) => a + b, 0);
          const busy = cores(last.machineBusy - first.machineBusy);
          return { ...groups, other: Math.max(0, Math.round((busy - ours) * 100) / 100), wallS: Math.round(wallS * 10) / 10, cores: busy };
        },
      };
    },
  };
}
