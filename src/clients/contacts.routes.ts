import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { readOf, type ReadRecorder } from '../auth/read-budget.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import type { CountryCode } from '../phones/normalize.js';
import { ClientParams } from './clients.schemas.js';
import { ContactBody, ContactListBody, ContactParams, CreateContactBody, PatchContactBody } from './contacts.schemas.js';
import { createContact, deleteContact, listContacts, updateContact } from './contacts.service.js';

const tags = ['clients'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** /api/clients/:id/contacts; registered inside clientsRoutes, whose hook requires a user. */
export const contactsRoutes: FastifyPluginAsyncTypebox<{ db: Db; region: CountryCode; readBudget?: ReadRecorder | undefined }> = async (app, { db, region, readBudget }) => {
  app.get(
    '/:id/contacts',
    { schema: { tags, summary: "A visible client's contact persons", params: ClientParams, response: { 200: ContactListBody, ...errors } } },
    async (request) => {
      const items = await listContacts(db, actorOf(request), viewerOf(request), request.params.id);
      // Their names and numbers are the client's card too: one read of that client.
      await readBudget?.record(viewerOf(request), readOf.client(request.params.id), request.ip);
      return { items };
    },
  );

  app.post(
    '/:id/contacts',
    {
      schema: {
        tags,
        summary: "Add a contact person; a number already on the client's card is a 409",
        params: ClientParams,
        body: CreateContactBody,
        response: { 201: ContactBody, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await createContact(db, actorOf(request), viewerOf(request), request.params.id, request.body, region)),
  );

  app.patch(
    '/:id/contacts/:contactId',
    {
      schema: { tags, summary: 'Change a contact person; `phones` replaces their list', params: ContactParams, body: PatchContactBody, response: { 200: ContactBody, ...errors } },
    },
    async (request) => updateContact(db, actorOf(request), viewerOf(request), request.params.id, request.params.contactId, request.body, region),
  );

  app.delete(
    '/:id/contacts/:contactId',
    { schema: { tags, summary: 'Remove a contact person with their numbers', params: ContactParams, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await deleteContact(db, actorOf(request), viewerOf(request), request.params.id, request.params.contactId);
      return reply.status(204).send(null);
    },
  );
};
