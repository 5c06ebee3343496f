import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import type { Child } from '../shared/children.js';
import type { cpuMeter } from './cpu.js';
import type { WriteSpan } from './probe.js';
import { dist, type Dist, type FanoutInput } from './report.js';
import { insertFiredDepartmentReminders, type Seeded } from './seed.js';
import type { Screens } from './screens.js';
import { selfMonitor } from './self-monitor.js';

// The fan-out phase of bench:screenpop: a `reminder.ack` from one screen for a fired department
// reminder makes the service publish `reminder.acked` to the department's supervisors, here
// every screen. Per rep, four instants on one clock (epoch ms; converted to this thread's
// performance.now()):
//   t0            the ack frame is written by the sending screen;
//   first/last    write: the service's first and last socket write of the frame (probe.ts +
//                 write-watch.ts inside the service; with two instances, over both);
//   first/last    receipt: the first and the last screen's read of the frame.
// So "trigger → last screen" splits into the service's way to its first write (ack parsed, the
// UPDATE, publish), its write loop, and what the receiving side adds after the last write.

export interface FanoutRep {
  first: number;
  last: number;
  received: number;
  serverFirstWrite: number;
  serverLastWrite: number;
  writes: number;
  /** CPU of the instance(s) over the write loop (write-watch.ts). */
  loopUserMs: number;
  loopSystemMs: number;
  /** Two instances: the other instance's first write − the sending instance's (the Redis hop
   *  plus whatever ran before the publish); NaN with one. */
  remoteStartLag: number;
}

export interface FanoutResult extends FanoutInput {
  /** The service's side, over the complete reps (see the header). */
  service: {
    triggerToFirstWrite: Dist | null;
    writeLoop: Dist | null;
    /** The instance's CPU time during the loop, split: JavaScript (user) and kernel (system). */
    writeLoopUserCpu: Dist | null;
    writeLoopSystemCpu: Dist | null;
    lastWriteToLastScreen: Dist | null;
    /** Two instances: how much later the other instance began writing than the sending one. */
    remoteStartLag: Dist | null;
    /** Writes of the frame per rep, all instances together (= recipients). */
    writesPerRep: { min: number; max: number };
  };
  /** Min over reps of (first receipt − first write): ≥ 0 unless the processes' clocks disagree. */
  clockCheckMs: number | null;
  /** The benchmark's own threads during the phase: the main thread, and the screens' threads. */
  bench: { mainLoopDelay: { p99: number; max: number }; screenThreadsLoopDelay: { p99: number; max: number } | null };
  raw: FanoutRep[];
}

