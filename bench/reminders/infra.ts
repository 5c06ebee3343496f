import path from 'node:path';
import type { Logger } from 'pino';
import { createDatabase, type Database } from '../../src/db/client.js';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { runMigrations } from '../../src/db/migrate.js';
import { ensureRedis } from '../../src/infra/embedded-redis.js';
import { freshDatabase } from '../shared/infra.js';

// Real PostgreSQL and Redis for the benchmark: the configured ones (DATABASE_URL / REDIS_URL), or
// an embedded PostgreSQL and a redis-server from PATH on bench ports, so neither a running
// service nor the test suite is touched. A fresh database per run, dropped at the end.

export interface BenchInfra {
  database: Database;
  redisUrl: string;
  where: { postgres: string; redis: string };
  close(): Promise<void>;
}

export async function startInfra(opts: { logger: Logger; pgPool: number }): Promise<BenchInfra> {
  const stops: Array<() => Promise<void>> = [];
  const dataDir = path.resolve('.data/bench');
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const port = Number(process.env.BENCH_PG_PORT ?? 54339);
    const embedded = await startEmbeddedPostgres({ dataDir, port, database: 'postgres', logger: opts.logger });
    stops.push(embedded.stop);
    adminUrl = embedded.url;
  }
  const redisUrl = process.env.REDIS_URL ?? `redis://127.0.0.1:${process.env.BENCH_REDIS_PORT ?? 6391}`;
  const redis = await ensureRedis({ url: redisUrl, dataDir, logger: opts.logger });
  stops.push(redis.stop);

  const fresh = await freshDatabase(adminUrl, `bench_reminders_${Date.now()}`);
  const database = createDatabase(fresh.url, { max: opts.pgPool });
  await runMigrations(database.db);

  return {
    database,
    redisUrl,
    where: { postgres: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded-postgres', redis: redis.process ? 'embedded redis-server (AOF on)' : 'REDIS_URL / already running' },
    async close() {
      await database.close();
      await fresh.drop();
      for (const stop of stops.reverse()) await stop();
    },
  };
}

/** Managers with one assistant each, and clients spread over them: the shape the firing query joins. */
export async function seedPeople(database: Database, managers: number, clientsPerManager: number): Promise<void> {
  const q = (text: string) => database.pool.query(text);
  await q(`insert into departments (name, line_kind, line_target) values ('Bench sales', 'queue', 'sales')`);
  await q(`insert into users (login, name, password_hash, role, department_id)
           select 'm' || i, 'Manager ' || i, 'x', 'manager', (select min(id) from departments) from generate_series(1, ${managers}) i`);
  await q(`insert into users (login, name, password_hash, role, department_id, manager_id)
           select 'a' || id, 'Assistant of ' || id, 'x', 'assistant', department_id, id from users where role = 'manager'`);
  await q(`insert into clients (name, owner_id)
           select 'Client ' || u.id || '-' || i, u.id from users u, generate_series(1, ${clientsPerManager}) i where u.role = 'manager'`);
}

/**
 * `count` reminders due from `from` over `spreadMs`, evenly (spreadMs 0 = all at once), each for
 * a client's owner. INSERT ... SELECT in chunks: the bench measures firing, not inserting.
 */
export async function insertReminders(database: Database, count: number, from: Date, spreadMs: number): Promise<{ minId: number; maxId: number }> {
  let minId = Infinity;
  let maxId = -Infinity;
  const chunk = 10_000;
  for (let start = 1; start <= count; start += chunk) {
    const { rows } = await database.pool.query(
      `with c as (select array_agg(id order by id) as ids, array_agg(owner_id order by id) as owners from clients),
       ins as (insert into reminders (kind, user_id, department_id, client_id, due_at, note)
         select 'reminder', c.owners[1 + i % cardinality(c.ids)], (select min(id) from departments), c.ids[1 + i % cardinality(c.ids)],
                $1::timestamptz + make_interval(secs => (i - 1) * $2::float8 / $3 / 1000.0), 'bench reminder ' || i
         from generate_series($4::int, $5::int) i, c
         returning id)
       select min(id) as min_id, max(id) as max_id from ins`,
      [from, spreadMs, count, start, Math.min(count, start + chunk - 1)],
    );
    minId = Math.min(minId, Number(rows[0].min_id));
    maxId = Math.max(maxId, Number(rows[0].max_id));
  }
  return { minId, maxId };
}
