import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { readOf, type ReadRecorder } from '../auth/read-budget.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import { Id } from '../http/schemas.js';
import { DEAL_STATUS_LABELS, DEAL_STATUSES, stageOf } from './deal-statuses.js';
import { createDealType, listDealTypes, updateDealType } from './deal-types.service.js';
import {
  CreateDealBody,
  CreateDealTypeBody,
  DealDetailBody,
  DealListBody,
  DealParams,
  DealsQuery,
  DealTypeBody,
  MoveDealBody,
  PatchDealBody,
  PatchDealTypeBody,
  PipelineBody,
} from './deals.schemas.js';
import { createDeal, getDeal, listDeals, moveDeal, updateDeal } from './deals.service.js';

const tags = ['deals'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** `/api/deals`: a deal is visible exactly when its client is (access.ts dealScope); otherwise 404. */
export const dealsRoutes: FastifyPluginAsyncTypebox<{ db: Db; readBudget?: ReadRecorder }> = async (app, { db, readBudget }) => {
  app.addHook('preHandler', app.requireUser);

  app.get(
    '/statuses',
    { schema: { tags, summary: 'The pipeline in its order, with the labels the console shows', response: { 200: PipelineBody, 401: ErrorBody } } },
    async () => DEAL_STATUSES.map((status) => ({ status, stage: stageOf(status), ...DEAL_STATUS_LABELS[status] })),
  );

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: "Deals of the clients the viewer sees, newest first; filters combine; page with `after` = the last page's nextCursor",
        querystring: DealsQuery,
        response: { 200: DealListBody, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => {
      const page = await listDeals(db, viewerOf(request), request.query);
      // Deal pages walk the base like client pages do (every deal names its client): one read a page;
      // one client's deals are that client.
      await readBudget?.record(viewerOf(request), readOf.listOf('deals', request.query), request.ip);
      return page;
    },
  );

  app.get(
    '/:id',
    { schema: { tags, summary: 'A deal with every status change (404 when its client is not visible)', params: DealParams, response: { 200: DealDetailBody, ...errors } } },
    async (request) => {
      const deal = await getDeal(db, viewerOf(request), request.params.id);
      // A deal card is a look at its client: one read however many of its deals are opened.
      await readBudget?.record(viewerOf(request), readOf.client(deal.clientId), request.ip);
      return deal;
    },
  );

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: "Open a deal on a visible client; owner defaults to the client's owner; currency to RUB",
        body: CreateDealBody,
        response: { 201: DealDetailBody, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await createDeal(db, actorOf(request), viewerOf(request), request.body)),
  );

  app.patch(
    '/:id',
    { schema: { tags, summary: 'Change a deal (not its status)', params: DealParams, body: PatchDealBody, response: { 200: DealDetailBody, ...errors } } },
    async (request) => updateDeal(db, actorOf(request), viewerOf(request), request.params.id, request.body),
  );

  app.post(
    '/:id/status',
    {
      schema: {
        tags,
        summary: 'Move a deal along the pipeline; every move is kept (409 for a completed deal or the same status)',
        params: DealParams,
        body: MoveDealBody,
        response: { 200: DealDetailBody, ...errors },
      },
    },
    async (request) => moveDeal(db, actorOf(request), viewerOf(request), request.params.id, request.body.status),
  );
};

/** `/api/deal-types`: everybody reads, the director edits. */
export const dealTypesRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  const typeTags = ['deals'];
  app.addHook('preHandler', app.requireUser);

  app.get(
    '/',
    { schema: { tags: typeTags, summary: 'Deal types with their colours, archived ones included', response: { 200: Type.Array(DealTypeBody), 401: ErrorBody } } },
    async () => listDealTypes(db),
  );

  app.post(
    '/',
    {
      preHandler: app.requireRole('director'),
      schema: { tags: typeTags, summary: 'Add a deal type (director)', body: CreateDealTypeBody, response: { 201: DealTypeBody, ...errors } },
    },
    async (request, reply) => reply.status(201).send(await createDealType(db, actorOf(request), viewerOf(request), request.body)),
  );

  app.patch(
    '/:id',
    {
      preHandler: app.requireRole('director'),
      schema: {
        tags: typeTags,
        summary: 'Rename, recolour or archive a deal type (director); types are never deleted',
        params: Type.Object({ id: Id() }),
        body: PatchDealTypeBody,
        response: { 200: DealTypeBody, ...errors },
      },
    },
    async (request) => updateDealType(db, actorOf(request), viewerOf(request), request.params.id, request.body),
  );
};
