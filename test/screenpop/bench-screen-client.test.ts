import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { connectLean, serverFrameParser, type LeanSocket } from '../../bench/screenpop/lean-ws.js';
import { createWriteWatch } from '../../bench/screenpop/write-watch.js';
import { textFrame } from '../../src/screenpop/ws-frame.js';

// bench:screenpop's fan-out figures rest on two small pieces of its own: the lean WebSocket
// client the screens use (lean-ws.ts) and the service-side write timestamps (write-watch.ts).
// Both are checked here against the real `ws` server and real sockets.

let server: WebSocketServer | null = null;
const open: LeanSocket[] = [];

afterEach(async () => {
  for (const s of open.splice(0)) s.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

async function listen(options: ConstructorParameters<typeof WebSocketServer>[0] = {}) {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, ...options });
  await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
  return new URL(`ws://127.0.0.1:${(server.address() as { port: number }).port}/ws?token=t`);
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('lean-ws (the benchmark screens)', () => {
  it('receives frames of every length encoding intact and in order, stamped with epoch ms', async () => {
    const url = await listen();
    const serverSide = new Promise<WebSocket>((resolve) => server!.once('connection', resolve));
    const got: Array<{ text: string; at: number }> = [];
    const before = Date.now();
    const client = await connectLean(url, { frame: (p, at) => got.push({ text: p.toString(), at }), close: () => {}, error: () => {} });
    open.push(client);
    const texts = ['short', 'é'.repeat(100), 'x'.repeat(70_000)]; // 7-bit, 16-bit and 64-bit lengths
    for (const t of texts) (await serverSide).send(t);
    await until(() => got.length === 3);
    expect(got.map((g) => g.text)).toEqual(texts);
    for (const g of got) expect(g.at).toBeGreaterThanOrEqual(before - 1);
    for (const g of got) expect(g.at).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('cuts frames right whatever the reads look like', () => {
    const texts = ['a', 'b'.repeat(126), 'c'.repeat(65_536), 'd'];
    const stream = Buffer.concat(texts.map((t) => textFrame(t)));
    for (const size of [1, 3, 1000, stream.length]) {
      const got: string[] = [];
      const push = serverFrameParser((opcode, payload) => got.push(`${opcode}:${payload.toString()}`));
      const scratch = Buffer.alloc(size); // the same buffer for every read, as with net's onread
      for (let off = 0; off < stream.length; off += size) {
        const n = stream.copy(scratch, 0, off, off + size);
        push(scratch.subarray(0, n), 0);
        scratch.fill(0);
      }
      expect(got).toEqual(texts.map((t) => `1:${t}`));
    }
  });

  it('answers pings (the service terminates screens that do not), sends masked text, closes with 1000', async () => {
    const url = await listen();
    const serverSide = new Promise<WebSocket>((resolve) => server!.once('connection', resolve));
    const client = await connectLean(url, { frame: () => {}, close: () => {}, error: () => {} });
    open.push(client);
    const s = await serverSide;
    const pong = new Promise<string>((resolve) => s.once('pong', (data) => resolve(data.toString())));
    s.ping('are-you-there');
    expect(await pong).toBe('are-you-there');
    const message = new Promise<string>((resolve) => s.once('message', (data) => resolve(data.toString())));
    client.sendText('{"type":"reminder.ack","id":1}');
    expect(await message).toBe('{"type":"reminder.ack","id":1}');
    const closed = new Promise<number>((resolve) => s.once('close', (code) => resolve(code)));
    client.close();
    expect(await closed).toBe(1000);
  });

  it('fails when the server refuses the upgrade', async () => {
    const url = await listen({ verifyClient: () => false });
    await expect(connectLean(url, { frame: () => {}, close: () => {}, error: () => {} })).rejects.toThrow(/upgrade refused: HTTP\/1.1 401/);
  });
});

describe('write-watch (the service side of the fan-out figures)', () => {
  it('times the writes of one frame to many sockets; the wrapper is installed once and stays', async () => {
    const tcp = net.createServer((s) => s.resume());
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as net.AddressInfo).port;
    const sockets = await Promise.all(Array.from({ length: 3 }, () => new Promise<net.Socket>((resolve) => { const s = net.connect(port, '127.0.0.1', () => resolve(s)); })));
    try {
      const watch = createWriteWatch();
      watch.arm('"id":7}');
      const frame = textFrame('{"type":"reminder.acked","id":7}');
      sockets[0]!.write(Buffer.from('unrelated'));
      sockets[0]!.write(textFrame('{"type":"reminder.acked","id":70}'));
      for (const s of sockets) s.write(frame);
      const span = watch.take();
      expect(span.writes).toBe(3);
      expect(span.first).not.toBeNull();
      expect(span.last!).toBeGreaterThanOrEqual(span.first!);
      sockets[1]!.write(frame); // after take: not counted
      expect(span.writes).toBe(3);
      // Re-adding or deleting a prototype property per rep would de-optimize the code being
      // timed (BENCHMARKS.md, "Screen-pop", the correction): the next rep keeps the same wrapper.
      const wrapper = net.Socket.prototype.write;
      expect(Object.hasOwn(net.Socket.prototype, 'write')).toBe(true);
      watch.arm('"id":8}');
      const next = textFrame('{"type":"reminder.acked","id":8}');
      for (const s of sockets) s.write(next);
      expect(watch.take().writes).toBe(3);
      expect(net.Socket.prototype.write).toBe(wrapper);
    } finally {
      delete (net.Socket.prototype as { write?: unknown }).write; // the rest of this file writes unwatched
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => tcp.close(resolve));
    }
  });
});
