import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { screensApart } from '../shared/pin.js';

// One thread of the loopback floor (floor.ts): a SENDER holds the server side of its sockets and,
// on `go`, writes one frame to each in a plain loop; a RECEIVER connects to a sender's port and
// reads with net's `onread` into one shared buffer (as lean-ws.ts does), counting bytes until
// every socket has its frame. No WebSocket, no JSON, no service: what is left is the cost of
// the socket writes and reads themselves on this machine.

export type FloorThreadData = { role: 'sender' } | { role: 'receiver'; port: number; sockets: number };

export type ToFloorThread = { cmd: 'go'; frame: Uint8Array } | { cmd: 'expect'; bytes: number };

export type FromFloorThread =
  | { cmd: 'listening'; port: number }
  | { cmd: 'connected' }
  | { cmd: 'expecting' }
  | { cmd: 'wrote'; first: number; last: number; writes: number }
  | { cmd: 'received'; at: number };

const now = () => performance.timeOrigin + performance.now();
const data = workerData as FloorThreadData;
const port = parentPort!;
const tell = (m: FromFloorThread) => port.postMessage(m);

if (data.role === 'sender') {
  const sockets: net.Socket[] = [];
  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.push(socket);
    socket.resume(); // nothing is sent to a sender; a reset must not crash the thread
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1', 4096, () => tell({ cmd: 'listening', port: (server.address() as net.AddressInfo).port }));
  port.on('message', (m: ToFloorThread) => {
    if (m.cmd !== 'go') return;
    const frame = Buffer.from(m.frame); // one Buffer written to every socket, as WsHub.deliver does
    const first = now();
    for (const socket of sockets) socket.write(frame);
    tell({ cmd: 'wrote', first, last: now(), writes: sockets.length });
  });
} else {
  screensApart(); // placed as the screens' threads are (screen-worker.ts)
  const shared = Buffer.allocUnsafe(64 * 1024);
  let expected = 0;
  let got = 0;
  let connected = 0;
  for (let i = 0; i < data.sockets; i++) {
    const socket = net.connect({
      host: '127.0.0.1',
      port: data.port,
      noDelay: true,
      onread: {
        buffer: shared,
        callback(nread: number) {
          const at = now(); // first, as lean-ws.ts stamps its receipts
          got += nread;
          if (expected > 0 && got >= expected) {
            expected = 0;
            tell({ cmd: 'received', at });
          }
          return true;
        },
      },
    });
    socket.on('connect', () => {
      if (++connected === data.sockets) tell({ cmd: 'connected' });
    });
    socket.on('error', (err) => {
      throw err; // ends this thread; floor.ts fails the run with it
    });
  }
  port.on('message', (m: ToFloorThread) => {
    if (m.cmd !== 'expect') return;
    got = 0;
    expected = m.bytes;
    tell({ cmd: 'expecting' });
  });
}
