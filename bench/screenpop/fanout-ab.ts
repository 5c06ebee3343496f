// `npx tsx bench/screenpop/fanout-ab.ts`: the fan-out write loop alone, A/B in one process so the
// VM's drift between runs cancels out. 2,000 WebSockets to a child process (ws clients); per rep,
// alternately: A = the old loop (`socket.send(text)` per socket), B = WsHub.deliver (the frame
// built once, one raw write per socket: src/screenpop/ws-frame.ts), C = the same Buffer written
// straight to each net.Socket (what is left without ws and the hub: Node's stream and the kernel). Prints the medians of the
// synchronous loop and of the time until the child saw the last frame. No database, no Redis.
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { WebSocket, WebSocketServer } from 'ws';
import { textFrame } from '../../src/screenpop/ws-frame.js';
import { createWsHub } from '../../src/screenpop/ws-hub.js';

const N = Number(process.env.BENCH_SOCKETS ?? 2000);
const REPS = 12;
const WARMUP = 2;

async function child(port: number) {
  let got = 0;
  for (let i = 0; i < N; i++) {
    await new Promise((resolve) => {
      const s = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
      s.on('open', resolve);
      s.on('message', () => {
        if (++got % N === 0) process.send!(performance.timeOrigin + performance.now());
      });
    });
  }
  process.send!('ready');
}

async function main() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
  await new Promise((resolve) => wss.once('listening', resolve));
  const receiver = fork(new URL(import.meta.url).pathname, ['child', String((wss.address() as { port: number }).port)], { execArgv: ['--import', 'tsx'] });
  await new Promise((resolve) => receiver.once('message', resolve));
  const hub = createWsHub();
  let id = 0;
  for (const socket of wss.clients) hub.register({ socket, userId: ++id, role: 'curator', departmentId: 1, managerId: null, alive: true });
  const raw = hub.connections().map((c) => (c.socket as unknown as { _socket: import('node:net').Socket })._socket);
  const frame = JSON.stringify({ type: 'reminder.acked', id: 12345, by: { id: 1, name: 'Some Body' }, at: new Date().toISOString() });
  const framed = textFrame(frame);
  const modes: Record<string, () => void> = {
    'A socket.send per socket': () => {
      for (const c of hub.connections()) if (c.socket.readyState === 1) c.socket.send(frame);
    },
    'B WsHub.deliver (framed once)': () => hub.deliver({ to: { supervisorsOf: [1] }, frame }),
    // The floor for JavaScript: the same Buffer written straight to each net.Socket, no ws, no hub.
    'C net.Socket.write only': () => {
      for (const c of raw) c.write(framed);
    },
  };
  const results = new Map<string, { loop: number[]; last: number[] }>();
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, run] of Object.entries(modes)) {
      const lastSeen = new Promise<number>((resolve) => receiver.once('message', (m) => resolve(m as number)));
      const t0 = performance.timeOrigin + performance.now();
      run();
      const t1 = performance.timeOrigin + performance.now();
      const last = await lastSeen;
      if (rep >= WARMUP) {
        const r = results.get(name) ?? { loop: [], last: [] };
        results.set(name, r);
        r.loop.push(t1 - t0);
        r.last.push(last - t0);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]!.toFixed(1);
  for (const [name, r] of results) {
    process.stdout.write(`${name}: loop median ${median(r.loop)} ms, last frame seen median ${median(r.last)} ms, max ${Math.max(...r.last).toFixed(1)} ms (${r.loop.length} reps, ${N} sockets)\n`);
  }
  receiver.kill();
  wss.close();
}

if (process.argv[2] === 'child') void child(Number(process.argv[3]));
else void main().then(() => process.exit(0));
