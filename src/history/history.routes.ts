import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import { HistoryPageBody, HistoryParams, HistoryQuery } from './history.schemas.js';
import { clientHistory, dealHistory, userHistory } from './history.service.js';

const tags = ['history'];
const schema = (summary: string) => ({
  tags,
  summary,
  description:
    'Field-level changes recorded by the database itself: who (actorId, or the database user), when, through what (api, import, web_form, pbx, system, psql), old and new value per column. Secrets show only `{changed: true}`.',
  params: HistoryParams,
  querystring: HistoryQuery,
  response: { 200: HistoryPageBody, 400: ErrorBody, 401: ErrorBody, 404: ErrorBody },
});

/** Registered under /api: each route lives beside the resource it describes. */
export const historyRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.addHook('preHandler', app.requireUser);

  app.get(
    '/clients/:id/history',
    { schema: schema("A client's change history, with its phones, notes and deals (404 when the client is not visible)") },
    async (request) => clientHistory(db, actorOf(request), viewerOf(request), request.params.id, request.query),
  );
  app.get(
    '/deals/:id/history',
    { schema: schema("A deal's change history (404 when its client is not visible)") },
    async (request) => dealHistory(db, actorOf(request), viewerOf(request), request.params.id, request.query),
  );
  app.get(
    '/users/:id/history',
    { schema: schema("Changes to a user's account (404 when the user is not visible)") },
    async (request) => userHistory(db, viewerOf(request), request.params.id, request.query),
  );
};
