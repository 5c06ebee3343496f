import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createActivePops } from '../../src/screenpop/active-pops.js';
import { createWsHub } from '../../src/screenpop/ws-hub.js';
import { MAX_BUFFERED_BYTES } from '../../src/screenpop/ws-limits.js';
import { createTestApp, createUser, type TestApp } from '../support/test-app.js';

// Issue 15: a signed-in client that sent 60 KB frames and never read grew the server by ~300 MB
// in 4 s, because every frame came back inside an error frame and the socket closed ~50 s later.

const hub = createWsHub();
let t: TestApp;
let wsUrl: string;

beforeAll(async () => {
  // activePops is only read on connect: an empty list, no Redis needed.
  const activePops = { forUser: async () => [] } as unknown as ReturnType<typeof createActivePops>;
  t = await createTestApp({}, { realtime: { hub, activePops, bus: {} as never, onConnect: [] } });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  wsUrl = `ws://127.0.0.1:${(t.app.server.address() as { port: number }).port}/ws`;
});
afterAll(() => t.close());

async function screen() {
  const user = await createUser(t, { role: 'manager' });
  const socket = new WebSocket(`${wsUrl}?token=${user.token}`);
  const frames: string[] = [];
  socket.on('message', (d) => frames.push(String(d)));
  const closed = new Promise<{ code: number; at: number }>((resolve) => socket.on('close', (code) => resolve({ code, at: Date.now() })));
  socket.on('error', () => {});
  await new Promise((r) => socket.once('open', r));
  return { socket, frames, closed, userId: user.id };
}

const until = async (check: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  return check();
};

describe('a hostile screen client', () => {
  it('is closed with 1009 at once when it sends a 60 KB frame', async () => {
    const s = await screen();
    const sentAt = Date.now();
    s.socket.send(JSON.stringify({ type: 'x', pad: 'a'.repeat(60 * 1024) }));
    const { code, at } = await s.closed;
    expect(code).toBe(1009);
    expect(at - sentAt).toBeLessThan(2_000);
  });

  it('never gets its own input echoed back', async () => {
    const s = await screen();
    const marker = 'ECHO-ME-'.repeat(100);
    s.socket.send(JSON.stringify({ type: marker }));
    s.socket.send(`not json ${marker}`);
    expect(await until(() => s.frames.filter((f) => f.includes('"error"')).length === 2)).toBe(true);
    expect(s.frames.join('')).not.toContain('ECHO-ME');
    s.socket.close();
  });

  it('is closed with 1008 within a second after a few bad frames, even if it never reads', async () => {
    const s = await screen();
    s.socket.pause(); // never reads: the close handshake cannot complete, the server must cut
    const sentAt = Date.now();
    for (let i = 0; i < 10; i++) s.socket.send('garbage');
    expect(await until(() => hub.isConnected(s.userId) === false, 3_000)).toBe(true);
    expect(Date.now() - sentAt).toBeLessThan(2_500);
    s.socket.terminate();
  });

  it('is closed when it floods the server with valid frames', async () => {
    const s = await screen();
    for (let i = 0; i < 200; i++) s.socket.send('{"type":"ping"}');
    expect((await s.closed).code).toBe(1008);
  });

  it('is terminated, not buffered for, when it stops reading what the server sends', async () => {
    const s = await screen();
    await until(() => s.frames.length > 0); // hello
    s.socket.pause();
    const [server] = hub.connections().filter((c) => c.userId === s.userId);
    const big = JSON.stringify({ type: 'call.ringing', pad: 'p'.repeat(32 * 1024) });
    let peak = 0;
    for (let i = 0; i < 400 && hub.isConnected(s.userId); i++) {
      hub.deliver({ to: { userIds: [s.userId] }, frame: big });
      peak = Math.max(peak, server!.socket.bufferedAmount);
      await new Promise((r) => setImmediate(r));
    }
    // 400 × 32 KB = 12.8 MB offered; the server kept at most its bound plus one frame.
    expect(await until(() => !hub.isConnected(s.userId))).toBe(true);
    expect(peak).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + big.length + 16);
    s.socket.terminate();
  });
});

describe('the issue-15 attack, replayed for 3 s', () => {
  it('holds at most ~1 MiB queued for a client that sends 60 KB frames as fast as it can and never reads', async () => {
    const user = await createUser(t, { role: 'manager' });
    // The type is what the old error frame echoed: 60 KB back for every 60 KB in.
    const payload = JSON.stringify({ type: 'a'.repeat(60 * 1024) });
    const before = process.memoryUsage().rss;
    let peakQueued = 0;
    let peakRss = before;
    let connections = 0;
    let sent = 0;
    const end = Date.now() + 3_000;
    while (Date.now() < end) {
      // The attacker reconnects whenever it is cut off, and never reads.
      const socket = new WebSocket(`${wsUrl}?token=${user.token}`);
      socket.on('error', () => {});
      await new Promise((r) => socket.once('open', r).once('close', r));
      connections++;
      socket.pause();
      while (socket.readyState === WebSocket.OPEN && Date.now() < end) {
        for (let i = 0; i < 20; i++) socket.send(payload);
        sent += 20;
        await new Promise((r) => setTimeout(r, 5));
        for (const c of hub.connections()) if (c.userId === user.id) peakQueued = Math.max(peakQueued, c.socket.bufferedAmount);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
      socket.terminate();
    }
    const mb = (n: number) => (n / 2 ** 20).toFixed(1);
    console.info(`hostile WS: ${connections} connections, ${sent} frames of 60 KB in 3 s; server queue peak ${mb(peakQueued)} MiB; RSS (client and server in one process) +${mb(peakRss - before)} MiB`);
    expect(peakQueued).toBeLessThanOrEqual(MAX_BUFFERED_BYTES + 64 * 1024);
  });
});
