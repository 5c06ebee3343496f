import net from 'node:net';
import { performance } from 'node:perf_hooks';

// The service side of a fan-out, seen from inside the service (preloaded with probe.ts, so the
// unmodified src/server.ts can be watched): when the first and the last socket write of one frame
// happened. net.Socket's `write` is wrapped from the first `arm` on; a write counts while armed,
// when its chunk is the Buffer already seen (WsHub.deliver frames once and writes that same Buffer
// to every socket: an identity test) or a small Buffer that contains the marker (the first write,
// or `socket.send` if the hub ever falls back to it). Times are epoch ms
// (performance.timeOrigin + performance.now()): comparable across processes.
//
// The wrapper is installed ONCE and never removed. It used to be added before each rep and
// deleted after it: every add or delete of a property on net.Socket.prototype invalidates the
// optimized code that relied on the prototype's shape, so each rep ran the service's write path
// de-optimized while V8 compiled it again (perf showed a dozen optimized versions of
// `Socket._write` and `sendFramed` in one run). Installed before the first fan-out rep (the pop
// phases, which come first, never run through it), it costs a disarmed write one flag test.

export interface WriteSpan {
  /** When the first matching write was called, epoch ms; null when nothing matched. (Before, not
   *  after: on loopback a screen on the other core may read the bytes before write() returns.) */
  first: number | null;
  /** After the last matching write returned. */
  last: number | null;
  writes: number;
  /** The process's CPU time from the first write to the end of the synchronous code that made it
   *  (a microtask queued at the first write runs once the deliver loop has returned): user = JS,
   *  system = the kernel's side of the socket writes (on loopback including the receiving end's
   *  TCP processing and wake-up, which the sending CPU does). */
  cpu: { userMs: number; systemMs: number } | null;
}

const MAX_FRAME_BYTES = 4096;
/** net.Socket has no `write` of its own (it inherits Duplex's): the wrapper is an own property. */
if (Object.hasOwn(net.Socket.prototype, 'write')) throw new Error('write-watch.ts: net.Socket.prototype has its own write in this Node version');

export function createWriteWatch() {
  let span: WriteSpan = { first: null, last: null, writes: 0, cpu: null };
  /** Null while disarmed. */
  let needle: Buffer | null = null;
  let seen: Buffer | null = null;

  const install = () => {
    const write = net.Socket.prototype.write;
    net.Socket.prototype.write = function (this: net.Socket, chunk: unknown) {
      if (needle === null) return write.apply(this, arguments as unknown as Parameters<typeof write>);
      const match = chunk === seen || (Buffer.isBuffer(chunk) && chunk.length <= MAX_FRAME_BYTES && chunk.includes(needle));
      if (match && span.first === null) {
        const watched = span;
        watched.first = performance.timeOrigin + performance.now();
        const start = process.cpuUsage();
        queueMicrotask(() => {
          const used = process.cpuUsage(start);
          watched.cpu = { userMs: used.user / 1000, systemMs: used.system / 1000 };
        });
      }
      const result = write.apply(this, arguments as unknown as Parameters<typeof write>);
      if (match) {
        seen = chunk as Buffer;
        span.last = performance.timeOrigin + performance.now();
        span.writes += 1;
      }
      return result;
    } as typeof write;
  };

  return {
    /** Starts watching for writes of a frame containing `marker`; a previous span is dropped. */
    arm(marker: string) {
      if (!Object.hasOwn(net.Socket.prototype, 'write')) install();
      needle = Buffer.from(marker);
      seen = null;
      span = { first: null, last: null, writes: 0, cpu: null };
    },
    /** Stops watching and returns what was seen since `arm`. */
    take(): WriteSpan {
      needle = null;
      seen = null;
      return span;
    },
  };
}
