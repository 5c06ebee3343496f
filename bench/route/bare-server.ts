import Fastify, { type FastifyBaseLogger } from 'fastify';
import pg from 'pg';
import { createLogger } from '../../src/logger.js';

// The baseline of the route benchmark: the same Fastify, the same logger at the same level and
// the same keep-alive setting as the service, one GET route that answers a constant text/plain
// body of the size of a real route answer. It listens on `/pbx/route` so the load generator sends
// it exactly the URLs it sends the service (Fastify parses the same query string); the only
// difference left is the work the service does per request.
//
// With DATABASE_URL it also serves `/pbx/route-db`: the same constant after ONE PostgreSQL round
// trip (a named `select $1::text`, through a pg.Pool of 10 like the service's) — the ceiling of
// any route that asks the database once per request.
//
// PORT (required), HOST (default 127.0.0.1), LOG_LEVEL (default warn), DATABASE_URL (optional).

const BARE_BODY =
  'action=dial&dial=PJSIP%2F1017&timeout=20&queue=&mailbox=&step=1&reason=owner' +
  '&client_id=48213&client_name=Client%2048213&manager_id=17&call_id=tp-1712345678.104729';

const port = Number(process.env.PORT);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('bare-server: PORT is required\n');
  process.exit(78);
}

const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
const app = Fastify({ loggerInstance: logger as FastifyBaseLogger, keepAliveTimeout: 10_000 });

app.get('/pbx/route', async (_request, reply) => reply.type('text/plain; charset=utf-8').send(BARE_BODY));
app.get('/health', async () => ({ status: 'ok' }));

const pool = process.env.DATABASE_URL ? new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 }) : null;
if (pool) {
  pool.on('error', () => {});
  const ONE = { name: 'bare-round-trip', text: 'select $1::text as caller' };
  app.get('/pbx/route-db', async (request, reply) => {
    const caller = (request.query as { caller?: unknown }).caller;
    await pool.query({ ...ONE, values: [typeof caller === 'string' ? caller : ''] });
    return reply.type('text/plain; charset=utf-8').send(BARE_BODY);
  });
  app.addHook('onClose', () => pool.end());
}

await app.listen({ host: process.env.HOST ?? '127.0.0.1', port });

const shutdown = () => {
  void app.close().then(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
