import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import { Id } from '../http/schemas.js';
import { createEntry, deleteEntry, listEntries, renameEntry } from './client-lists.service.js';
import { CLIENT_LIST_KINDS } from './clients.table.js';

const tags = ['clients'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const Kind = Type.Unsafe<(typeof CLIENT_LIST_KINDS)[number]>(Type.String({ enum: [...CLIENT_LIST_KINDS], description: 'segment (industry) or source' }));
const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const EntryBody = Type.Object(
  { id: Type.Integer(), kind: Kind, name: Type.String() },
  { examples: [{ id: 2, kind: 'source', name: 'call' }] },
);
const EntryParams = Type.Object({ id: Id() });

/** /api/client-lists: every user reads; only a director changes (the lists are company-wide). */
export const clientListsRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.get(
    '/',
    {
      preHandler: app.requireUser,
      schema: {
        tags,
        summary: 'The entries a client\'s segment and source are chosen from',
        querystring: Type.Object({ kind: Type.Optional(Kind) }),
        response: { 200: Type.Object({ items: Type.Array(EntryBody) }), 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => ({ items: await listEntries(db, request.query.kind) }),
  );

  app.post(
    '/',
    {
      preHandler: app.requireRole('director'),
      schema: {
        tags,
        summary: 'Add an entry (director); a name already in the list is a 409',
        body: Type.Object({ kind: Kind, name: Name }, { additionalProperties: false, examples: [{ kind: 'segment', name: 'Construction' }] }),
        response: { 201: EntryBody, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await createEntry(db, actorOf(request), request.body)),
  );

  app.patch(
    '/:id',
    {
      preHandler: app.requireRole('director'),
      schema: {
        tags,
        summary: 'Rename an entry (director); every client carrying it shows the new name',
        params: EntryParams,
        body: Type.Object({ name: Name }, { additionalProperties: false, examples: [{ name: 'Building materials' }] }),
        response: { 200: EntryBody, ...errors },
      },
    },
    async (request) => renameEntry(db, actorOf(request), request.params.id, request.body.name),
  );

  app.delete(
    '/:id',
    {
      preHandler: app.requireRole('director'),
      schema: { tags, summary: 'Delete an entry no client carries (director); 409 when in use', params: EntryParams, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await deleteEntry(db, actorOf(request), request.params.id);
      return reply.status(204).send(null);
    },
  );
};
