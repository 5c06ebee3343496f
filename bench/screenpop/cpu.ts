import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

// Who used the CPU during a phase (Linux /proc; null elsewhere): this process (screens + fake
// AMI), the service instance(s), PostgreSQL and Redis when this run started them (descendants of this
// process), and everything else on the machine. On a shared machine "other" tells whether a
// run's figures mean anything.

export interface CpuShares {
  /** Average cores used over the phase. */
  bench: number;
  service: number;
  postgres: number;
  redis: number;
  other: number;
  machine: number;
  cores: number;
  wallS: number;
}

const HZ = 100; // USER_HZ

interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime + reaped children's (exited PostgreSQL backends stay counted). */
  ticks: number;
}

function procs(): Proc[] {
  const out: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const rest = stat.slice(close + 2).split(' ');
      out.push({
        pid: Number(entry),
        ppid: Number(rest[1]),
        comm: stat.slice(stat.indexOf('(') + 1, close),
        ticks: Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]),
      });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function machineTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
  return user + nice + system + irq + softirq + steal;
}

interface Sample {
  at: number;
  machine: number;
  groups: Record<'bench' | 'service' | 'postgres' | 'redis', number>;
}

/** A process's ticks include only the children it has reaped, so a subtree's time is the sum of its members'. */
function sample(servicePids: ReadonlyArray<number | undefined>): Sample {
  const all = procs();
  const children = new Map<number, Proc[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p]);
  const groups = { bench: 0, service: 0, postgres: 0, redis: 0 };
  groups.bench = all.find((p) => p.pid === process.pid)?.ticks ?? 0;
  const walk = (pid: number, inherited: keyof typeof groups | null) => {
    for (const c of children.get(pid) ?? []) {
      const group = inherited ?? (servicePids.includes(c.pid) ? 'service' : c.comm.startsWith('postgres') ? 'postgres' : c.comm.startsWith('redis') ? 'redis' : 'bench');
      groups[group] += c.ticks;
      walk(c.pid, group);
    }
  };
  walk(process.pid, null);
  return { at: performance.now(), machine: machineTicks(), groups };
}

/** start() before a phase, stop() after: average cores per group over the phase. */
export function cpuMeter(servicePids: () => ReadonlyArray<number | undefined>) {
  const supported = process.platform === 'linux';
  return {
    start(): { stop: () => CpuShares | null } {
      if (!supported) return { stop: () => null };
      const a = sample(servicePids());
      return {
        stop() {
          const b = sample(servicePids());
          const wallS = (b.at - a.at) / 1000;
          const cores = (ticks: number) => Math.round((ticks / HZ / wallS) * 100) / 100;
          const g = (k: keyof Sample['groups']) => cores(b.groups[k] - a.groups[k]);
          const machine = cores(b.machine - a.machine);
          const mine = g('bench') + g('service') + g('postgres') + g('redis');
          return {
            bench: g('bench'), service: g('service'), postgres: g('postgres'), redis: g('redis'),
            other: Math.max(0, Math.round((machine - mine) * 100) / 100), machine, cores: os.cpus().length, wallS: Math.round(wallS * 10) / 10,
          };
        },
      };
    },
  };
}

export const describeCpu = (c: CpuShares | null) =>
  c ? `bench ${c.bench}, service ${c.service}, postgres ${c.postgres}, redis ${c.redis}, other processes ${c.other} (machine ${c.machine} of ${c.cores} cores)` : '–';
