import { eq, getTableColumns, sql } from 'drizzle-orm';
import pg from 'pg';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { createSettings } from './settings/settings.service.js';
import { createCallPipeline, type CallHooks } from './calls/call-pipeline.js';
import { CallTracker } from './calls/call-tracker.js';
import { calls } from './calls/calls.table.js';
import { identityFromConfig } from './calls/channel-identity.js';
import type { AddressInfo } from 'node:net';
import { type Config, publicUrl } from './config.js';
import { keepConnectionLossesInside, type Database } from './db/client.js';
import { createDbWatchdog } from './db/db-watchdog.js';
import { createEventBus } from './events/event-bus.js';
import { createLeaderLock } from './infra/leader-lock.js';
import { createRedis } from './infra/redis.js';
import { createAmiClient, createDisabledAmi, type AmiClient } from './pbx/ami-client.js';
import { createStorage } from './recordings/create-storage.js';
import { attachFromRecordingsDir } from './recordings/recordings.service.js';
import { createReminderModule } from './reminders/reminders.module.js';
import { createStatsFolder } from './stats/stats-folder.js';
import { createImportModule } from './import/import.module.js';
import { join } from 'node:path';
import { createActivePops } from './screenpop/active-pops.js';
import { createWsHub } from './screenpop/ws-hub.js';
import { createUserDirectory } from './users/user-directory.js';
import { createTargetPolicy } from './webhooks/webhook-target.js';
import { createWebhookDispatcher } from './webhooks/webhook-dispatcher.js';
import { createMetrics } from './metrics/metrics.js';
import { createClickToCallModule } from './clicktocall/clicktocall.module.js';
import { createPresenceModule } from './presence/presence.module.js';
import { createDirectorySync, heartbeatMsFor } from './routing/directory/directory-sync.js';
import { createTraceWriter } from './routing/trace-writer.js';
import { byFrameType } from './screenpop/ws.routes.js';
import type { CountryCode } from './phones/normalize.js';

export interface RuntimeOptions {
  config: Config;
  logger: Logger;
  database: Database;
  /** Timings tests shorten. */
  leaderTtlMs?: number;
  amiBackoffMs?: number;
  webhookBackoffMs?: number;
  traceFlushEveryMs?: number;
  /** Called when PostgreSQL stayed unreachable past DATABASE_DOWN_EXIT_SECONDS; server.ts exits. */
  onDatabaseGiveUp?: (downForMs: number) => void;
  databaseProbeEveryMs?: number;
  /** The web console's build (app.ts `consoleDir`); null: none. */
  consoleDir?: string | null;
}

const HOUSEKEEPING_MS = 60_000;
const splitList = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);

/**
 * One Switchboard instance: the HTTP app plus the parts that live beside it — event bus, the AMI
 * consumer (started only while this instance holds the leader lock), call pipeline, reminder
 * worker, webhook worker. `server.ts` runs one; tests run one or two against the same
 * PostgreSQL, Redis and fake PBX.
 */
