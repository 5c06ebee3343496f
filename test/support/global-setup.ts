import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { ensureRedis } from '../../src/infra/embedded-redis.js';
import { freePort } from '../../src/infra/ports.js';
import { createLogger } from '../../src/logger.js';
import { ensureConsoleBuild } from '../../src/console/console-build.js';

// Real PostgreSQL and Redis for the whole run: the ones in DATABASE_URL / REDIS_URL when set
// (CI may provide them), otherwise an embedded PostgreSQL and a redis-server from PATH, each on a
// free port with its own data folder, so a developer's running service is never touched and two
// test runs can go on side by side. Each test file then creates its own database
// (test/support/test-db.ts).

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    redisUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn');
  const dataDir = path.resolve(`.data/test/run-${process.pid}`);
  const stops: Array<() => Promise<void>> = [async () => rm(dataDir, { recursive: true, force: true })];

  let pgAdminUrl = process.env.DATABASE_URL;
  if (!pgAdminUrl) {
    const pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres', logger });
    stops.push(pg.stop);
    pgAdminUrl = pg.url;
  }
  const redisUrl = process.env.REDIS_URL ?? `redis://127.0.0.1:${await freePort()}`;
  const redis = await ensureRedis({ url: redisUrl, dataDir, logger });
  stops.push(redis.stop);

  // The browser tests (test/web) open the console the service serves: build it when missing or
  // older than web/ (a second or two; nothing when current).
  await ensureConsoleBuild((m) => logger.info(m));

  project.provide('pgAdminUrl', pgAdminUrl);
  project.provide('redisUrl', redisUrl);
  return async () => {
    for (const stop of stops.reverse()) await stop();
  };
}
