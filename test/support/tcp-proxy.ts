import net from 'node:net';

export type ProxyMode = 'forward' | 'blackhole' | 'refuse';

/**
 * A TCP proxy in front of a real server, to make it slow or unreachable on demand:
 * `blackhole` keeps connections open and silently drops bytes (a hung database),
 * `refuse` resets every connection (a database that is down).
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  let mode: ProxyMode = 'forward';
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (mode === 'refuse') return client.destroy();
    if (mode === 'blackhole') return client.on('data', () => {});
    const upstream = net.connect(target);
    // Like the pg driver's own socket: no Nagle delay on small messages.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('data', (chunk) => mode === 'forward' && upstream.write(chunk));
    upstream.on('data', (chunk) => mode === 'forward' && client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    setMode(next: ProxyMode) {
      mode = next;
      if (next === 'refuse') for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