export async function createRuntime(opts: RuntimeOptions) {
  const { config, logger, database } = opts;
  const redis = createRedis(config.REDIS_URL, 'command');
  const subscriber = createRedis(config.REDIS_URL, 'blocking');
  const bus = createEventBus({ publisher: redis, subscriber, logger, keyPrefix: config.REDIS_PREFIX });
  const hub = createWsHub();
  bus.onMessage((message) => hub.deliver(message));
  const activePops = createActivePops(redis, config.REDIS_PREFIX);
  const users = createUserDirectory(database.pool);
  await users.refresh();
  const stopUserRefresh = users.startRefreshing();
  const storage = createStorage(config);
  const watchdog = createDbWatchdog({
    url: String(database.pool.options.connectionString),
    logger,
    ...(opts.databaseProbeEveryMs !== undefined && { everyMs: opts.databaseProbeEveryMs }),
    giveUpAfterMs: opts.onDatabaseGiveUp ? config.DATABASE_DOWN_EXIT_SECONDS * 1000 : 0,
    onGiveUp: (downForMs) => opts.onDatabaseGiveUp?.(downForMs),
  });
  const prefix = config.REDIS_PREFIX;
  const bullConnection = { url: config.REDIS_URL, maxRetriesPerRequest: null };
  const metrics = createMetrics();

  const ami: AmiClient = config.AMI_HOST
    ? createAmiClient(
        {
          host: config.AMI_HOST,
          port: config.AMI_PORT,
          username: config.AMI_USERNAME,
          secret: config.AMI_SECRET,
          ...(opts.amiBackoffMs !== undefined && { backoffInitialMs: opts.amiBackoffMs, backoffMaxMs: opts.amiBackoffMs * 4 }),
        },
        logger,
      )
    : createDisabledAmi();

  // The routing facts in memory, shared by /pbx/route and the presence snapshot (started here,
  // before the app, so that both see a loaded directory).
  const directory = createDirectorySync({ connection: database.pool.options, logger, heartbeatMs: heartbeatMsFor(config) });
  await directory.start();
  const presence = createPresenceModule({ db: database.db, redis, config, bus, users, directory, logger });
  await presence.start();
  // The pipeline is built below; the tracker is told about an Originate only when one is sent.
  // The director's settings, one copy for the app and click-to-call (src/settings/).
  const settings = createSettings(database.db, config);
  const clickToCall = createClickToCallModule({ db: database.db, redis, config, logger, ami, settings, expectOriginate: (o) => pipeline.expectOriginate(o) });
  const reminders = createReminderModule({ db: database.db, redisUrl: config.REDIS_URL, bus, logger, config, prefix, originate: clickToCall.forReminder });
  const imports = createImportModule({
    env: { db: database.db, region: config.DEFAULT_REGION as CountryCode, utcOffset: config.IMPORT_UTC_OFFSET },
    files: { dir: join(config.DATA_DIR, 'imports'), maxBytes: config.IMPORT_MAX_BYTES },
    redisUrl: config.REDIS_URL,
    prefix,
    logger,
    bus,
  });
  const webhooks = createWebhookDispatcher({
    db: database.db,
    connection: bullConnection,
    logger,
    // Read per event: with PORT=0 the port is known only once listening.
    publicUrl: () => publicUrl(config, (app.server.address() as AddressInfo | null)?.port),
    prefix,
    targets: createTargetPolicy(config.WEBHOOK_ALLOWED_PRIVATE_CIDRS),
    ...(opts.webhookBackoffMs !== undefined && { backoffMs: opts.webhookBackoffMs }),
    onDelivery: (outcome) => metrics.webhookDeliveries.inc({ outcome }),
  });

  // The stored call with the department of its DID (department_dids.did is the primary key),
  // in one statement prepared once: this runs for every call, and drizzle's query building is
  // not free.
  const endedCall = database.db
    .select({
      ...getTableColumns(calls),
      // Spelt out: drizzle leaves column names unqualified in a one-table select, and a bare
      // "did" inside the subquery would be department_dids' own.
      departmentId: sql<number | null>`(select dd.department_id from department_dids dd where dd.did = "calls"."did")`,
    })
    .from(calls)
    .where(eq(calls.id, sql.placeholder('id')))
    .prepare('switchboard-ended-call');
  const reminderHooks: CallHooks = {
    async onEnded(call) {
      const [row] = await endedCall.execute({ id: call.id });
      if (row) await reminders.onCallEnded(row);
    },
  };

  // A finished call's recording is registered as soon as the file is there (shared folder); a
  // PBX that pushes files registers them itself through PUT /pbx/recordings.
  const recordingHooks: CallHooks = {
    async onEnded(call) {
      const uniqueid = call.summary.recording?.uniqueid;
      if (uniqueid) await attachFromRecordingsDir({ db: database.db, config, storage }, uniqueid);
    },
  };

  const tracker = new CallTracker({
    identity: identityFromConfig(config, { inboundContexts: splitList(config.INBOUND_CONTEXTS), outboundContexts: splitList(config.OUTBOUND_CONTEXTS) }),
  });
  // The pop's read has two connections of its own (call-pipeline.ts, `popPool`).
  // Kept open when idle: a quiet hour must not make the next pop wait for a new connection.
  const popPool = new pg.Pool({ ...database.pool.options, max: 2, idleTimeoutMillis: 0 });
  keepConnectionLossesInside(popPool);
  // Shared with the route service (buildApp): the pipeline reads the decisions it has not stored yet.
  const traceWriter = createTraceWriter(database.pool, logger, { ...(opts.traceFlushEveryMs !== undefined && { flushEveryMs: opts.traceFlushEveryMs }) });
  const pipeline = createCallPipeline({
    pool: database.pool,
    popPool,
    tracker,
    users,
    bus,
    activePops,
    logger,
    systemName: config.PBX_SYSTEM_NAME,
    region: config.DEFAULT_REGION,
    cardUrlTemplate: config.CARD_URL_TEMPLATE,
    pendingDecisions: (linkedid) => traceWriter.pending(linkedid),
    hooks: [recordingHooks, webhooks.hooks, reminderHooks],
    onPop(latencySeconds) {
      metrics.popsSent.inc();
      metrics.popLatency.observe(latencySeconds);
    },
  });
  ami.onEvent((event) => pipeline.handle(event));
  // Every login after this instance's first is a reconnect (a PBX restart, a network cut).
  let amiLoggedIn = false;
  ami.onStatusChange((status) => {
    if (status !== 'connected') return;
    if (amiLoggedIn) {
      metrics.amiReconnects.inc();
      tracker.markLinkCut();
    }
    amiLoggedIn = true;
  });
  presence.watch(ami);

  // One consumer of the AMI stream across instances; the others take over within the TTL.
  const leader = createLeaderLock({
    redis,
    key: `${prefix}:ami-leader:${config.PBX_SYSTEM_NAME}`,
    logger,
    ttlMs: opts.leaderTtlMs ?? 10_000,
    onAcquired: () => {
      ami.start();
      return clickToCall.setLeader(true); // forwarded click-to-calls are sent from here now
    },
    onLost: async () => {
      await clickToCall.setLeader(false);
      await ami.stop();
    },
  });

  // The call rollups catch up with the queue of ended calls (migration 0023), on one instance.
  const statsFolder = createStatsFolder({ pool: database.pool, redis, logger, key: `${prefix}:stats-fold-leader`, everyMs: config.STATS_FOLD_MS, leaderTtlMs: opts.leaderTtlMs });

  metrics.observe({
    amiStatus: () => ami.status(),
    liveCalls: () => tracker.size,
    wsConnections: () => hub.size,
    queues: { webhooks: webhooks.queue, reminders: reminders.queue },
  });
  const app = await buildApp({
    settings,
    config,
    logger,
    database,
    redis,
    databaseHealth: () => ({ status: watchdog.status(), downForMs: watchdog.downForMs() }),
    metrics,
    amiStatus: () => (config.AMI_HOST === '' ? 'disabled' : leader.isLeader() ? (ami.status() === 'connected' ? 'ok' : 'down') : 'ok'),
    directory,
    traceWriter,
    realtime: { hub, activePops, bus, onConnect: [presence.onConnect, reminders.onConnect], onClientMessage: byFrameType({ 'reminder.ack': reminders.onClientMessage, 'presence.set': presence.onClientMessage }) },
    storage,
    reminderRoutes: reminders.routes,
    importRoutes: imports.routes,
    clickToCallRoutes: clickToCall.routes,
    deviceState: presence.deviceState,
    onPresenceChanged: presence.onPresenceChanged,
    onWebhooksChanged: webhooks.endpointsChanged,
    notifyWebhook: webhooks.notify,
    ...(opts.consoleDir !== undefined && { consoleDir: opts.consoleDir }),
  });

  let housekeeping: NodeJS.Timeout | null = null;
  return {
    app,
    bus,
    hub,
    pipeline,
    tracker,
    leader,
    statsFolder,
    ami,
    presence,
    clickToCall,
    metrics,
    async start() {
      leader.start();
      statsFolder.start();
      await reminders.start();
      await imports.start();
      webhooks.startWorker();
      housekeeping = setInterval(() => pipeline.housekeeping(), HOUSEKEEPING_MS);
      housekeeping.unref();
    },
    async stop() {
      if (housekeeping) clearInterval(housekeeping);
      watchdog.stop();
      await leader.stop();
      await statsFolder.stop();
      await ami.stop();
      await pipeline.drain();
      await popPool.end();
      await app.close();
      await directory.stop();
      await reminders.stop();
      await imports.close();
      await webhooks.close();
      stopUserRefresh();
      await clickToCall.close();
      await presence.close();
      await bus.close();
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}

export type Runtime = Awaited<ReturnType<typeof createRuntime>>;
