import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { authPlugin } from './auth/auth.plugin.js';
import { authRoutes } from './auth/auth.routes.js';
import { clientsRoutes } from './clients/clients.routes.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { departmentsRoutes } from './departments/departments.routes.js';
import { installErrorHandler } from './errors.js';
import { healthRoutes, type ComponentStatus } from './health/health.routes.js';
import { createRouteService } from './routing/route-service.js';
import { routeTraceRoutes } from './routing/route-trace.routes.js';
import { pbxRouteRoutes } from './routing/route.routes.js';
import { createTraceWriter } from './routing/trace-writer.js';
import { usersRoutes } from './users/users.routes.js';

export interface AppDeps {
  config: Config;
  logger: Logger;
  database: Database;
  /** A fail-fast command connection (see infra/redis.ts). */
  redis: Redis;
  /** The PBX connection's state for /ready; absent until the AMI part is wired. */
  amiStatus?: () => ComponentStatus;
}

/** Builds the whole HTTP app from the feature plugins; `server.ts` starts it. */
export async function buildApp(deps: AppDeps) {
  const { config, database } = deps;
  const db = database.db;
  const app = Fastify({
    // pino's Logger and Fastify's FastifyBaseLogger differ only in typing details.
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Asterisk's CURL() sends one short GET per step; no reason to keep idle sockets forever.
    keepAliveTimeout: 10_000,
    bodyLimit: 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  installErrorHandler(app);

  // Infrastructure first, then shared plugins, then features.
  await app.register(swagger, {
    openapi: {
      info: { title: 'Switchboard', version: '0.1.0', description: 'Call-center backend for Asterisk' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(authPlugin, { db });

  const traceWriter = createTraceWriter(db, deps.logger);
  app.addHook('onClose', () => traceWriter.close());
  const routeService = createRouteService({ database, config, traceWriter, logger: deps.logger });
  await routeService.refreshDirectory();
  app.addHook('onClose', async () => routeService.close());

  await app.register(healthRoutes, {
    probes: {
      postgres: { required: true, probe: async () => (await database.pool.query('select 1'), 'ok' as const) },
      redis: { required: true, probe: async () => ((await deps.redis.ping()) === 'PONG' ? 'ok' as const : 'down' as const) },
      ami: { required: false, probe: () => deps.amiStatus?.() ?? 'disabled' },
    },
  });
  await app.register(authRoutes, { prefix: '/api/auth', db, tokenTtlHours: config.TOKEN_TTL_HOURS });
  await app.register(departmentsRoutes, { prefix: '/api/departments', db });
  await app.register(usersRoutes, { prefix: '/api/users', db, config });
  await app.register(clientsRoutes, { prefix: '/api/clients', db, config });
  await app.register(routeTraceRoutes, { prefix: '/api/calls', db });
  await app.register(pbxRouteRoutes, { prefix: '/pbx', config, routeService });

  return app;
}
