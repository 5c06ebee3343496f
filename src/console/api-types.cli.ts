import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/client.js';
import { startEmbeddedPostgres } from '../db/embedded-postgres.js';
import { runMigrations } from '../db/migrate.js';
import { ensureRedis } from '../infra/embedded-redis.js';
import { freePort } from '../infra/ports.js';
import { createLogger } from '../logger.js';
import { createRuntime } from '../runtime.js';
import { apiTypesOf, SCHEMA_FILE } from './api-types.js';

// `npm run api:types`: the whole service (every optional route group, as `npm start` has them)
// is built in-process on a throw-away PostgreSQL and Redis, never listening; its OpenAPI
// document becomes web/src/api/schema.d.ts.
const logger = createLogger('warn');
// Under .data/ like the tests' own: the embedded PostgreSQL may run as another user than /tmp's 0700 folders allow.
const dataDir = path.resolve(`.data/api-types-${process.pid}`);
const pg = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'postgres', logger });
const redisUrl = `redis://127.0.0.1:${await freePort()}`;
const redis = await ensureRedis({ url: redisUrl, dataDir, logger });
try {
  const database = createDatabase(pg.url);
  await runMigrations(database.db);
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', REDIS_URL: redisUrl, PBX_TOKEN: 'api-types-only-0123456789' });
  const runtime = await createRuntime({ config, logger: createLogger('silent'), database, consoleDir: null });
  await runtime.app.ready();
  const document = runtime.app.swagger();
  if (process.env.API_DOC_OUT) await writeFile(process.env.API_DOC_OUT, JSON.stringify(document, null, 2));
  await writeFile(SCHEMA_FILE, await apiTypesOf(document));
  process.stdout.write(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}\n`);
  await runtime.stop();
  await database.close();
} finally {
  await redis.stop();
  await pg.stop();
  await rm(dataDir, { recursive: true, force: true });
}
