import { randomBytes } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { AppError, ErrorBody } from '../errors.js';
import { Id } from '../http/schemas.js';
import { WEBHOOK_EVENTS } from './webhook-payload.js';
import type { TargetPolicy } from './webhook-target.js';
import { webhookEndpoints } from './webhooks.table.js';

const EventName = Type.Union(WEBHOOK_EVENTS.map((e) => Type.Literal(e)));
const Endpoint = Type.Object({
  id: Type.Integer(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  active: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});

const view = (e: typeof webhookEndpoints.$inferSelect) => ({ id: e.id, url: e.url, events: e.events, active: e.active, createdAt: e.createdAt.toISOString() });

/** Directors register the CRM endpoints that receive call events; the secret is shown once.
 *  `changed` tells this instance's dispatcher, which caches the list (webhook-dispatcher.ts). */
export const webhooksRoutes: FastifyPluginAsyncTypebox<{ db: Db; targets: TargetPolicy; changed?: () => void }> = async (app, { db, targets, changed }) => {
  app.addHook('preHandler', app.requireRole('director'));

  app.get('/', { schema: { tags: ['webhooks'], summary: 'Registered webhook endpoints', response: { 200: Type.Array(Endpoint) } } }, async () =>
    (await db.select().from(webhookEndpoints).orderBy(webhookEndpoints.id)).map(view),
  );

  app.post(
    '/',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Register an endpoint; the answer holds the signing secret, shown only now',
        body: Type.Object({
          url: Type.String({ pattern: '^https?://', maxLength: 2000 }),
          events: Type.Array(EventName, { minItems: 1, uniqueItems: true, default: [...WEBHOOK_EVENTS] }),
        }),
        response: { 201: Type.Intersect([Endpoint, Type.Object({ secret: Type.String() })]), 400: ErrorBody },
      },
    },
    async (request, reply) => {
      let url: URL;
      try {
        url = new URL(request.body.url);
      } catch {
        throw new AppError('VALIDATION', `url "${request.body.url}" is not a URL`);
      }
      // Public addresses only, unless WEBHOOK_ALLOWED_PRIVATE_CIDRS allows a range; checked
      // again at every delivery (webhook-target.ts).
      await targets.check(url);
      const secret = `whsec_${randomBytes(24).toString('base64url')}`;
      const [row] = await db.insert(webhookEndpoints).values({ url: request.body.url, events: request.body.events, secret }).returning();
      changed?.();
      return reply.status(201).send({ ...view(row!), secret });
    },
  );

  app.delete(
    '/:id',
    { schema: { tags: ['webhooks'], summary: 'Stop delivering to an endpoint', params: Type.Object({ id: Id() }), response: { 204: Type.Null(), 404: ErrorBody } } },
    async (request, reply) => {
      const deleted = await db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, request.params.id)).returning({ id: webhookEndpoints.id });
      if (deleted.length === 0) throw new AppError('NOT_FOUND', `webhook endpoint ${request.params.id} does not exist`);
      changed?.();
      return reply.status(204).send(null);
    },
  );
};
