import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { masksPhonesInLists } from '../auth/access.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { readOf, type ReadRecorder } from '../auth/read-budget.js';
import type { Viewer } from '../auth/viewer.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { AppError, ErrorBody } from '../errors.js';
import { maskPhoneForList } from '../phones/mask.js';
import type { CountryCode } from '../phones/normalize.js';
import { ClientBody, ClientListBody, ClientParams, ClientSearchBody, ClientSearchQuery, ClientsQuery, CreateClientBody, PatchClientBody } from './clients.schemas.js';
import { searchClientBase } from './client-search.js';
import { createClient, deleteClient, getClient, updateClient } from './clients.service.js';
import type { Settings } from '../settings/settings.service.js';
import { contactsRoutes } from './contacts.routes.js';
import { ClientCardBody } from './contacts.schemas.js';
import { contactsOf } from './contacts.service.js';

const tags = ['clients'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

// Every read and change is written to the audit log by the service: the client base is personal data.
/** What was typed is masked too: it holds the same digits. */
const maskedPhones = <T extends { phones: Array<{ phone: string; raw: string }> }>(client: T): T => ({
  ...client,
  phones: client.phones.map((p) => ({ phone: maskPhoneForList(p.phone), raw: maskPhoneForList(p.phone) })),
});

export const clientsRoutes: FastifyPluginAsyncTypebox<{ db: Db; config: Config; settings: Pick<Settings, 'current'>; readBudget?: ReadRecorder }> = async (app, opts) => {
  const { db } = opts;
  const region = opts.config.DEFAULT_REGION as CountryCode;
  /** A page as this viewer may read it: numbers masked for managers and assistants while the director's setting says so. */
  const forViewer = async <P extends { items: Array<{ phones: Array<{ phone: string; raw: string }> }> }>(viewer: Viewer, page: P): Promise<P> =>
    masksPhonesInLists(viewer, (await opts.settings.current()).maskPhonesInLists) ? { ...page, items: page.items.map(maskedPhones) } : page;
  app.addHook('preHandler', app.requireUser);
  await app.register(contactsRoutes, { db, region, readBudget: opts.readBudget });

  app.get(
    '/',
    {
      schema: {
        tags,
        summary:
          'List the clients the viewer may see (director all, curator their department, manager own, assistant their manager\'s); `phone` in any format; keyset pages (`cursor`), no total',
        description:
          'Page with `cursor` = the `nextCursor` of the previous page, same filters and sort; `nextCursor` is null on the last page. `offset` is gone: any value is a 400 (a page by offset read every row before it).',
        querystring: ClientsQuery,
        response: { 200: ClientListBody, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => {
      const viewer = viewerOf(request);
      const { offset, ...filter } = request.query;
      // A clear answer rather than page 1 again and again for a client that still counts pages.
      if (offset !== undefined) throw new AppError('VALIDATION', 'offset: no longer supported; page with cursor (send the nextCursor of the previous page)');
      const page = await searchClientBase(db, actorOf(request), viewer, filter, region, { typos: false });
      // A page is one read: the same query and cursor again is the same page.
      await opts.readBudget?.record(viewer, readOf.page('clients', filter), request.ip);
      return forViewer(viewer, page);
    },
  );

  app.get(
    '/search',
    {
      schema: {
        tags,
        summary: 'Search the whole base the viewer may see: fragments of name, phone, e-mail, INN; filters; keyset pages (`cursor`), no total',
        querystring: ClientSearchQuery,
        response: { 200: ClientSearchBody, 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => {
      const viewer = viewerOf(request);
      const page = await searchClientBase(db, actorOf(request), viewer, request.query, region);
      // A cursor is a page of its own: paging through the base counts page by page.
      await opts.readBudget?.record(viewer, readOf.page('search', request.query), request.ip);
      return forViewer(viewer, page);
    },
  );

  app.get(
    '/:id',
    {
      schema: {
        tags,
        summary: 'A client card with its contact persons (404 when not visible to the viewer)',
        params: ClientParams,
        response: { 200: ClientCardBody, ...errors },
      },
    },
    async (request) => {
      const client = await getClient(db, actorOf(request), viewerOf(request), request.params.id);
      await opts.readBudget?.record(viewerOf(request), readOf.client(client.id), request.ip);
      return { ...client, contacts: await contactsOf(db, client.id) };
    },
  );

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: "Create a client; a manager's are their own, an assistant's belong to their manager",
        body: CreateClientBody,
        response: { 201: ClientBody, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await createClient(db, actorOf(request), viewerOf(request), request.body, region)),
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary: 'Change a visible client; `phones` replaces the list; only curators (own department) and directors reassign the owner',
        params: ClientParams,
        body: PatchClientBody,
        response: { 200: ClientBody, ...errors },
      },
    },
    async (request) => updateClient(db, actorOf(request), viewerOf(request), request.params.id, request.body, region),
  );

  app.delete(
    '/:id',
    {
      // The client base is the company's asset: nobody below a director can remove part of it.
      preHandler: app.requireRole('director'),
      schema: { tags, summary: 'Delete a client (director)', params: ClientParams, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await deleteClient(db, actorOf(request), viewerOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
