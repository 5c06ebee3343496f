import { readFileSync } from 'node:fs';

// How long one thread waited for its CPU, and who had it meanwhile, from a scheduler trace. Used
// to find why the service's fan-out loop ran longer than the CPU it used (BENCHMARKS.md,
// "The machine's floor, and the screens kept off the service's CPU"):
//
//   BENCH_RATES=0 npm run bench:screenpop &          # wait for "memory with 2000 idle screens"
//   perf record -e sched:sched_switch -a -o sched.data -- sleep 8
//   perf script -i sched.data -F comm,tid,cpu,time,event,trace > sched.txt
//   npx tsx bench/screenpop/sched-waits.ts sched.txt <service pid>   # pid from "service up"
//
// A wait starts when the thread is switched out while still runnable (prev_state R or R+: it
// was preempted, it did not block) and ends when it is switched in again.

interface Switch {
  at: number;
  cpu: number;
  prevTid: number;
  prevState: string;
  nextComm: string;
  nextTid: number;
}

const LINE = /^\s*.+?\s+\d+\s+\[(\d+)\]\s+([\d.]+):\s+sched:sched_switch:\s+prev_comm=.* prev_pid=(\d+) prev_prio=\d+ prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+)/;

export function parseSwitches(text: string): Switch[] {
  const out: Switch[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (m) out.push({ cpu: Number(m[1]), at: Number(m[2]), prevTid: Number(m[3]), prevState: m[4]!, nextComm: m[5]!, nextTid: Number(m[6]) });
  }
  return out;
}

export interface Waits {
  preemptions: number;
  waitedMs: number;
  /** Who ran on the thread's CPU while it waited, ms per "comm tid", most first. */
  ranInstead: Array<{ who: string; ms: number }>;
}

export function waitsOf(switches: readonly Switch[], tid: number): Waits {
  // What ran on each CPU, and when.
  const runs: Array<{ cpu: number; from: number; to: number; who: string }> = [];
  const current = new Map<number, { from: number; who: string }>();
  for (const s of switches) {
    const was = current.get(s.cpu);
    if (was) runs.push({ cpu: s.cpu, from: was.from, to: s.at, who: was.who });
    current.set(s.cpu, { from: s.at, who: `${s.nextComm} ${s.nextTid}` });
  }
  const waits: Array<{ cpu: number; from: number; to: number }> = [];
  let out: { cpu: number; at: number } | null = null;
  for (const s of switches) {
    if (s.prevTid === tid && s.prevState.startsWith('R')) out = { cpu: s.cpu, at: s.at };
    else if (s.nextTid === tid && out) {
      waits.push({ cpu: out.cpu, from: out.at, to: s.at });
      out = null;
    }
  }
  const instead = new Map<string, number>();
  for (const w of waits) {
    for (const r of runs) {
      if (r.cpu !== w.cpu || r.to <= w.from || r.from >= w.to) continue;
      instead.set(r.who, (instead.get(r.who) ?? 0) + (Math.min(r.to, w.to) - Math.max(r.from, w.from)) * 1000);
    }
  }
  return {
    preemptions: waits.length,
    waitedMs: waits.reduce((sum, w) => sum + (w.to - w.from) * 1000, 0),
    ranInstead: [...instead].map(([who, ms]) => ({ who, ms })).sort((a, b) => b.ms - a.ms),
  };
}

if (process.argv[1]?.endsWith('sched-waits.ts')) {
  const [file, tid] = process.argv.slice(2);
  if (!file || !tid) throw new Error('usage: npx tsx bench/screenpop/sched-waits.ts <perf script output> <thread id>');
  const w = waitsOf(parseSwitches(readFileSync(file, 'utf8')), Number(tid));
  process.stdout.write(`thread ${tid}: preempted ${w.preemptions} times, ${w.waitedMs.toFixed(1)} ms runnable but not running\n`);
  for (const r of w.ranInstead.slice(0, 8)) process.stdout.write(`  ${r.ms.toFixed(1).padStart(8)} ms on its CPU: ${r.who}\n`);
}
