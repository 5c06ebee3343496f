import 'dotenv/config';
import { bootstrapAdmin } from './auth/bootstrap-admin.js';
import { ConfigError, loadConfig } from './config.js';
import { createDatabase } from './db/client.js';
import { startEmbeddedPostgres } from './db/embedded-postgres.js';
import { runMigrations } from './db/migrate.js';
import { ensureRedis } from './infra/embedded-redis.js';
import { createLogger } from './logger.js';
import { unknownDidNotice } from './routing/unknown-did-notice.js';
import { createRuntime } from './runtime.js';

// Process entry: configuration, embedded services when nothing is configured, listen, and a
// graceful shutdown that closes in the reverse order of start.
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const stack: Array<{ name: string; close: () => Promise<unknown> }> = [];

  const shutdown = async (signal: string, code = 0) => {
    logger.info({ signal }, 'shutting down');
    for (const { name, close } of stack.reverse()) {
      try {
        await close();
      } catch (err) {
        logger.error({ err, part: name }, 'error while closing');
      }
    }
    process.exit(code);
  };

  // Registered before anything starts, so a Ctrl-C during start-up still stops PostgreSQL.
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(130); // a second Ctrl-C: the user insists
      stopping = true;
      void shutdown(signal);
    });
  }

  try {
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres({ dataDir: config.DATA_DIR, port: config.EMBEDDED_PG_PORT, database: 'switchboard', logger });
      stack.push({ name: 'embedded postgres', close: pg.stop });
      databaseUrl = pg.url;
    }
    const database = createDatabase(databaseUrl);
    stack.push({ name: 'postgres pool', close: database.close });
    await runMigrations(database.db);
    await bootstrapAdmin(database.db, logger, config.ADMIN_PASSWORD);

    if (config.REDIS_AUTOSTART) {
      const embeddedRedis = await ensureRedis({ url: config.REDIS_URL, dataDir: config.DATA_DIR, logger });
      stack.push({ name: 'embedded redis', close: embeddedRedis.stop });
    }
    const notice = unknownDidNotice(config);
    if (notice !== null) logger.warn({ defaultDepartment: null, fallbackDial: config.FALLBACK_DIAL || null }, notice);

    const runtime = await createRuntime({ config, logger, database });
    stack.push({ name: 'runtime', close: () => runtime.stop() });
    await runtime.app.listen({ host: config.HOST, port: config.PORT });
    await runtime.start();
  } catch (err) {
    logger.fatal({ err }, 'start failed');
    await shutdown('start-failed', 1);
  }

}

void main();
