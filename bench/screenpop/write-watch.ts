import net from 'node:net';
import { performance } from 'node:perf_hooks';

// The service side of a fan-out, seen from inside the service (preloaded with probe.ts, so the
// unmodified src/server.ts can be watched): when the first and the last socket write of one frame
// happened. While armed, net.Socket's `write` is wrapped; a write counts when its chunk is the
// Buffer already seen (WsHub.deliver frames once and writes that same Buffer to every socket: an
// identity test) or a small Buffer that contains the marker (the first write, or `socket.send`
// if the hub ever falls back to it). The wrapper costs well under 1 µs a write against the
// kernel's 15–20 µs, and is removed again on `take`, so the pop phases never run through it.
// Times are epoch ms (performance.timeOrigin + performance.now()): comparable across processes.

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
/** net.Socket has no `write` of its own (it inherits Duplex's): the wrapper is an own property,
 *  and deleting it restores the plain path. */
if (Object.hasOwn(net.Socket.prototype, 'write')) throw new Error('write-watch.ts: net.Socket.prototype has its own write in this Node version');
const unwrap = () => void delete (net.Socket.prototype as { write?: unknown }).write;

export function createWriteWatch() {
  let span: WriteSpan = { first: null, last: null, writes: 0, cpu: null };
  return {
    /** Starts watching for writes of a frame containing `marker`; a previous span is dropped. */
    arm(marker: string) {
      unwrap();
      const needle = Buffer.from(marker);
      let seen: Buffer | null = null;
      span = { first: null, last: null, writes: 0, cpu: null };
      const watched = span;
      const write = net.Socket.prototype.write;
      net.Socket.prototype.write = function (this: net.Socket, chunk: unknown, ...rest: unknown[]) {
        const match = chunk === seen || (Buffer.isBuffer(chunk) && chunk.length <= MAX_FRAME_BYTES && chunk.includes(needle));
        if (match && watched.first === null) {
          watched.first = performance.timeOrigin + performance.now();
          const start = process.cpuUsage();
          queueMicrotask(() => {
            const used = process.cpuUsage(start);
            watched.cpu = { userMs: used.user / 1000, systemMs: used.system / 1000 };
          });
        }
        const result = (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
        if (match) {
          seen = chunk as Buffer;
          watched.last = performance.timeOrigin + performance.now();
          watched.writes += 1;
        }
        return result;
      } as typeof write;
    },
    /** Stops watching and returns what was seen since `arm`. */
    take(): WriteSpan {
      unwrap();
      return span;
    },
  };
}