/** A probe request with arguments, answered with a message of the same `cmd`. */
function askProbe<T>(child: Child, message: { cmd: string; [k: string]: unknown }, timeoutMs = 5_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.process.off('message', onMessage);
      reject(new Error(`${child.name} did not answer "${message.cmd}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (answer: { cmd?: string }) => {
      if (answer?.cmd !== message.cmd) return;
      clearTimeout(timer);
      child.process.off('message', onMessage);
      resolve(answer as T);
    };
    child.process.on('message', onMessage);
    child.process.send(message);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const local = (epochMs: number | null) => (epochMs === null ? Number.NaN : epochMs - performance.timeOrigin);

/** One ack from screen `senderIndex` of `groups[senderGroup]`; resolves when every screen got the frame (or 5 s passed). */
async function fanoutRep(groups: Screens[], services: Child[], senderGroup: number, senderIndex: number, reminderId: number): Promise<FanoutRep> {
  const marker = `"type":"reminder.acked","id":${reminderId}}`;
  await Promise.all(services.map((s) => askProbe(s, { cmd: 'watchWrites', marker })));
  await Promise.all(groups.map((g) => g.watch(marker)));
  const t0 = await groups[senderGroup]!.send(senderIndex, JSON.stringify({ type: 'reminder.ack', id: reminderId }));
  const receipts = await Promise.all(groups.map((g) => g.receipts(5_000)));
  const spans = await Promise.all(services.map(async (s) => (await askProbe<{ span: WriteSpan }>(s, { cmd: 'writes' })).span));
  let first = Infinity;
  let last = -Infinity;
  let received = 0;
  for (const at of receipts.flatMap((r) => [...r])) {
    if (Number.isNaN(at)) continue;
    received += 1;
    first = Math.min(first, at);
    last = Math.max(last, at);
  }
  const written = spans.filter((s) => s.first !== null);
  return {
    first: first - t0,
    last: last - t0,
    received,
    serverFirstWrite: Math.min(...written.map((s) => local(s.first))) - t0,
    serverLastWrite: Math.max(...written.map((s) => local(s.last))) - t0,
    writes: spans.reduce((n, s) => n + s.writes, 0),
    loopUserMs: spans.reduce((n, s) => n + (s.cpu?.userMs ?? Number.NaN), 0),
    loopSystemMs: spans.reduce((n, s) => n + (s.cpu?.systemMs ?? Number.NaN), 0),
    remoteStartLag: spans.length > 1 ? Math.min(...spans.filter((_, i) => i !== senderGroup).map((s) => local(s.first))) - local(spans[senderGroup]!.first) : Number.NaN,
  };
}

/** `warmup` + `reps` acks of fresh department reminders, the senders spread over the groups;
 *  `groups[i]` are the screens connected to `services[i]`. */
export async function fanoutPhase(o: {
  sql: pg.Client;
  seeded: Seeded;
  groups: Screens[];
  services: Child[];
  meter: ReturnType<typeof cpuMeter>;
  reps: number;
  warmup: number;
  targetMs: number;
}): Promise<FanoutResult> {
  const ids = await insertFiredDepartmentReminders(o.sql, o.seeded.departmentId, o.reps + o.warmup);
  const n = o.groups.reduce((sum, g) => sum + g.count, 0);
  const reps: FanoutRep[] = [];
  const cpu = o.meter.start();
  let self = selfMonitor();
  for (let r = 0; r < ids.length; r++) {
    if (r === o.warmup) {
      self = selfMonitor();
      await Promise.all(o.groups.map((g) => g.loopDelay())); // resets the screen threads' histograms
    }
    const senderGroup = r % o.groups.length;
    const rep = await fanoutRep(o.groups, o.services, senderGroup, (r * 97) % o.groups[senderGroup]!.count, ids[r]!);
    if (r >= o.warmup) reps.push(rep);
    await sleep(250);
  }
  const cores = cpu.stop();
  const main = self.stop();
  const threads = (await Promise.all(o.groups.map((g) => g.loopDelay()))).filter((d) => d !== null);
  const complete = reps.filter((r) => r.received === n);
  const last = dist(complete.map((r) => r.last));
  const checks = complete.map((r) => r.first - r.serverFirstWrite).filter((v) => !Number.isNaN(v));
  return {
    instances: o.groups.length,
    reps: reps.length,
    recipients: n,
    triggerToFirst: dist(complete.map((r) => r.first)),
    triggerToLast: last,
    spread: dist(complete.map((r) => r.last - r.first)),
    incomplete: reps.length - complete.length,
    met: last !== null && complete.length === reps.length && last.max <= o.targetMs,
    cpu: cores,
    service: {
      triggerToFirstWrite: dist(complete.map((r) => r.serverFirstWrite).filter((v) => !Number.isNaN(v))),
      writeLoop: dist(complete.map((r) => r.serverLastWrite - r.serverFirstWrite).filter((v) => !Number.isNaN(v))),
      writeLoopUserCpu: dist(complete.map((r) => r.loopUserMs).filter((v) => !Number.isNaN(v))),
      writeLoopSystemCpu: dist(complete.map((r) => r.loopSystemMs).filter((v) => !Number.isNaN(v))),
      lastWriteToLastScreen: dist(complete.map((r) => r.last - r.serverLastWrite).filter((v) => !Number.isNaN(v))),
      remoteStartLag: dist(complete.map((r) => r.remoteStartLag).filter((v) => !Number.isNaN(v))),
      writesPerRep: { min: Math.min(...reps.map((r) => r.writes)), max: Math.max(...reps.map((r) => r.writes)) },
    },
    clockCheckMs: checks.length ? Math.round(Math.min(...checks) * 1000) / 1000 : null,
    bench: {
      mainLoopDelay: { p99: main.loopDelay.p99, max: main.loopDelay.max },
      screenThreadsLoopDelay: threads.length ? { p99: Math.max(...threads.map((d) => d.p99)), max: Math.max(...threads.map((d) => d.max)) } : null,
    },
    raw: reps,
  };
}
