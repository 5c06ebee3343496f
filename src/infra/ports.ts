import net from 'node:net';

/** Fails with a message naming the setting when something already listens on the port. */
export async function assertPortFree(port: number, setting: string, host = '127.0.0.1'): Promise<void> {
  const busy = await isListening(port, host);
  if (busy) throw new Error(`${setting}: port ${port} on ${host} is already in use; choose another port`);
}

export function isListening(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A port that was free a moment ago (the OS picks it); for test and benchmark servers. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
