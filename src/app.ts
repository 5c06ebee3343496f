import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { authPlugin } from './auth/auth.plugin.js';
import { authRoutes } from './auth/auth.routes.js';
import { createPbxSignature } from './auth/pbx-signature.js';
import { createSignInLimit } from './auth/sign-in-limit.js';
import { createVerifyGate } from './auth/verify-gate.js';
import { endSessionsOn } from './auth/end-sessions.js';
import { createReadBudget, type ReadBudgetDeps, type ReadRecorder } from './auth/read-budget.js';
import { DIST_DIR } from './console/console-build.js';
import { consoleFallback, consoleRoutes } from './console/console.routes.js';
import { clientListsRoutes } from './clients/client-lists.routes.js';
import { clientsRoutes } from './clients/clients.routes.js';
import { trustProxy, type Config } from './config.js';
import type { Database } from './db/client.js';
import type { CountryCode } from './phones/normalize.js';
import { createDealFileStorage } from './deals/deal-file-storage.js';
import { parseAllowedTypes } from './deals/deal-file-rules.js';
import { dealFilesRoutes } from './deals/deal-files.routes.js';
import { dealsRoutes, dealTypesRoutes } from './deals/deals.routes.js';
import { departmentsRoutes } from './departments/departments.routes.js';
import { frameworkErrors, installErrorHandler, schemaErrorFormatter } from './errors.js';
import { clientErrorHandler, createMethodTable } from './http/methods.js';
import { documentCommonErrors } from './http/openapi-defaults.js';
import { refuseNul } from './http/text-guard.js';
import { serverWithFrontDoor, type FrontDoor } from './http/server-factory.js';
import { historyRoutes } from './history/history.routes.js';
import { exportRoutes } from './import/export.routes.js';
import { intakeLeadsRoutes, intakeSitesRoutes } from './intake/intake-admin.routes.js';
import { leadIntakeRoutes } from './intake/lead-intake.routes.js';
import { createLeadRateLimit } from './intake/lead-rate-limit.js';
import { auditRoutes } from './audit/audit.routes.js';
import { healthRoutes, type ComponentStatus } from './health/health.routes.js';
import { createDirectorySync, heartbeatMsFor, type DirectorySync } from './routing/directory/directory-sync.js';
import { waitForOwnWrites } from './routing/directory/read-your-writes.js';
import { createRouteService } from './routing/route-service.js';
import { routeTraceRoutes } from './routing/route-trace.routes.js';
import { pbxRouteRoutes } from './routing/route.routes.js';
import { createRouteFastPath } from './routing/route-fast-path.js';
import type { DeviceState } from './routing/types.js';
import { createTraceWriter, type TraceWriter } from './routing/trace-writer.js';
import { callsRoutes } from './calls/calls.routes.js';
import type { EventBus } from './events/event-bus.js';
import { callRecordingRoutes, pbxRecordingsRoutes } from './recordings/recordings.routes.js';
import type { RecordingStorage } from './recordings/storage.js';
import type { ActivePops } from './screenpop/active-pops.js';
import type { WsHub } from './screenpop/ws-hub.js';
import { MAX_CLIENT_FRAME_BYTES } from './screenpop/ws-limits.js';
import { wsRoutes, type ClientMessageHandler, type ConnectHook } from './screenpop/ws.routes.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { metricsRoutes } from './metrics/metrics.routes.js';
import { notesRoutes } from './notes/notes.routes.js';
import { reviewRoutes } from './review/review.routes.js';
import { statsRoutes } from './stats/stats.routes.js';
import { usersRoutes } from './users/users.routes.js';
import type { Presence } from './users/users.table.js';
import { createSettings, type Settings } from './settings/settings.service.js';
import { settingsRoutes } from './settings/settings.routes.js';
import { webhooksRoutes } from './webhooks/webhooks.routes.js';
import { createTargetPolicy } from './webhooks/webhook-target.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  database: Database;
  /** A fail-fast command connection (see infra/redis.ts). */
  redis: Redis;
  /** The database watchdog's view for /health (src/db/db-watchdog.ts). */
  databaseHealth?: () => { status: 'ok' | 'down'; downForMs: number };
  /** The PBX connection's state for /ready. */
  amiStatus?: () => ComponentStatus;
  /** Screen-pops and other live frames: present in a full runtime (src/runtime.ts). */
  realtime?: {
    hub: WsHub;
    activePops: ActivePops;
    bus: EventBus;
    onConnect: ConnectHook[];
    onClientMessage?: ClientMessageHandler;
  };
  storage?: RecordingStorage;
  /** The director's settings (src/settings/); shared with click-to-call in a full runtime, the app's own otherwise. */
  settings?: Settings;
  /** Where files attached to deals live; by default beside the recordings (deal-file-storage.ts). */
  dealFiles?: RecordingStorage;
  /** /api/reminders; given the read budget, which counts the lists it pages. */
  reminderRoutes?: FastifyPluginAsyncTypebox<{ readBudget?: ReadRecorder | undefined }>;
  /** /api/import: client import with its BullMQ job (src/import/import.module.ts). */
  importRoutes?: FastifyPluginAsyncTypebox;
  /** Events that are not about a call, to the webhooks (src/webhooks/webhook-dispatcher.ts `notify`). */
  notifyWebhook?: ReadBudgetDeps['notify'];
  /** POST /api/calls/originate and GET /c2c (src/clicktocall), registered at the root. */
  clickToCallRoutes?: FastifyPluginAsyncTypebox;
  /** A user's phone state from the PBX (src/presence/device-states.ts), for routing. */
  deviceState?: (extension: string) => DeviceState | undefined;
  /**
   * The in-memory routing facts (src/routing/directory/), when the caller runs them (the runtime
   * shares them with presence); started and stopped by that caller. Otherwise the app has its own.
   */
  directory?: DirectorySync;
  /** The runtime's, so the call pipeline sees decisions not yet stored; else the app's own. */
  traceWriter?: TraceWriter;
  /** After the webhook endpoints changed through this app: the dispatcher reads them again. */
  onWebhooksChanged?: () => void;
  /** The routing trace's batching delay (trace-writer.ts); tests move it around the PBX's first events. */
  traceFlushEveryMs?: number;
  /** Prometheus metrics of this instance (src/metrics); the app makes its own when absent. */
  metrics?: Metrics;
  /** After PUT /api/users/:id/presence: tells the screens (presence.changed). */
  onPresenceChanged?: (user: { id: number; departmentId: number | null; extension: string | null; presence: Presence }) => void;
  /** The built web console served at `/` (src/console/); web/dist by default, null: none. */
  consoleDir?: string | null;
}

