import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import {
  AssignLeadBody,
  CreatedSiteBody,
  CreateSiteBody,
  LeadParams,
  LeadView,
  PatchSiteBody,
  SiteBody,
  SiteParams,
  UnassignedCountsBody,
  WaitingLeadsQuery,
} from './intake.schemas.js';
import { dealAssigned, leadAssigned } from './lead-frames.js';
import { assignLead, listWaitingLeads, unassignedCounts } from './leads.service.js';
import { createSite, deleteSite, listSites, rotateSiteKey, updateSite } from './sites.service.js';

const tags = ['intake'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** `/api/intake/sites`: the director's list of websites allowed to post leads; a key is shown once. */
export const intakeSitesRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.addHook('preHandler', app.requireRole('director'));

  app.get('/', { schema: { tags, summary: 'Sites that post leads (director); keys are never shown again', response: { 200: Type.Array(SiteBody), 401: ErrorBody, 403: ErrorBody } } }, async () =>
    listSites(db),
  );

  app.post(
    '/',
    { schema: { tags, summary: "Add a site (director); the answer holds its key, shown only now", body: CreateSiteBody, response: { 201: CreatedSiteBody, ...errors } } },
    async (request, reply) => reply.status(201).send(await createSite(db, actorOf(request), request.body)),
  );

  app.patch(
    '/:id',
    { schema: { tags, summary: 'Rename a site, move it to another department, change its origin, or disable its key (director)', params: SiteParams, body: PatchSiteBody, response: { 200: SiteBody, ...errors } } },
    async (request) => updateSite(db, actorOf(request), request.params.id, request.body),
  );

  app.post(
    '/:id/key',
    {
      schema: {
        tags,
        summary: "Replace a site's key (director): the old key stops at once; the answer holds the new one, shown only now",
        params: SiteParams,
        response: { 200: CreatedSiteBody, ...errors },
      },
    },
    async (request) => rotateSiteKey(db, actorOf(request), request.params.id),
  );

  app.delete(
    '/:id',
    { schema: { tags, summary: 'Remove a site that brought no leads (director); 409 otherwise: disable it', params: SiteParams, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await deleteSite(db, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};

/** `/api/intake`: the waiting leads, for the curators of their department and the directors (access.ts leadScope). */
export const intakeLeadsRoutes: FastifyPluginAsyncTypebox<{ db: Db; bus?: EventBus }> = async (app, { db, bus }) => {
  app.addHook('preHandler', app.requireUser);

  app.get(
    '/unassigned',
    { schema: { tags, summary: "Waiting leads per department: a curator's own, every department for a director", response: { 200: UnassignedCountsBody, 401: ErrorBody } } },
    async (request) => unassignedCounts(db, viewerOf(request)),
  );

  app.get(
    '/leads',
    {
      schema: {
        tags,
        summary: 'Waiting leads the viewer may assign, longest waiting first (at most 500)',
        querystring: WaitingLeadsQuery,
        response: { 200: Type.Array(LeadView), 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => listWaitingLeads(db, viewerOf(request), request.query.departmentId),
  );

  app.post(
    '/leads/:id/assign',
    {
      schema: {
        tags,
        summary: 'Give a waiting lead to a manager: a new client and deal of theirs; they get deal.assigned on every screen',
        description: 'A curator assigns their department\'s leads to its people; a director any lead to anybody. 409 when the lead is assigned already.',
        params: LeadParams,
        body: AssignLeadBody,
        response: { 200: LeadView, ...errors },
      },
    },
    async (request) => {
      const { lead, deal } = await assignLead(db, actorOf(request), viewerOf(request), request.params.id, request.body.userId);
      // Once, after the commit: the bus reaches the other instances' sockets through Redis.
      bus?.publish(...dealAssigned(deal, lead));
      bus?.publish(...leadAssigned(lead));
      return lead;
    },
  );
};
