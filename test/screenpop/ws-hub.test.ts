import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { createWsHub, type Connection } from '../../src/screenpop/ws-hub.js';
import { sendFramed, textFrame } from '../../src/screenpop/ws-frame.js';

// The hub writes one pre-built frame to every target socket (ws-frame.ts): real sockets here, so
// a browser-side WebSocket must read exactly what `socket.send(text)` would have sent.

let server: WebSocketServer | null = null;
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.terminate();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

/** `n` connected pairs: the server side of each socket and a client that records its frames. */
async function pairs(n: number, options: { perMessageDeflate?: boolean } = {}) {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: options.perMessageDeflate ?? false });
  await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
  const port = (server.address() as { port: number }).port;
  const out: Array<{ serverSide: WebSocket; received: string[]; client: WebSocket }> = [];
  for (let i = 0; i < n; i++) {
    const serverSide = new Promise<WebSocket>((resolve) => server!.once('connection', resolve));
    const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: options.perMessageDeflate ?? false });
    clients.push(client);
    const received: string[] = [];
    client.on('message', (data, isBinary) => received.push(isBinary ? `binary:${String(data)}` : String(data)));
    await new Promise((resolve) => client.once('open', resolve));
    out.push({ serverSide: await serverSide, received, client });
  }
  return out;
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe('ws-hub delivery', () => {
  it('delivers one frame to every supervisor as text, in order with frames sent the usual way', async () => {
    const sockets = await pairs(3);
    const hub = createWsHub();
    const connections: Connection[] = sockets.map((s, i) => ({ socket: s.serverSide, userId: i + 1, role: 'curator', departmentId: 7, managerId: null, alive: true }));
    for (const c of connections) hub.register(c);

    sockets[0]!.serverSide.send('{"type":"hello"}');
    const long = JSON.stringify({ type: 'reminder.acked', id: 1, note: 'é'.repeat(200) }); // > 125 bytes: 16-bit length
    hub.deliver({ to: { supervisorsOf: [7] }, frame: long });
    hub.deliver({ to: { userIds: [1] }, frame: '{"type":"call.ringing"}' });

    await until(() => sockets[0]!.received.length === 3 && sockets[1]!.received.length === 1 && sockets[2]!.received.length === 1);
    expect(sockets[0]!.received).toEqual(['{"type":"hello"}', long, '{"type":"call.ringing"}']);
    expect(sockets[1]!.received).toEqual([long]);
    expect(sockets[2]!.received).toEqual([long]);
  });

  it('cuts a card\'s other clients with the same number to what each user may open', async () => {
    const [owner, colleague, curator, director] = await pairs(4);
    const hub = createWsHub();
    hub.register({ socket: owner!.serverSide, userId: 1, role: 'manager', departmentId: 7, managerId: null, alive: true });
    hub.register({ socket: colleague!.serverSide, userId: 2, role: 'manager', departmentId: 7, managerId: null, alive: true });
    hub.register({ socket: curator!.serverSide, userId: 3, role: 'curator', departmentId: 7, managerId: null, alive: true });
    hub.register({ socket: director!.serverSide, userId: 4, role: 'director', departmentId: null, managerId: null, alive: true });
    const sharedWith = [
      { clientId: 10, name: 'Mine too', owner: { id: 1, name: 'Owner', departmentId: 7 } },
      { clientId: 11, name: 'Colleague’s', owner: { id: 2, name: 'Colleague', departmentId: 7 } },
      { clientId: 12, name: 'Other department’s', owner: { id: 5, name: 'Far', departmentId: 8 } },
    ];
    const frame = JSON.stringify({ type: 'call.client_linked', client: { clientId: 9, name: 'Caller', sharedWith, sharedWithHidden: 0 } });
    hub.deliver({ to: { userIds: [1, 2, 3, 4] }, frame });
    await until(() => [owner, colleague, curator, director].every((p) => p!.received.length === 1));
    const seen = (p: (typeof owner)) => {
      const client = JSON.parse(p!.received[0]!).client;
      return { name: client.name, others: client.sharedWith.map((o: { clientId: number }) => o.clientId), hidden: client.sharedWithHidden };
    };
    expect(seen(owner)).toEqual({ name: 'Caller', others: [10], hidden: 2 });
    expect(seen(colleague)).toEqual({ name: 'Caller', others: [11], hidden: 2 });
    expect(seen(curator)).toEqual({ name: 'Caller', others: [10, 11], hidden: 1 });
    expect(director!.received[0]).toBe(frame);
  });

  it('skips a socket that is closing', async () => {
    const [a, b] = await pairs(2);
    const hub = createWsHub();
    hub.register({ socket: a!.serverSide, userId: 1, role: 'manager', departmentId: null, managerId: null, alive: true });
    hub.register({ socket: b!.serverSide, userId: 2, role: 'manager', departmentId: null, managerId: null, alive: true });
    b!.serverSide.close(1000);
    hub.deliver({ to: { userIds: [1, 2] }, frame: '{"type":"x"}' });
    await until(() => a!.received.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(b!.received).toEqual([]);
  });

  it('falls back to a normal send when an extension is negotiated (permessage-deflate)', async () => {
    const [pair] = await pairs(1, { perMessageDeflate: true });
    expect(pair!.serverSide.extensions).not.toBe('');
    const text = JSON.stringify({ type: 'x', padding: 'a'.repeat(2_000) });
    sendFramed(pair!.serverSide, textFrame(text), text);
    await until(() => pair!.received.length === 1);
    expect(pair!.received[0]).toBe(text);
  });
});
