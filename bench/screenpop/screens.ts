import { performance } from 'node:perf_hooks';
import { tsWorker, workerAnswers } from '../shared/ts-worker.js';
import { createScreenSet, type ScreenKind } from './screen-set.js';
import type { FromWorker, ScreenWorkerData, ToWorker } from './screen-worker.js';

// The users' screens: one WebSocket per user to the service's `/ws?token=…`.
//
// In reality every screen is a browser on its own machine. Here 2,000 of them share the
// benchmark's CPU, and what one of them costs to receive a frame delays the next one's receipt:
// a fan-out's "last screen" is stamped only after this side has processed the 1,999 others.
// To keep that cost out of the figures as far as one machine allows, by default
//   - the screens are lean-ws.ts clients: a frame costs a read into a shared buffer and a
//     substring test (no Buffer per read, no stream events, no `ws` Receiver, no JSON parse);
//   - they live in BENCH_SCREEN_THREADS worker threads (screen-worker.ts), not in the thread
//     that runs the fake PBX and the pop schedule, and the threads read in parallel.
// Every receipt is still stamped in the thread that read it, the moment the read completes
// (epoch ms: timeOrigin + now, comparable across threads and processes). BENCH_SCREENS=ws
// BENCH_SCREEN_THREADS=0 gives the earlier method: `ws` clients in the benchmark's main thread.

export type FrameHandler = (index: number, at: number, data: Buffer) => void;

export interface ScreensOptions {
  kind?: ScreenKind;
  /** 0: in this thread. */
  threads?: number;
  concurrency?: number;
}

export interface Screens {
  readonly count: number;
  /** Sockets the server closed while the benchmark ran (must stay 0). */
  unexpectedCloses: number;
  errors: number;
  /** How the screens' worker threads were placed (pin.ts `screensApart`); null: not at all. */
  placement: string | null;
  /** Frames containing `filter` go to `handler` (`at` in this thread's performance.now()) until stopForwarding. */
  forward(filter: string, handler: FrameHandler): Promise<void>;
  stopForwarding(): Promise<void>;
  /** Arms the fan-out receipts: from now, each screen's first frame containing `marker` is stamped. */
  watch(marker: string): Promise<void>;
  /** When every screen has it, or after `timeoutMs`: receipt times (this thread's performance.now(); NaN = none), disarmed. */
  receipts(timeoutMs: number): Promise<Float64Array>;
  /** One text frame from screen `index`; resolves to when it was written (this thread's performance.now()). */
  send(index: number, text: string): Promise<number>;
  /** The worst event-loop delay p99 / max of the screen threads since the last call; null in-thread. */
  loopDelay(): Promise<{ p99: number; max: number } | null>;
  close(): Promise<void>;
}

/** The same operations on one slice of the screens, in this thread or in a worker. */
interface Slice {
  count: number;
  placement: string | null;
  open(): Promise<void>;
  forward(filter: string | null): void;
  watch(): Promise<void>;
  complete: Promise<void>;
  collect(): Promise<Float64Array>;
  send(index: number, text: string): Promise<number>;
  loopDelay(): Promise<{ p99: number; max: number } | null>;
  close(): Promise<void>;
}

const toLocal = (epochMs: number) => epochMs - performance.timeOrigin;

