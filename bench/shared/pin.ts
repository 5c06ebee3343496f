import { execFileSync } from 'node:child_process';
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
