import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loopbackFloor } from '../../bench/screenpop/floor.js';
import { screensApart, threadId } from '../../bench/shared/pin.js';
import { workerAnswers } from '../../bench/shared/ts-worker.js';

// bench/screenpop/floor.ts: the bare socket loop that bench:screenpop reports next to its
// fan-out. A rep only completes when every receiver has read every socket's frame, so a sender
// that skipped sockets or a receiver that miscounted would time out here.
describe('loopback floor (bench:screenpop)', () => {
  it('writes the frame to every socket, split over the sender threads, and times each rep', async () => {
    const result = await loopbackFloor({ sockets: 101, senders: 2, frameBytes: 36, reps: 3, warmup: 1, gapMs: 10 });
    expect(result).toMatchObject({ senders: 2, sockets: 101, reps: 3 });
    expect(result.goToLast?.n).toBe(3);
    expect(result.writeLoop?.n).toBe(3);
    expect(result.writesPerRep).toEqual({ min: 101, max: 101 });
    expect(result.goToLast!.p50).toBeGreaterThan(0);
  }, 30_000);
});

// bench/shared/pin.ts, screensApart: the screens' threads, and only they, are moved.
const linux = process.platform === 'linux' && os.availableParallelism() >= 2 && hasTools();
describe.skipIf(!linux)('screensApart (bench placement of the screens)', () => {
  const status = (tid: string) => readFileSync(`/proc/${process.pid}/task/${tid}/status`, 'utf8');
  const cpus = (tid: string) => /^Cpus_allowed_list:\s*(\S+)/m.exec(status(tid))![1];
  const policy = (tid: string) => execFileSync('chrt', ['-p', tid], { encoding: 'utf8' });

  /** A worker thread that idles; its kernel thread id. */
  async function idleThread(): Promise<{ tid: string; stop: () => Promise<number> }> {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads'); const { readlinkSync } = require('node:fs');
       parentPort.postMessage(readlinkSync('/proc/thread-self').split('/').pop()); setInterval(() => {}, 1000);`,
      { eval: true },
    );
    const tid = await new Promise<string>((resolve) => worker.once('message', resolve));
    return { tid, stop: () => worker.terminate() };
  }

  let thread: { tid: string; stop: () => Promise<number> } | null = null;
  afterEach(async () => {
    vi.unstubAllEnvs();
    await thread?.stop();
    thread = null;
  });

  it('puts one thread under SCHED_BATCH on the last CPU and leaves the others alone', async () => {
    const { tid } = (thread = await idleThread());
    const before = { mine: cpus(threadId()), theirs: cpus(tid) };
    const last = String(os.availableParallelism() - 1);
    expect(before.theirs).not.toBe(last);
    expect(screensApart(tid)).toBe(`SCHED_BATCH, CPU ${last}`);
    expect(cpus(tid)).toBe(last);
    expect(policy(tid)).toMatch(/SCHED_BATCH/);
    expect(cpus(threadId())).toBe(before.mine);
    expect(policy(threadId())).not.toMatch(/SCHED_BATCH/);
  });

  it('with BENCH_SCREENS_SCHED=batch, changes the policy and leaves the CPUs', async () => {
    const { tid } = (thread = await idleThread());
    vi.stubEnv('BENCH_SCREENS_SCHED', 'batch');
    const before = cpus(tid);
    expect(screensApart(tid)).toBe('SCHED_BATCH');
    expect(policy(tid)).toMatch(/SCHED_BATCH/);
    expect(cpus(tid)).toBe(before);
  });

  it('does nothing with BENCH_SCREENS_SCHED=normal', async () => {
    const { tid } = (thread = await idleThread());
    vi.stubEnv('BENCH_SCREENS_SCHED', 'normal');
    const before = cpus(tid);
    expect(screensApart(tid)).toBeNull();
    expect(cpus(tid)).toBe(before);
    expect(policy(tid)).not.toMatch(/SCHED_BATCH/);
  });
});

function hasTools(): boolean {
  try {
    execFileSync('chrt', ['--version'], { stdio: 'ignore' });
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// bench/shared/ts-worker.ts, workerAnswers: the waits of screens.ts and floor.ts.
describe('workerAnswers (bench worker threads)', () => {
  it('hands each answer to the oldest wait of its kind; a timed-out wait does not swallow a later answer', async () => {
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       parentPort.on('message', (m) => setTimeout(() => parentPort.postMessage({ cmd: m.cmd, n: m.n }), m.delay));`,
      { eval: true },
    );
    const answers = workerAnswers<{ cmd: 'a' | 'b'; n: number }>(worker, 'test worker');
    worker.on('message', answers.answer);
    try {
      worker.postMessage({ cmd: 'a', n: 1, delay: 200 });
      await expect(answers.next('a', 20)).rejects.toThrow('test worker: no "a" within 20 ms');
      worker.postMessage({ cmd: 'b', n: 2, delay: 0 });
      expect(await answers.next('b')).toEqual({ cmd: 'b', n: 2 });
      expect(await answers.next('a')).toEqual({ cmd: 'a', n: 1 }); // the late one, not lost
    } finally {
      await worker.terminate();
    }
    await expect(answers.next('a')).rejects.toThrow('test worker exited with code 1');
    expect(answers.failed).toBe(true);
  });
});
