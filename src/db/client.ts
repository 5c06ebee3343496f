import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema.js';

export type Db = NodePgDatabase<typeof schema>;

export interface Database {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

// timestamptz comes back as Date (pg default); bigint identity columns use mode 'number'.
export function createDatabase(url: string, options: { max?: number } = {}): Database {
  const pool = new pg.Pool({
    connectionString: url,
    // Seen in pg_stat_activity, and by the history trigger (migration 0010): a write from this
    // pool that names no actor is the service's own ('system'), not somebody in psql.
    application_name: 'switchboard',
    max: options.max ?? 10,
    // A dead database must fail requests quickly instead of queueing them behind a TCP timeout;
    // /pbx/route has its own budget on top of this.
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 30_000,
    // A hung server must not hold a pooled connection forever.
    query_timeout: 15_000,
  });
  keepConnectionLossesInside(pool);
  const db = drizzle(pool, { schema, casing: 'snake_case' });
  return { db, pool, close: () => pool.end() };
}

/**
 * A lost connection (PostgreSQL killed or restarted, a network cut) must fail the queries on it,
 * never the process. node-postgres reports it twice: on the pool for an idle client, and on the
 * client itself for one that is checked out (a transaction, the trace's COPY, the directory's
 * reload) — where pg-pool listens to nothing, so an unheard 'error' event became an uncaught
 * exception (seen as EPIPE from the trace's COPY when PostgreSQL was SIGKILLed). The queries
 * on that client are rejected all the same, and whoever holds it releases it with the error.
 */
export function keepConnectionLossesInside(pool: pg.Pool): void {
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
}