/** A routing directory for this app alone, stopped when the app closes. */
async function ownDirectory(app: { addHook(name: 'onClose', hook: () => Promise<void>): unknown }, database: Database, logger: Logger, config: Config): Promise<DirectorySync> {
  const directory = createDirectorySync({ connection: database.pool.options, logger, heartbeatMs: heartbeatMsFor(config) });
  await directory.start();
  app.addHook('onClose', () => directory.stop());
  return directory;
}

/** Builds the whole HTTP app from the feature plugins; `server.ts` starts it. */
export async function buildApp(deps: AppDeps) {
  const { config, database } = deps;
  const db = database.db;
  const settings = deps.settings ?? createSettings(db, config);
  const methods = createMethodTable();
  // Set below, once the route service exists: /pbx/route's answer before Fastify (route-fast-path.ts).
  let frontDoor: FrontDoor | null = null;
  const app = Fastify({
    serverFactory: serverWithFrontDoor(() => frontDoor),
    // pino's Logger and Fastify's FastifyBaseLogger differ only in typing details.
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Asterisk's CURL() sends one short GET per step; no reason to keep idle sockets forever.
    keepAliveTimeout: 10_000,
    // Behind a load balancer the sign-in limit needs the client's address, not the balancer's.
    trustProxy: trustProxy(config),
    bodyLimit: 1024 * 1024,
    // The API documents ids and Linkedids of up to 128 characters; Fastify's default (100) turned
    // a valid 101-character one into a 414 before validation. Longer ones: frameworkErrors, 400.
    routerOptions: { maxParamLength: 256 },
    frameworkErrors,
    clientErrorHandler: clientErrorHandler(methods),
    schemaErrorFormatter,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const consoleDir = deps.consoleDir === undefined ? DIST_DIR : deps.consoleDir;
  installErrorHandler(app, methods, (consoleDir && consoleFallback(consoleDir)) || undefined);
  app.addHook('onRoute', methods.add);
  app.addHook('onRoute', documentCommonErrors);
  app.addHook('preValidation', refuseNul);

  // Infrastructure first, then shared plugins, then features.
  await app.register(swagger, {
    openapi: {
      info: { title: 'Switchboard', version: '0.1.0', description: 'Call-center backend for Asterisk' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          metricsToken: { type: 'http', scheme: 'bearer', description: 'METRICS_TOKEN; or an address in METRICS_ALLOWED_IPS' },
          pbxToken: { type: 'apiKey', in: 'header', name: 'X-Switchboard-Token', description: 'PBX_TOKEN (or `?token=`); PBX_ALLOWED_IPS may also apply' },
          intakeKey: { type: 'apiKey', in: 'query', name: 'key', description: "a website's key from POST /api/intake/sites (or the X-Intake-Key header)" },
        },
      },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(authPlugin, { db });

  const traceWriter = deps.traceWriter ?? createTraceWriter(database.pool, deps.logger, { ...(deps.traceFlushEveryMs !== undefined && { flushEveryMs: deps.traceFlushEveryMs }) });
  app.addHook('onClose', () => traceWriter.close());
  const directory = deps.directory ?? (await ownDirectory(app, database, deps.logger, config));
  const metrics = deps.metrics ?? createMetrics();
  metrics.observe({ pool: database.pool });
  const routeService = createRouteService({ directory, config, traceWriter, logger: deps.logger, deviceState: deps.deviceState, metrics });

  await app.register(healthRoutes, {
    ...(deps.databaseHealth && { database: deps.databaseHealth }),
    probes: {
      postgres: { required: true, probe: async () => (await database.pool.query('select 1'), 'ok' as const) },
      redis: { required: true, probe: async () => ((await deps.redis.ping()) === 'PONG' ? 'ok' as const : 'down' as const) },
      // Without its directory this instance answers every call with the department line.
      routing: { required: true, probe: () => (directory.ready ? 'ok' as const : 'down' as const) },
      ami: { required: false, probe: () => deps.amiStatus?.() ?? 'disabled' },
    },
  });
  await app.register(metricsRoutes, { metrics, config });
  await app.register(authRoutes, {
    prefix: '/api/auth',
    db,
    tokenTtlHours: config.TOKEN_TTL_HOURS,
    signInLimit: createSignInLimit({
      redis: deps.redis,
      prefix: config.REDIS_PREFIX,
      limits: { perAddress: config.SIGNIN_ADDRESS_MAX_FAILURES, perAccount: config.SIGNIN_ACCOUNT_MAX_FAILURES },
      logger: deps.logger,
    }),
    verifyGate: createVerifyGate(config.SIGNIN_CONCURRENCY, 16),
  });
  // Counts what each person reads of the client base, through every route that shows it.
  const readBudget = createReadBudget({
    db,
    settings,
    redis: deps.redis,
    config,
    logger: deps.logger,
    bus: deps.realtime?.bus,
    notify: deps.notifyWebhook,
    endSessions: deps.realtime ? endSessionsOn(deps.realtime.bus) : undefined,
  });
  // The writes that change routing facts answer once this instance's directory has them.
  await app.register(async (routingFacts) => {
    routingFacts.addHook('onSend', waitForOwnWrites(directory));
    await routingFacts.register(departmentsRoutes, { prefix: '/api/departments', db, config });
    await routingFacts.register(usersRoutes, {
      prefix: '/api/users',
      db,
      config,
      onPresenceChanged: deps.onPresenceChanged,
      onSessionsEnded: deps.realtime ? endSessionsOn(deps.realtime.bus) : undefined,
    });
    await routingFacts.register(clientsRoutes, { prefix: '/api/clients', db, config, settings, readBudget });
  });
  await app.register(clientListsRoutes, { prefix: '/api/client-lists', db });
  await app.register(dealsRoutes, { prefix: '/api/deals', db, readBudget });
  await app.register(dealFilesRoutes, {
    prefix: '/api/deals',
    db,
    storage: deps.dealFiles ?? createDealFileStorage(config),
    maxBytes: config.DEAL_FILES_MAX_BYTES,
    allowedTypes: parseAllowedTypes(config.DEAL_FILES_TYPES),
    readBudget,
  });
  await app.register(dealTypesRoutes, { prefix: '/api/deal-types', db });
  await app.register(notesRoutes, { prefix: '/api', db, readBudget });
  await app.register(historyRoutes, { prefix: '/api', db, readBudget });
  await app.register(auditRoutes, { prefix: '/api/audit', db });
  await app.register(settingsRoutes, { prefix: '/api/settings', settings });
  const bus = deps.realtime?.bus;
  await app.register(leadIntakeRoutes, {
    prefix: '/api/intake',
    db,
    region: config.DEFAULT_REGION as CountryCode,
    rateLimit: createLeadRateLimit({ redis: deps.redis, prefix: config.REDIS_PREFIX, perMinute: config.INTAKE_LEADS_PER_MINUTE, logger: deps.logger }),
    ...(bus && { bus }),
  });
  await app.register(intakeSitesRoutes, { prefix: '/api/intake/sites', db });
  await app.register(intakeLeadsRoutes, { prefix: '/api/intake', db, ...(bus && { bus }) });
  await app.register(reviewRoutes, { prefix: '/api', db, readBudget, ...(bus && { bus }) });
  await app.register(statsRoutes, { prefix: '/api/stats', db, callbackHours: config.STATS_CALLBACK_HOURS });
  await app.register(routeTraceRoutes, { prefix: '/api/calls', db, traceWriter });
  await app.register(callsRoutes, { prefix: '/api/calls', db, config, settings, readBudget });
  await app.register(webhooksRoutes, { prefix: '/api/webhooks', db, targets: createTargetPolicy(config.WEBHOOK_ALLOWED_PRIVATE_CIDRS), ...(deps.onWebhooksChanged && { changed: deps.onWebhooksChanged }) });
  const pbxSignature = config.PBX_HMAC_SECRET ? createPbxSignature({ secret: config.PBX_HMAC_SECRET, redis: deps.redis, prefix: config.REDIS_PREFIX, logger: deps.logger }) : undefined;
  await app.register(pbxRouteRoutes, { prefix: '/pbx', config, routeService, pbxSignature });
  frontDoor = createRouteFastPath(config, routeService, { signed: pbxSignature !== undefined });
  if (deps.storage) {
    await app.register(pbxRecordingsRoutes, { prefix: '/pbx', db, config, storage: deps.storage, pbxSignature });
    await app.register(callRecordingRoutes, { prefix: '/api/calls', db, config, storage: deps.storage, readBudget });
  }
  if (deps.reminderRoutes) await app.register(deps.reminderRoutes, { prefix: '/api/reminders', readBudget });
  if (deps.importRoutes) await app.register(deps.importRoutes, { prefix: '/api/import' });
  await app.register(exportRoutes, { prefix: '/api/export', db, utcOffset: config.IMPORT_UTC_OFFSET });
  if (deps.clickToCallRoutes) await app.register(deps.clickToCallRoutes);
  if (consoleDir) await app.register(consoleRoutes, { distDir: consoleDir });
  if (deps.realtime) {
    const { hub, activePops, onConnect, onClientMessage } = deps.realtime;
    // In a scope of its own: @fastify/websocket adds an onRequest and an onResponse hook to every
    // route of the scope it is registered in, and /pbx/route is asked on every ring.
    await app.register(async (realtime) => {
      // Past maxPayload ws closes the socket with 1009 before buffering the frame (ws-limits.ts).
      await realtime.register(websocket, {
        options: { maxPayload: MAX_CLIENT_FRAME_BYTES },
        // The plugin's own preClose closes every socket without a code (the browser sees 1005,
        // "no status"), before our onClose could send 1001; 1001 tells the console to reconnect.
        async preClose(this: FastifyInstance) {
          for (const client of this.websocketServer.clients) client.close(1001, 'server shutting down');
          this.websocketServer.close();
        },
      });
      await realtime.register(wsRoutes, { hub, activePops, onConnect, ...(onClientMessage && { onClientMessage }) });
    });
  }

  return app;
}
