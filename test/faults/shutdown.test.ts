import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createDatabase } from '../../src/db/client.js';
import { freePort } from '../../src/infra/ports.js';
import { TEST_PBX_TOKEN } from '../support/test-app.js';
import type { TestDatabase } from '../support/test-db.js';
import { insertUser } from '../support/test-runtime.js';
import { startLoad, summary } from './load-loop.js';

// Issue 15, part 8: `src/server.ts` as a real process with its own embedded PostgreSQL and
// redis-server, stopped under load. Held: requests already in flight are answered, WebSockets
// get a close code, the process exits 0 within 10 s, nothing logs an error while draining, and
// PostgreSQL and Redis are stopped after everything else (and are gone afterwards).
// Started twice on one data folder: SIGTERM to the process (a supervisor), then SIGINT to the
// whole process group (Ctrl-C under `npm start`), which also reaches any child left in it.

const REPO = path.resolve(import.meta.dirname, '../..');
const dataDir = path.resolve(REPO, `.data/test/faults-shutdown-${process.pid}`);
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

interface LogLine {
  level: number;
  msg: string;
  part?: string;
  pid?: number;
  [k: string]: unknown;
}

async function startServer() {
  const [port, pgPort, redisPort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(path.join(REPO, 'node_modules/.bin/tsx'), ['src/server.ts'], {
    cwd: REPO,
    // A process group of its own, as a terminal gives `npm start`.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      PORT: String(port),
      DATA_DIR: dataDir,
      EMBEDDED_PG_PORT: String(pgPort),
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      PBX_TOKEN: TEST_PBX_TOKEN,
      DATABASE_URL: '',
      AMI_HOST: '',
    },
  });
  children.push(child);
  const logs: LogLine[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) if (line.startsWith('{')) logs.push(JSON.parse(line) as LogLine);
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((resolve) => child.once('exit', (code) => resolve({ code, at: Date.now() })));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited during start: ${stderr}`);
    if (Date.now() > deadline) throw new Error('server did not start within 60 s');
    const ready = await fetch(`${baseUrl}/ready`).then((r) => r.status === 200, () => false);
    if (ready) break;
    await sleep(200);
  }
  const database = createDatabase(`postgres://switchboard:switchboard@127.0.0.1:${pgPort}/switchboard`);
  const { token } = await insertUser(database as TestDatabase, { role: 'director', name: 'Dora' });
  await database.close();
  return { child, logs, baseUrl, token, exited, stderr: () => stderr };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function stopUnderLoad(signalTo: 'process' | 'group', signal: NodeJS.Signals) {
  const server = await startServer();
  const pgPid = server.logs.find((l) => l.msg === 'embedded PostgreSQL running')?.pid as number;
  const redisPid = server.logs.find((l) => l.msg === 'started redis-server')?.pid as number;
  const socket = new WebSocket(`${server.baseUrl.replace('http', 'ws')}/ws?token=${server.token}`);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));

  const traffic = startLoad({
    baseUrl: server.baseUrl,
    workers: 4,
    maxMs: 15_000,
    timeoutMs: 12_000,
    requests: [
      { path: '/pbx/route?caller=79161234567&did=74951110001&uniqueid=s.1&linkedid=s.1&step=1', headers: { 'x-switchboard-token': TEST_PBX_TOKEN } },
      { path: '/api/clients', headers: { authorization: `Bearer ${server.token}` } },
    ],
  });
  await sleep(1_000);
  const signalledAt = Date.now();
  const signalledAtLoad = traffic.elapsed();
  process.kill(signalTo === 'group' ? -server.child.pid! : server.child.pid!, signal);
  const [{ code, at }, closeCode] = await Promise.all([server.exited, closed]);
  const samples = await traffic.stop();

  const inFlight = samples.filter((s) => s.at < signalledAtLoad);
  const drainLogs = server.logs.filter((l) => l.msg !== 'embedded PostgreSQL running' && l.time !== undefined && Number(l.time) >= signalledAt - 50);
  const closedParts = server.logs.filter((l) => l.msg === 'closed').map((l) => l.part);
  const result = {
    signalTo,
    exitCode: code,
    shutdownMs: at - signalledAt,
    wsCloseCode: closeCode,
    closedParts,
    drainErrors: drainLogs.filter((l) => l.level >= 50).map((l) => l.msg),
    inFlightUnanswered: inFlight.filter((s) => s.status === 0 || s.status >= 500 && s.status !== 503).length,
    pgAlive: pidAlive(pgPid),
    redisAlive: pidAlive(redisPid),
  };
  console.log(`[issue-15 shutdown ${signal} to ${signalTo}]`, result, summary(inFlight, '/pbx/route'), summary(inFlight, '/api/clients'));
  expect(result).toMatchObject({
    exitCode: 0,
    wsCloseCode: 1001,
    closedParts: ['runtime', 'embedded redis', 'postgres pool', 'embedded postgres'],
    drainErrors: [],
    inFlightUnanswered: 0,
    pgAlive: false,
    redisAlive: false,
  });
  expect(result.shutdownMs).toBeLessThan(10_000);
}

describe('stopping the service under load', () => {
  it('SIGTERM to the process: drained, then Redis and PostgreSQL stopped, within 10 s', () => stopUnderLoad('process', 'SIGTERM'), 60_000);
  it('Ctrl-C to the process group: the same order, Redis and PostgreSQL not stopped under the drain', () => stopUnderLoad('group', 'SIGINT'), 60_000);
});
