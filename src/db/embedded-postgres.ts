import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { assertPortFree } from '../infra/ports.js';
import { loadEmbeddedPostgres, postgresBinary } from './embedded-postgres-lib.js';

export type EmbeddedPgState = 'running' | 'restarting' | 'stopped';

export interface EmbeddedPg {
  url: string;
  /** The postmaster's pid while running (tests freeze and kill it). */
  pid(): number | undefined;
  state(): EmbeddedPgState;
  /** Times PostgreSQL died and was started again. */
  restarts(): number;
  stop(): Promise<void>;
}

const USER = 'switchboard';
// Reachable on loopback only (listen_addresses below), so a fixed password is not a secret.
const PASSWORD = 'switchboard';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const RESTART_BACKOFF_MS = [250, 500, 1_000, 2_000, 4_000];

/**
 * Starts a real PostgreSQL from the embedded-postgres package with its data under `dataDir`,
 * kept across restarts. Used when DATABASE_URL is unset: the two-command start and the tests.
 *
 * The library only initialises the cluster; the server process is spawned here because:
 * - it runs in a process group of its own (detached), so a Ctrl-C to the terminal's group reaches
 *   the service, which drains and then stops PostgreSQL, instead of PostgreSQL going first;
 * - when it dies the service starts it again (crash recovery replays the WAL), instead of
 *   answering every request with an error until someone restarts everything.
 */
export async function startEmbeddedPostgres(opts: {
  dataDir: string;
  port: number;
  database: string;
  logger: Logger;
}): Promise<EmbeddedPg> {
  const { dataDir, port, logger } = opts;
  const databaseDir = path.resolve(dataDir, 'postgres');
  await assertPortFree(port, 'EMBEDDED_PG_PORT');
  await mkdir(path.dirname(databaseDir), { recursive: true });

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; in containers and CI we often are root.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message: string) => logger.trace({ pg: message.trim() }, 'embedded postgres'),
    onError: (error: unknown) => logger.error({ err: error }, 'embedded postgres'),
  });
  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }

  const binary = await postgresBinary();
  await ensureExecutable(binary);
  const args = ['-D', databaseDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
  const owner = process.getuid?.() === 0 ? postgresUserIds() : {};
  const launch = () => spawnPostgres(binary, args, owner, logger);

  let child: ChildProcess;
  try {
    child = await launch();
  } catch (error) {
    throw new Error(
      `embedded PostgreSQL did not start (data in ${databaseDir}, port ${port}); set LOG_LEVEL=trace to see its output`,
      { cause: error },
    );
  }

  let state: EmbeddedPgState = 'running';
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | undefined;

  const supervise = (running: ChildProcess) => {
    running.once('exit', (code, signal) => {
      if (state === 'stopped') return;
      state = 'restarting';
      logger.error({ code, signal, pid: running.pid }, 'embedded PostgreSQL exited; starting it again');
      restartAfter(0);
    });
  };
  // After a crash the old backends hold the shared memory for a moment ("pre-existing shared
  // memory block is still in use"): retry with growing pauses until it starts.
  const restartAfter = (attempt: number) => {
    restartTimer = setTimeout(async () => {
      if (state === 'stopped') return;
      try {
        child = await launch();
      } catch (error) {
        logger.warn({ err: error, attempt }, 'embedded PostgreSQL restart failed; trying again');
        return restartAfter(attempt + 1);
      }
      // stop() ran while this start was under way.
      if ((state as EmbeddedPgState) === 'stopped') return void child.kill('SIGKILL');
      restarts += 1;
      state = 'running';
      logger.info({ pid: child.pid, restarts }, 'embedded PostgreSQL running again');
      supervise(child);
    }, RESTART_BACKOFF_MS[Math.min(attempt, RESTART_BACKOFF_MS.length - 1)]);
  };
  supervise(child);
  // A crash path that skips the orderly stop (process.exit on a fatal error) must not leave a
  // detached PostgreSQL behind holding the port; kill() is synchronous, as 'exit' needs.
  const onProcessExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
  };
  process.once('exit', onProcessExit);

  await createDatabaseIfMissing(pg, opts.database);
  logger.info({ port, databaseDir, pid: child.pid }, 'embedded PostgreSQL running');
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${opts.database}`,
    pid: () => (state === 'running' ? child.pid : undefined),
    state: () => state,
    restarts: () => restarts,
    async stop() {
      state = 'stopped';
      clearTimeout(restartTimer);
      process.removeListener('exit', onProcessExit);
      await stopProcess(child);
    },
  };
}

function spawnPostgres(binary: string, args: string[], owner: { uid?: number; gid?: number }, logger: Logger): Promise<ChildProcess> {
  const child = spawn(binary, args, { ...owner, detached: true, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_MESSAGES: 'C' } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`PostgreSQL did not accept connections within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    let tail = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      logger.trace({ pg: text.trim() }, 'embedded postgres');
      tail = (tail + text).slice(-2_000);
      if (tail.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        tail = '';
        resolve(child);
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited during start (code ${code}, signal ${signal}): ${tail.trim().split('\n').pop() ?? ''}`));
    });
  });
}

/** SIGINT is PostgreSQL's fast shutdown; a frozen (SIGSTOPped) server needs SIGCONT to act on it. */
async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  child.kill('SIGCONT');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), STOP_TIMEOUT_MS);
  });
  if ((await Promise.race([exited, late])) === 'late') {
    child.kill('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

function postgresUserIds(): { uid: number; gid: number } {
  // The library created this user in initialise() (createPostgresUser).
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function ensureExecutable(file: string): Promise<void> {
  // Only when a bit is missing: the binaries may sit on a read-only file system.
  const { mode } = await stat(file);
  if ((mode & 0o555) !== 0o555) await chmod(file, mode | 0o555);
}

async function createDatabaseIfMissing(pg: { getPgClient(db?: string, host?: string): import('pg').Client }, database: string): Promise<void> {
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
