import { execFileSync } from 'node:child_process';
import { readlinkSync } from 'node:fs';
import os from 'node:os';

// CPU placement for a benchmark whose clients stand for other machines (bench/screenpop: 2,000
// screens and the PBX), opt-in with BENCH_PIN=1. On one box over loopback the kernel may wake a
// receiving thread on the CPU of the thread that wrote to it, so the screens' thread can end up
// sharing the service's core during a fan-out while the other core idles (unpinned, the
// service's write loop took 32–44 ms of wall time for 23–27 ms of CPU; pinned, wall ≈ CPU). With
// the benchmark process (screens, fake PBX) on the last CPU and the service(s) on the others,
// that cannot happen. The price on a 2-core machine: the service(s) get one core, which
// PostgreSQL shares (pops at 50–100 calls/s get slower) and two instances share (no parallel
// fan-out). So it is not the default. PostgreSQL and Redis, started before, keep every CPU.
//
// `taskset` (util-linux) sets the affinity of every thread of a running process (-a); threads
// created later inherit it from the thread that creates them.
//
// The default since 2026-11-22 21:45 UTC is lighter (`screensApart` below): only the screens'
// threads are placed, on the last CPU and under SCHED_BATCH; the service keeps every CPU.

export interface Pinning {
  /** CPU list for the service processes, e.g. "0" or "0-6". */
  service: string;
  /** CPU list for the benchmark process (its worker threads included). */
  bench: string;
}

/** The placement to use, or null: BENCH_PIN unset, a single CPU, or no `taskset`. */
export function planPinning(): Pinning | null {
  if (process.env.BENCH_PIN !== '1') return null;
  const cpus = os.availableParallelism();
  if (cpus < 2 || !hasTaskset()) return null;
  const last = cpus - 1;
  return { service: last === 1 ? '0' : `0-${last - 1}`, bench: String(last) };
}

/** Pins every thread of `pid` to the CPUs in `list` (taskset syntax). */
export function pin(pid: number, list: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', list, String(pid)], { stdio: 'ignore' });
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Keeps a thread of simulated screens (by default the calling one) out of the service's way:
 * SCHED_BATCH (`chrt -b`), so its wake-ups never preempt a running thread, and the LAST CPU only
 * (`taskset`, this thread alone; the service keeps every CPU). BENCH_SCREENS_SCHED=batch does
 * the first only, =normal neither.
 * Why: on loopback a screen is woken by the service's own socket write, and the kernel put it
 * on the service's CPU while the other one idled. Over one fan-out phase (bench/screenpop/
 * sched-waits.ts): the service's write loop was preempted ~170 times a rep and waited ~11 ms a
 * rep behind the screens' thread; with SCHED_BATCH alone, 9 preemptions a rep but still ~9 ms
 * of waiting (the thread ran there at the next tick instead). A real screen is another machine
 * and takes no CPU from the service; the service still does the screens' kernel TCP receive
 * work, which loopback runs on the sender.
 * Returns what was done, for the report (null: nothing, or the tools are missing).
 */
export function screensApart(tid = threadId()): string | null {
  if (process.env.BENCH_SCREENS_SCHED === 'normal') return null;
  const done: string[] = [];
  const run = (what: string, command: string, args: string[]) => {
    try {
      execFileSync(command, args, { stdio: 'ignore' });
      done.push(what);
    } catch {
      // not on this machine (no util-linux, not Linux): the report shows what was done
    }
  };
  run('SCHED_BATCH', 'chrt', ['-b', '-p', '0', tid]);
  const last = os.availableParallelism() - 1;
  if (last > 0 && process.env.BENCH_SCREENS_SCHED !== 'batch') run(`CPU ${last}`, 'taskset', ['-p', '-c', String(last), tid]);
  return done.length > 0 ? done.join(', ') : null;
}

/** The kernel's id of the calling thread (Linux: /proc/thread-self is "<pid>/task/<tid>"). */
export function threadId(): string {
  return readlinkSync('/proc/thread-self').split('/').pop()!;
}
