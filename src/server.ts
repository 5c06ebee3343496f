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
import { ensureConsoleBuild } from './console/console-build.js';

/** A signal this long after the first is a person's second Ctrl-C, not the first one relayed again. */
const SECOND_SIGNAL_AFTER_MS = 500;

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
  // Each part gets a deadline so that the whole stop fits in a supervisor's grace period
  // (Docker and systemd wait 10 s before SIGKILL): the service's drain first, PostgreSQL and
  // Redis last, because the drain still writes to them.
  const stack: Array<{ name: string; close: () => Promise<unknown>; deadlineMs: number }> = [];

  let stopping = false;
  let stoppingSince = 0;
  const shutdown = async (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    stoppingSince = Date.now();
    const started = stoppingSince;
    logger.info({ signal }, 'shutting down');
    for (const { name, close, deadlineMs } of stack.reverse()) {
      try {
        await withDeadline(close(), deadlineMs, name);
        logger.info({ part: name, ms: Date.now() - started }, 'closed');
      } catch (err) {
        logger.error({ err, part: name }, 'error while closing');
      }
    }
    logger.info({ signal, code, ms: Date.now() - started }, 'stopped');
    process.exit(code);
  };

  // Registered before anything starts, so a Ctrl-C during start-up still stops PostgreSQL.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // A second Ctrl-C: the user insists. One Ctrl-C reaches this process more than once within
      // milliseconds — from the terminal (the whole process group) and relayed by `tsx` and `npm`
      // above it — and that must not cut the drain short (the shutdown test saw exit 130 from it).
      if (stopping && Date.now() - stoppingSince > SECOND_SIGNAL_AFTER_MS) process.exit(130);
      void shutdown(signal);
    });
  }

  try {
    // `npm start` on a fresh clone or after a pull serves a current console; without Vite (a
    // production image with its build baked in) the API still starts.
    await ensureConsoleBuild((m) => logger.info(m)).catch((err: Error) => logger.warn({ err: err.message }, 'the web console could not be built; GET / answers 404'));
    let databaseUrl = config.DATABASE_URL;
    if (!databaseUrl) {
      const pg = await startEmbeddedPostgres({ dataDir: config.DATA_DIR, port: config.EMBEDDED_PG_PORT, database: 'switchboard', logger });
      stack.push({ name: 'embedded postgres', close: pg.stop, deadlineMs: 1_500 });
      databaseUrl = pg.url;
    }
    const database = createDatabase(databaseUrl);
    stack.push({ name: 'postgres pool', close: database.close, deadlineMs: 500 });
    await runMigrations(database.db);
    await bootstrapAdmin(database.db, logger, config.ADMIN_PASSWORD, config.DATA_DIR);

    if (config.REDIS_AUTOSTART) {
      const embeddedRedis = await ensureRedis({ url: config.REDIS_URL, dataDir: config.DATA_DIR, logger });
      stack.push({ name: 'embedded redis', close: embeddedRedis.stop, deadlineMs: 1_000 });
    }
    const notice = unknownDidNotice(config);
    if (notice !== null) logger.warn({ defaultDepartment: null, fallbackDial: config.FALLBACK_DIAL || null }, notice);

    const runtime = await createRuntime({
      config,
      logger,
      database,
      // EX_UNAVAILABLE: the supervisor restarts the service, which starts or reaches it again.
      onDatabaseGiveUp: () => void shutdown('database-unavailable', 69),
    });
    stack.push({ name: 'runtime', close: () => runtime.stop(), deadlineMs: 6_000 });
    await runtime.app.listen({ host: config.HOST, port: config.PORT });
    await runtime.start();
  } catch (err) {
    logger.fatal({ err }, 'start failed');
    await shutdown('start-failed', 1);
  }

}

function withDeadline(work: Promise<unknown>, ms: number, part: string): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${part} did not close within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

void main();
