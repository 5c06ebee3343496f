import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { connectLean } from './lean-ws.js';

// A set of screens (one WebSocket per token) inside ONE thread: the main thread, or one of the
// screen workers (screen-worker.ts). All times are epoch ms (performance.timeOrigin +
// performance.now()), so receipts stamped in different threads compare with each other and with
// the service's.
//   kind 'lean': lean-ws.ts, the cheap client (what the benchmark uses by default);
//   kind 'ws':   the `ws` library's client, as the benchmark used before (BENCH_SCREENS=ws).

export type ScreenKind = 'lean' | 'ws';

interface Client {
  sendText(text: string): void;
  close(): void;
  terminate(): void;
}

export interface ScreenSetOptions {
  url: string;
  tokens: readonly string[];
  kind: ScreenKind;
  concurrency: number;
  /** Frames containing `forwardFilter` (while set) go to `onForward`: the pops. */
  onForward(index: number, at: number, payload: Buffer): void;
  /** The server closed a socket while the set was not closing. */
  onUnexpectedClose(index: number): void;
  onError(index: number, err: Error): void;
}

const HELLO = Buffer.from('"type":"hello"');
const now = () => performance.timeOrigin + performance.now();

export function createScreenSet(o: ScreenSetOptions) {
  const clients: Client[] = new Array(o.tokens.length);
  let closing = false;
  let forwardFilter: Buffer | null = null;
  /** The armed fan-out: receipt time per screen (0 = not yet), and the count still missing. */
  let watch: { marker: Buffer; at: Float64Array; missing: number; complete: () => void } | null = null;

  const onFrame = (index: number, payload: Buffer, at: number) => {
    if (watch && watch.at[index] === 0 && payload.includes(watch.marker)) {
      watch.at[index] = at;
      if (--watch.missing === 0) watch.complete();
      return;
    }
    if (forwardFilter && payload.includes(forwardFilter)) o.onForward(index, at, Buffer.from(payload));
  };

  const openOne = (index: number) =>
    new Promise<void>((resolve, reject) => {
      let greeted = false;
      const timer = setTimeout(() => reject(new Error(`screen ${index}: no hello within 15 s`)), 15_000);
      const frame = (payload: Buffer, at: number) => {
        if (!greeted && payload.includes(HELLO)) {
          greeted = true;
          clearTimeout(timer);
          return resolve();
        }
        onFrame(index, payload, at);
      };
      const closed = () => {
        if (!closing) o.onUnexpectedClose(index);
      };
      const failed = (err: Error) => {
        o.onError(index, err);
        if (!greeted) {
          clearTimeout(timer);
          reject(err);
        }
      };
      const url = new URL(o.url);
      url.searchParams.set('token', o.tokens[index]!);
      if (o.kind === 'lean') {
        connectLean(url, { frame, close: closed, error: failed }).then((client) => (clients[index] = client), failed);
      } else {
        const socket = new WebSocket(url, { perMessageDeflate: false });
        clients[index] = { sendText: (text) => socket.send(text), close: () => socket.close(1000), terminate: () => socket.terminate() };
        socket.on('message', (data: Buffer) => frame(data, now()));
        socket.on('error', failed);
        socket.on('close', closed);
      }
    });

  return {
    count: o.tokens.length,
    /** Opens every socket, `concurrency` handshakes at a time; resolves when each got `hello`. */
    async open(): Promise<void> {
      let next = 0;
      const worker = async () => {
        while (next < o.tokens.length) await openOne(next++);
      };
      await Promise.all(Array.from({ length: Math.min(o.concurrency, o.tokens.length) }, worker));
    },
    setForwardFilter(filter: string | null) {
      forwardFilter = filter === null ? null : Buffer.from(filter);
    },
    /** Stamps the first frame containing `marker` on each screen; `complete` when every one has it. */
    watchReceipts(marker: string, complete: () => void): Float64Array {
      const at = new Float64Array(o.tokens.length);
      watch = { marker: Buffer.from(marker), at, missing: o.tokens.length, complete };
      return at;
    },
    stopWatching() {
      watch = null;
    },
    /** Writes one text frame from screen `index`; returns when the write was issued (epoch ms). */
    send(index: number, text: string): number {
      const t0 = now();
      clients[index]!.sendText(text);
      return t0;
    },
    async close(): Promise<void> {
      closing = true;
      const open = clients.filter(Boolean);
      for (const c of open) c.close();
      await new Promise((r) => setTimeout(r, 200));
      for (const c of open) c.terminate();
    },
  };
}

export type ScreenSet = ReturnType<typeof createScreenSet>;
