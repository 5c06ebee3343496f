import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';

export type ComponentStatus = 'ok' | 'degraded' | 'down' | 'disabled';
/** A named probe: resolves to a status; a throw or a slow answer counts as down. */
export type ReadinessProbe = () => Promise<ComponentStatus> | ComponentStatus;

const PROBE_TIMEOUT_MS = 1_000;

async function runProbe(probe: ReadinessProbe): Promise<ComponentStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<ComponentStatus>((resolve) => {
    timer = setTimeout(() => resolve('down'), PROBE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([Promise.resolve().then(probe), timeout]);
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/health` is liveness (the process answers); it names a database outage (`degraded`) but stays
 * 200, because restarting the process would not help while the embedded PostgreSQL is being
 * restarted or a short outage passes: past DATABASE_DOWN_EXIT_SECONDS the process exits by itself
 * (db/db-watchdog.ts). `/ready` says whether to send traffic: 503 when
 * PostgreSQL or Redis is down; a PBX that is down only makes it "degraded" (200), because routing
 * keeps working without AMI.
 */
export const healthRoutes: FastifyPluginAsyncTypebox<{
  probes: Record<string, { probe: ReadinessProbe; required: boolean }>;
  /** The database watchdog's view; absent: not watched. */
  database?: () => { status: 'ok' | 'down'; downForMs: number };
}> = async (
  app,
  opts,
) => {
  const HealthBody = Type.Object({
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    database: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('down')])),
    databaseDownSeconds: Type.Optional(Type.Number()),
  });
  app.get('/health', { schema: { tags: ['health'], security: [], response: { 200: HealthBody } } }, async () => {
    const database = opts.database?.();
    if (!database) return { status: 'ok' as const };
    if (database.status === 'ok') return { status: 'ok' as const, database: 'ok' as const };
    return { status: 'degraded' as const, database: 'down' as const, databaseDownSeconds: Math.round(database.downForMs / 100) / 10 };
  });

  const ReadyBody = Type.Object({
    status: Type.Union([Type.Literal('ready'), Type.Literal('degraded'), Type.Literal('unavailable')]),
    components: Type.Record(Type.String(), Type.String()),
  });
  app.get('/ready', { schema: { tags: ['health'], security: [], response: { 200: ReadyBody, 503: ReadyBody } } }, async (_request, reply) => {
    const names = Object.keys(opts.probes);
    const results = await Promise.all(names.map((name) => runProbe(opts.probes[name]!.probe)));
    const components = Object.fromEntries(names.map((name, i) => [name, results[i]!]));
    const requiredDown = names.some((name, i) => opts.probes[name]!.required && results[i] !== 'ok');
    const anyDegraded = results.some((r) => r === 'down' || r === 'degraded');
    const status = requiredDown ? 'unavailable' : anyDegraded ? 'degraded' : 'ready';
    return reply.status(requiredDown ? 503 : 200).send({ status, components });
  });
};
