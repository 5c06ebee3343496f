import { rmSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { Logger } from 'pino';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { ensureRedis } from '../../src/infra/embedded-redis.js';
import { freePort } from '../../src/infra/ports.js';
import { track } from './children.js';
import type { Cleanups } from './lifecycle.js';

// Real PostgreSQL and Redis for a benchmark, never the developer's data: an embedded PostgreSQL
// on a free port with a fresh data folder (or, with DATABASE_URL, a fresh database on that
// server, dropped at the end), and REDIS_URL or a redis-server from PATH on a free port. Every
// start registers its stop.

/** `create database <name>` on the server of `adminUrl`; `drop()` removes it again. */
export async function freshDatabase(adminUrl: string, name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const query = async (sql: string) => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => query(`drop database if exists ${name} with (force)`) };
}

/** `external`: a fresh database `<databaseName>` on DATABASE_URL's server, not an embedded one. */
export async function startDatabase(opts: { dataDir: string; databaseName: string; logger: Logger; cleanups: Cleanups }): Promise<{ url: string; external: boolean }> {
  const external = process.env.DATABASE_URL;
  if (external) {
    const db = await freshDatabase(external, opts.databaseName);
    opts.cleanups.push({ name: `database ${opts.databaseName}`, run: db.drop });
    return { url: db.url, external: true };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: opts.dataDir, port: await freePort(), database: 'switchboard', logger: opts.logger });
  opts.cleanups.push({ name: 'embedded postgres', run: () => embedded.stop() });
  return { url: embedded.url, external: false };
}

/** `started`: this run started a redis-server (it was not REDIS_URL / already running). */
export async function startRedis(opts: { dataDir: string; logger: Logger; cleanups: Cleanups }): Promise<{ url: string; started: boolean }> {
  const url = process.env.REDIS_URL ?? `redis://127.0.0.1:${await freePort()}`;
  const redis = await ensureRedis({ url, dataDir: opts.dataDir, logger: opts.logger });
  if (redis.process) track(redis.process);
  opts.cleanups.push({ name: 'redis', run: () => redis.stop() });
  return { url, started: Boolean(redis.process) };
}

/**
 * A new, empty `<parent>/<prefix>-<pid>`, removed at the end unless `keep`. With `removeStale`,
 * folders of earlier runs with the same prefix whose process is gone (killed runs, but also ones
 * kept on purpose) are removed first.
 */
export async function freshDataDir(parent: string, prefix: string, opts: { keep: boolean; removeStale?: boolean; cleanups: Cleanups }): Promise<string> {
  if (opts.removeStale) await removeStaleDataDirs(parent, prefix);
  const dataDir = path.join(parent, `${prefix}-${process.pid}`);
  await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  if (!opts.keep) {
    opts.cleanups.push({ name: 'data folder', run: () => rm(dataDir, { recursive: true, force: true }) });
    // On Ctrl-C, embedded-postgres' own exit hook stops PostgreSQL and calls process.exit()
    // possibly before the cleanup above is through: remove the folder on the way out anyway.
    process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  }
  return dataDir;
}

async function removeStaleDataDirs(parent: string, prefix: string): Promise<void> {
  let entries: string[] = [];
  try {
    entries = await readdir(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = Number(new RegExp(`^${prefix}-(\\d+)$`).exec(entry)?.[1]);
    if (!pid || pid === process.pid) continue;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive) await rm(path.join(parent, entry), { recursive: true, force: true });
  }
}
