import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { envNumber } from '../shared/knobs.js';
import { tsWorker, workerAnswers } from '../shared/ts-worker.js';
import type { FloorThreadData, FromFloorThread, ToFloorThread } from './floor-thread.js';
import { dist, type Dist } from './report.js';

// The loopback floor: how long THIS machine takes to write one small frame to 2,000 loopback TCP
// sockets and read it at the other end, with nothing else in the way: no service, no WebSocket
// library, no database. `senders` threads each own 1/senders of the sockets (1 = one service
// instance; 2 = two instances, each writing its half at the same moment); each has a receiver
// thread of its own, as the screens have. Timed like the fan-out (fanout.ts): from the moment
// the senders are told to go to the last receiver's read, on one clock (epoch ms).
//
// bench:screenpop runs it right after its fan-out phases, so each report shows what the same
// machine allowed in the same minute: the fan-out's figures minus these are what the service
// adds. `npx tsx bench/screenpop/floor.ts` runs it alone (FLOOR_SOCKETS, FLOOR_REPS, FLOOR_GAP_MS).

/** The fan-out's frame, {"type":"reminder.acked","id":…} with its 2-byte WebSocket header. */
export const FANOUT_FRAME_BYTES = 36;

export interface FloorOptions {
  sockets: number;
  senders: number;
  /** Bytes of the frame (FANOUT_FRAME_BYTES for the fan-out's). */
  frameBytes: number;
  reps: number;
  warmup: number;
  /** Pause between reps, as the fan-out phase pauses. */
  gapMs: number;
}

export interface FloorResult {
  senders: number;
  sockets: number;
  frameBytes: number;
  reps: number;
  /** Go → the last receiver's read of its last frame. */
  goToLast: Dist | null;
  /** The slowest sender's loop: its first write's start → its last write's end. */
  writeLoop: Dist | null;
  /** Socket writes per rep, all senders together (= sockets). */
  writesPerRep: { min: number; max: number };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const epoch = () => performance.timeOrigin + performance.now();

/** A floor-thread.ts worker and a way to wait for its next message of one kind. */
function floorThread(data: FloorThreadData) {
  const worker = tsWorker(new URL('./floor-thread.ts', import.meta.url), { workerData: data });
  const answers = workerAnswers<FromFloorThread>(worker, `floor thread (${data.role})`);
  worker.on('message', answers.answer);
  return {
    next: <C extends FromFloorThread['cmd']>(cmd: C, timeoutMs = 15_000) => answers.next(cmd, timeoutMs),
    tell: (m: ToFloorThread) => worker.postMessage(m),
    stop: () => worker.terminate(),
  };
}

export async function loopbackFloor(o: FloorOptions): Promise<FloorResult> {
  const threads: Array<ReturnType<typeof floorThread>> = [];
  try {
    const pairs: Array<{ sender: ReturnType<typeof floorThread>; receiver: ReturnType<typeof floorThread>; sockets: number }> = [];
    for (let i = 0; i < o.senders; i++) {
      const sender = floorThread({ role: 'sender' });
      threads.push(sender);
      const { port } = await sender.next('listening');
      const sockets = Math.floor(o.sockets / o.senders) + (i < o.sockets % o.senders ? 1 : 0);
      const receiver = floorThread({ role: 'receiver', port, sockets });
      threads.push(receiver);
      await receiver.next('connected', 60_000);
      pairs.push({ sender, receiver, sockets });
    }
    await sleep(500); // the last handshakes' ACKs settled
    const frame = new Uint8Array(o.frameBytes).fill(0x78);
    const goToLast: number[] = [];
    const loops: number[] = [];
    const writes: number[] = [];
    for (let rep = 0; rep < o.warmup + o.reps; rep++) {
      await Promise.all(pairs.map(async (p) => (p.receiver.tell({ cmd: 'expect', bytes: p.sockets * o.frameBytes }), p.receiver.next('expecting'))));
      const received = Promise.all(pairs.map((p) => p.receiver.next('received', 5_000)));
      const wrote = Promise.all(pairs.map((p) => p.sender.next('wrote', 5_000)));
      const go = epoch();
      for (const p of pairs) p.sender.tell({ cmd: 'go', frame });
      const [receipts, spans] = await Promise.all([received, wrote]);
      if (rep >= o.warmup) {
        goToLast.push(Math.max(...receipts.map((r) => r.at)) - go);
        loops.push(Math.max(...spans.map((s) => s.last - s.first)));
        writes.push(spans.reduce((n, s) => n + s.writes, 0));
      }
      await sleep(o.gapMs);
    }
    return { senders: o.senders, sockets: o.sockets, frameBytes: o.frameBytes, reps: o.reps, goToLast: dist(goToLast), writeLoop: dist(loops), writesPerRep: { min: Math.min(...writes), max: Math.max(...writes) } };
  } finally {
    await Promise.all(threads.map((t) => t.stop()));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const sockets = envNumber('FLOOR_SOCKETS', 2000);
  const reps = envNumber('FLOOR_REPS', 30);
  for (const senders of [1, 2]) {
    const r = await loopbackFloor({ sockets, senders, frameBytes: FANOUT_FRAME_BYTES, reps, warmup: 3, gapMs: envNumber('FLOOR_GAP_MS', 250) });
    const d = (x: Dist | null) => (x ? `${x.p50} / ${x.p90} / ${x.max} ms` : '–');
    process.stdout.write(`${senders} sender thread(s), ${sockets} sockets, ${reps} reps: go → last read p50/p90/max ${d(r.goToLast)}; slowest write loop ${d(r.writeLoop)}\n`);
  }
}
