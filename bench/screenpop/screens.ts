import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

// The users' screens: one WebSocket per user to the service's `/ws?token=…`, all in this
// process. The message handler stamps the time FIRST and does only a substring test on the raw
// bytes (no JSON parse), so the 2,000 receipts of a fan-out cost this process as little as
// possible: whatever it still costs is inside the measured figures (see BENCHMARKS.md).

export type FrameHandler = (index: number, at: number, data: Buffer) => void;

export interface Screens {
  readonly sockets: WebSocket[];
  /** Sockets the server closed while the benchmark ran (must stay 0). */
  unexpectedCloses: number;
  errors: number;
  onFrame: FrameHandler | null;
  close(): Promise<void>;
}

const HELLO = Buffer.from('"type":"hello"');

/** Opens one socket per token, `concurrency` handshakes at a time; resolves when every one got `hello`. */
export async function openScreens(wsUrl: string, tokens: readonly string[], concurrency = 100): Promise<Screens> {
  let closing = false;
  const screens: Screens = {
    sockets: new Array<WebSocket>(tokens.length),
    unexpectedCloses: 0,
    errors: 0,
    onFrame: null,
    async close() {
      closing = true;
      await closeAll(this.sockets.filter(Boolean));
    },
  };

  const openOne = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const socket = new WebSocket(`${wsUrl}?token=${encodeURIComponent(tokens[index]!)}`, { perMessageDeflate: false });
      screens.sockets[index] = socket;
      let greeted = false;
      const timer = setTimeout(() => reject(new Error(`screen ${index}: no hello within 15 s`)), 15_000);
      socket.on('message', (data: Buffer) => {
        const at = performance.now();
        if (!greeted && data.includes(HELLO)) {
          greeted = true;
          clearTimeout(timer);
          resolve();
          return;
        }
        screens.onFrame?.(index, at, data);
      });
      socket.on('error', (err) => {
        screens.errors += 1;
        if (!greeted) {
          clearTimeout(timer);
          reject(err);
        }
      });
      socket.on('close', () => {
        if (!closing) screens.unexpectedCloses += 1;
      });
    });

  let next = 0;
  const worker = async () => {
    while (next < tokens.length) await openOne(next++);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, tokens.length) }, worker));
  } catch (error) {
    await screens.close();
    throw error;
  }
  return screens;
}

/** Closes sockets (normal closure) and waits for them, terminating any that hang. */
export async function closeAll(sockets: WebSocket[], timeoutMs = 5_000): Promise<void> {
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => {
            socket.terminate();
            resolve();
          }, timeoutMs);
          socket.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
          if (socket.readyState === WebSocket.CONNECTING) socket.terminate();
          else socket.close(1000);
        }),
    ),
  );
}
