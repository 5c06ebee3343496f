import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { isListening } from './ports.js';

export interface EmbeddedRedis {
  /** null when a Redis was already listening and nothing was started. */
  process: ChildProcess | null;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

/**
 * When nothing listens at REDIS_URL on this machine, start `redis-server` from PATH with its data
 * under DATA_DIR. Settings follow BullMQ's production advice: AOF on, `noeviction` (an evicted
 * job key is a lost reminder).
 */
export async function ensureRedis(opts: { url: string; dataDir: string; logger: Logger }): Promise<EmbeddedRedis> {
  const { hostname, port: portText } = new URL(opts.url);
  const port = Number(portText || 6379);
  const none: EmbeddedRedis = { process: null, stop: async () => {} };
  if (!LOOPBACK.has(hostname) || (await isListening(port, '127.0.0.1'))) return none;

  const dir = path.resolve(opts.dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--save', '',
  ];
  // A process group of its own: a Ctrl-C to the terminal's group must reach the service only, so
  // that Redis still answers while the service drains; the service stops it last.
  const child = spawn('redis-server', args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(`REDIS_URL: nothing listens on ${hostname}:${port} and redis-server is not on PATH (install redis-server, or set REDIS_URL)`)
          : error,
      ),
    );
    child.once('exit', (code) => reject(new Error(`redis-server exited with code ${code} (port ${port}, dir ${dir})`)));
  });
  child.stdout?.on('data', (chunk: Buffer) => opts.logger.trace({ redis: chunk.toString().trim() }, 'embedded redis'));
  child.stderr?.on('data', (chunk: Buffer) => opts.logger.warn({ redis: chunk.toString().trim() }, 'embedded redis'));

  await Promise.race([failed, waitUntilListening(port)]);
  failed.catch(() => {}); // the exit after a normal stop is expected
  opts.logger.info({ port, dir, pid: child.pid }, 'started redis-server');
  // A fatal exit that skips the orderly stop must not leave the detached server behind.
  const onProcessExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  process.once('exit', onProcessExit);
  return {
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', onProcessExit);
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function waitUntilListening(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isListening(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on port ${port} within ${timeoutMs} ms`);
}
