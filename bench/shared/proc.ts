import { readdirSync, readFileSync } from 'node:fs';

// Linux /proc readers for the benchmarks' CPU and memory figures. Each returns null (or an empty
// table) where /proc is missing, so a run elsewhere still finishes, without those figures.

export const TICKS_PER_S = 100; // USER_HZ on Linux

export interface Proc {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime. */
  own: number;
  /** With the reaped children (cutime + cstime): exited PostgreSQL backends stay counted. */
  ticks: number;
}

export interface ProcessTable {
  all: Proc[];
  get(pid: number | undefined): Proc | undefined;
  childrenOf(pid: number): Proc[];
  /** `pid` and all its descendants; empty when it is gone. */
  subtree(pid: number | undefined): Proc[];
}

/** Every process on the machine, from /proc/<pid>/stat. */
export function readProcesses(): ProcessTable {
  const all: Proc[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const rest = stat.slice(close + 2).split(' ');
      // rest[0] = state (field 3); utime..cstime are fields 14–17.
      const own = Number(rest[11]) + Number(rest[12]);
      all.push({ pid: Number(entry), ppid: Number(rest[1]), comm, own, ticks: own + Number(rest[13]) + Number(rest[14]) });
    } catch {
      // gone meanwhile
    }
  }
  const byPid = new Map(all.map((p) => [p.pid, p]));
  const children = new Map<number, Proc[]>();
  for (const p of all) {
    const list = children.get(p.ppid) ?? [];
    list.push(p);
    children.set(p.ppid, list);
  }
  const childrenOf = (pid: number) => children.get(pid) ?? [];
  return {
    all,
    get: (pid) => (pid === undefined ? undefined : byPid.get(pid)),
    childrenOf,
    subtree(pid) {
      const root = pid === undefined ? undefined : byPid.get(pid);
      if (!root) return [];
      const out = [root];
      for (let i = 0; i < out.length; i++) out.push(...childrenOf(out[i]!.pid));
      return out;
    },
  };
}

/** Ticks of the whole machine (all cores) since boot. busy: user, nice, system, irq, softirq and
 *  steal; steal alone: the time the hypervisor ran something else while a virtual CPU wanted to run. */
export function machineTicks(): { busy: number; steal: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return { busy: user + nice + system + irq + softirq + steal, steal };
}

/** VmRSS / VmHWM of a process in bytes, null where unknown. */
export function procMemory(pid: number | undefined): { rss: number; hwm: number } | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return null;
  }
}

/** The soft limit on open files of this process, null where unknown. */
export function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return null;
    return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return null;
  }
}
