import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { screensApart } from '../shared/pin.js';
import { createScreenSet, type ScreenKind } from './screen-set.js';

// A worker thread holding a slice of the screens (screens.ts starts it). The main thread talks
// to it with the messages below; receipt times are stamped HERE, in epoch ms, when the read
// completes, and travel back in one message per fan-out, so the main thread's own work (the fake
// PBX, the pop schedule) never delays a stamp, and a stamp never waits for a message.

export interface ScreenWorkerData {
  url: string;
  tokens: string[];
  kind: ScreenKind;
  concurrency: number;
}

export type ToWorker =
  | { cmd: 'open' }
  | { cmd: 'forward'; filter: string | null }
  | { cmd: 'watch'; marker: string }
  | { cmd: 'collect' }
  | { cmd: 'send'; index: number; text: string }
  | { cmd: 'loopDelay' }
  | { cmd: 'close' };

export type FromWorker =
  | { cmd: 'opened'; placement: string | null }
  | { cmd: 'failed'; message: string }
  | { cmd: 'frame'; index: number; at: number; payload: Uint8Array }
  | { cmd: 'watching' }
  | { cmd: 'complete' }
  | { cmd: 'receipts'; at: Float64Array }
  | { cmd: 'sent'; t0: number }
  | { cmd: 'loopDelay'; p99: number; max: number }
  | { cmd: 'unexpectedClose' }
  | { cmd: 'error' }
  | { cmd: 'closed' };

const port = parentPort!;
const data = workerData as ScreenWorkerData;
const apart = screensApart(); // the screens must not take the service's CPU (pin.ts)
const post = (message: FromWorker) => port.postMessage(message);

const set = createScreenSet({
  ...data,
  onForward: (index, at, payload) => post({ cmd: 'frame', index, at, payload }),
  onUnexpectedClose: () => post({ cmd: 'unexpectedClose' }),
  onError: () => post({ cmd: 'error' }),
});

// This thread's own event-loop delay, read and reset per fan-out: a stamp can be no later than the
// read it belongs to, but a busy thread reads late.
const RESOLUTION_MS = 5;
const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
loop.enable();
const ms = (ns: number) => Math.max(0, ns / 1e6 - RESOLUTION_MS);

let receipts: Float64Array | null = null;
port.on('message', (m: ToWorker) => {
  switch (m.cmd) {
    case 'open':
      set.open().then(
        () => post({ cmd: 'opened', placement: apart }),
        (err: Error) => post({ cmd: 'failed', message: err.message }),
      );
      break;
    case 'forward':
      set.setForwardFilter(m.filter);
      break;
    case 'watch':
      receipts = set.watchReceipts(m.marker, () => post({ cmd: 'complete' }));
      post({ cmd: 'watching' });
      break;
    case 'collect':
      set.stopWatching();
      post({ cmd: 'receipts', at: receipts ?? new Float64Array(set.count) });
      receipts = null;
      break;
    case 'send':
      post({ cmd: 'sent', t0: set.send(m.index, m.text) });
      break;
    case 'loopDelay':
      post({ cmd: 'loopDelay', p99: ms(loop.percentile(99)), max: ms(loop.max) });
      loop.reset();
      break;
    case 'close':
      void set.close().then(() => post({ cmd: 'closed' }));
      break;
  }
});
