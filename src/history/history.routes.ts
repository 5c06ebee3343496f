import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { readOf, type ReadRecorder } from '../auth/read-budget.js';
import { clientOfDeal } from '../deals/deals.service.js';
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
export const historyRoutes: FastifyPluginAsyncTypebox<{ db: Db; readBudget?: ReadRecorder }> = async (app, { db, readBudget }) => {
  app.addHook('preHandler', app.requireUser);

  app.get(
    '/clients/:id/history',
    { schema: schema("A client's change history, with its phones, notes and deals (404 when the client is not visible)") },
    async (request) => {
      const page = await clientHistory(db, actorOf(request), viewerOf(request), request.params.id, request.query);
      // Old names and numbers are the client's as much as the card's: one read of that client.
      await readBudget?.record(viewerOf(request), readOf.client(request.params.id), request.ip);
      return page;
    },
  );
  app.get(
    '/deals/:id/history',
    { schema: schema("A deal's change history (404 when its client is not visible)") },
    async (request) => {
      const page = await dealHistory(db, actorOf(request), viewerOf(request), request.params.id, request.query);
      await readBudget?.record(viewerOf(request), () => clientOfDeal(db, request.params.id), request.ip);
      return page;
    },
  );
  app.get(
    '/users/:id/history',
    { schema: schema("Changes to a user's account (404 when the user is not visible)") },
    async (request) => userHistory(db, viewerOf(request), request.params.id, request.query),
  );
};
