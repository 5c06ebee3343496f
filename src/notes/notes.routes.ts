import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { readOf, type ReadRecorder } from '../auth/read-budget.js';
import { clientOfDeal } from '../deals/deals.service.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import { CreateNoteBody, NoteBody, NoteListBody, NoteParams, NotesQuery } from './notes.schemas.js';
import { addNote, listNotes, type NoteSubject } from './notes.service.js';

const tags = ['notes'];
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };

/** `/api/clients/:id/notes` and `/api/deals/:id/notes`: visible when the client is, else 404. */
export const notesRoutes: FastifyPluginAsyncTypebox<{ db: Db; readBudget?: ReadRecorder }> = async (app, { db, readBudget }) => {
  app.addHook('preHandler', app.requireUser);

  for (const kind of ['client', 'deal'] as const) {
    const subject = (id: number): NoteSubject => ({ kind, id });
    app.get(
      `/${kind}s/:id/notes`,
      {
        schema: {
          tags,
          summary: kind === 'client' ? "A client's notes, those on its deals included; newest first" : "A deal's notes, newest first",
          params: NoteParams,
          querystring: NotesQuery,
          response: { 200: NoteListBody, ...errors },
        },
      },
      async (request) => {
        const page = await listNotes(db, viewerOf(request), subject(request.params.id), request.query);
        // Notes are what is known about the client: a read of that client, like its card.
        const { id } = request.params;
        await readBudget?.record(viewerOf(request), kind === 'client' ? readOf.client(id) : () => clientOfDeal(db, id), request.ip);
        return page;
      },
    );
    app.post(
      `/${kind}s/:id/notes`,
      {
        schema: {
          tags,
          summary: `Add a typed note to a ${kind}; it counts as a touch (the client's lastContactAt)`,
          params: NoteParams,
          body: CreateNoteBody,
          response: { 201: NoteBody, ...errors },
        },
      },
      async (request, reply) => reply.status(201).send(await addNote(db, actorOf(request), viewerOf(request), subject(request.params.id), request.body)),
    );
  }
};