export async function openScreens(wsUrl: string, tokens: readonly string[], options: ScreensOptions = {}): Promise<Screens> {
  const kind = options.kind ?? 'lean';
  const threads = Math.min(options.threads ?? 0, tokens.length);
  const concurrency = options.concurrency ?? 100;
  let handler: FrameHandler | null = null;
  let marker = '';
  const screens: Screens & { slices: Slice[]; offsets: number[] } = {
    count: tokens.length,
    unexpectedCloses: 0,
    errors: 0,
    placement: null,
    slices: [],
    offsets: [],
    async forward(filter, h) {
      handler = h;
      for (const s of this.slices) s.forward(filter);
    },
    async stopForwarding() {
      for (const s of this.slices) s.forward(null);
      handler = null;
    },
    async watch(m) {
      marker = m;
      await Promise.all(this.slices.map((s) => s.watch()));
    },
    async receipts(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(this.slices.map((s) => s.complete)), new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      const out = new Float64Array(this.count);
      const parts = await Promise.all(this.slices.map((s) => s.collect()));
      parts.forEach((at, i) => at.forEach((t, j) => (out[this.offsets[i]! + j] = t === 0 ? Number.NaN : toLocal(t))));
      return out;
    },
    async send(index, text) {
      const i = this.offsets.findLastIndex((o) => o <= index);
      return toLocal(await this.slices[i]!.send(index - this.offsets[i]!, text));
    },
    async loopDelay() {
      const all = (await Promise.all(this.slices.map((s) => s.loopDelay()))).filter((d) => d !== null);
      return all.length ? { p99: Math.max(...all.map((d) => d.p99)), max: Math.max(...all.map((d) => d.max)) } : null;
    },
    async close() {
      await Promise.all(this.slices.map((s) => s.close()));
    },
  };
  const events = {
    frame: (offset: number, index: number, at: number, payload: Buffer) => handler?.(offset + index, toLocal(at), payload),
    unexpectedClose: () => void (screens.unexpectedCloses += 1),
    error: () => void (screens.errors += 1),
  };

  const per = threads === 0 ? tokens.length : Math.ceil(tokens.length / threads);
  for (let offset = 0; offset < tokens.length; offset += per) {
    const part = tokens.slice(offset, offset + per);
    const share = Math.max(1, Math.round((concurrency * part.length) / tokens.length));
    screens.offsets.push(offset);
    screens.slices.push(threads === 0 ? inThread(wsUrl, part, kind, share, offset, events, () => marker) : inWorker(wsUrl, part, kind, share, offset, events, () => marker));
  }
  try {
    await Promise.all(screens.slices.map((s) => s.open()));
    screens.placement = screens.slices[0]?.placement ?? null;
  } catch (error) {
    await screens.close();
    throw error;
  }
  return screens;
}

type Events = {
  frame(offset: number, index: number, at: number, payload: Buffer): void;
  unexpectedClose(): void;
  error(): void;
};

function inThread(url: string, tokens: string[], kind: ScreenKind, concurrency: number, offset: number, events: Events, marker: () => string): Slice {
  const set = createScreenSet({
    url,
    tokens,
    kind,
    concurrency,
    onForward: (index, at, payload) => events.frame(offset, index, at, payload),
    onUnexpectedClose: events.unexpectedClose,
    onError: events.error,
  });
  let receipts: Float64Array = new Float64Array(tokens.length);
  const slice: Slice = {
    count: tokens.length,
    placement: null, // the benchmark's main thread is not moved
    open: () => set.open(),
    forward: (filter) => set.setForwardFilter(filter),
    complete: Promise.resolve(),
    async watch() {
      let done!: () => void;
      slice.complete = new Promise<void>((r) => (done = r));
      receipts = set.watchReceipts(marker(), done);
    },
    async collect() {
      set.stopWatching();
      return receipts;
    },
    send: async (index, text) => set.send(index, text),
    loopDelay: async () => null,
    close: () => set.close(),
  };
  return slice;
}

function inWorker(url: string, tokens: string[], kind: ScreenKind, concurrency: number, offset: number, events: Events, marker: () => string): Slice {
  const data: ScreenWorkerData = { url, tokens, kind, concurrency };
  const worker = tsWorker(new URL('./screen-worker.ts', import.meta.url), { workerData: data });
  const answers = workerAnswers<FromWorker>(worker, 'screen worker');
  const next = answers.next;
  let completeNow!: () => void;
  worker.on('message', (m: FromWorker) => {
    if (m.cmd === 'frame') return events.frame(offset, m.index, m.at, Buffer.from(m.payload));
    if (m.cmd === 'unexpectedClose') return events.unexpectedClose();
    if (m.cmd === 'error') return events.error();
    if (m.cmd === 'complete') return completeNow();
    if (m.cmd === 'failed') return answers.fail(new Error(m.message));
    answers.answer(m);
  });
  const tell = (m: ToWorker) => worker.postMessage(m);
  const slice: Slice = {
    count: tokens.length,
    placement: null,
    async open() {
      tell({ cmd: 'open' });
      slice.placement = (await next('opened')).placement;
    },
    forward: (filter) => tell({ cmd: 'forward', filter }),
    complete: Promise.resolve(),
    async watch() {
      slice.complete = new Promise<void>((r) => (completeNow = r));
      tell({ cmd: 'watch', marker: marker() });
      await next('watching');
    },
    async collect() {
      tell({ cmd: 'collect' });
      return (await next('receipts')).at;
    },
    async send(index, text) {
      tell({ cmd: 'send', index, text });
      return (await next('sent')).t0;
    },
    async loopDelay() {
      tell({ cmd: 'loopDelay' });
      const m = await next('loopDelay');
      return { p99: m.p99, max: m.max };
    },
    async close() {
      if (answers.failed) return;
      tell({ cmd: 'close' });
      await next('closed');
      await worker.terminate();
    },
  };
  return slice;
}
