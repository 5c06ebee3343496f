import type { Readable } from 'node:stream';
import { Type, TypeBoxValidatorCompiler, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { type ReadRecorder } from '../auth/read-budget.js';
import { AppError, ErrorBody } from '../errors.js';
import { Id } from '../http/schemas.js';
import { contentDisposition, mediaTypeOf } from './deal-file-rules.js';
import { clientOfDeal } from './deals.service.js';
import { deleteDealFile, listDealFiles, openDealFile, uploadDealFile, type DealFileDeps } from './deal-files.service.js';

const tags = ['deals'];
const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));
const FileBody = Type.Object(
  { id: Type.Integer(), dealId: Type.Integer(), fileName: Type.String(), contentType: Type.String(), size: Type.Integer(), uploadedById: Type.Union([Type.Integer(), Type.Null()]), createdAt: Timestamp },
  { examples: [{ id: 3, dealId: 7, fileName: 'Договор.pdf', contentType: 'application/pdf', size: 48213, uploadedById: 3, createdAt: '2026-11-03T11:00:00.000Z' }] },
);
const DealParams = Type.Object({ id: Id() });
const FileParams = Type.Object({ id: Id(), fileId: Id() });
const errors = { 401: ErrorBody, 404: ErrorBody };

/**
 * `/api/deals/:id/files`, in a scope of its own: here every body is a raw stream (the file as
 * it is, with its own Content-Type), which must not leak into the JSON routes of /api/deals.
 */
export const dealFilesRoutes: FastifyPluginAsyncTypebox<DealFileDeps & { readBudget?: ReadRecorder }> = async (app, deps) => {
  app.removeAllContentTypeParsers();
  // A parser without parseAs is exempt from bodyLimit: the storage's limiter enforces maxBytes.
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  app.addHook('preHandler', app.requireUser);

  app.post(
    '/:id/files',
    {
      schema: {
        tags,
        summary: 'Attach a file to a visible deal: the raw bytes as the body, with the file\'s Content-Type',
        description: `Allowed types and the size limit are DEAL_FILES_TYPES and DEAL_FILES_MAX_BYTES. Example: \`curl -X POST --data-binary @offer.pdf -H 'Content-Type: application/pdf' '/api/deals/7/files?name=offer.pdf'\``,
        consumes: [...deps.allowedTypes],
        params: DealParams,
        querystring: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 255, description: 'the file name to keep and to offer on download' })) }),
        body: Type.Unsafe<Readable>({ type: 'string', format: 'binary' }),
        response: { 201: FileBody, 400: ErrorBody, ...errors, 413: ErrorBody, 415: ErrorBody },
      },
      // The body is a stream passed through to storage: only the path and query are checked.
      validatorCompiler: (route) => (route.httpPart === 'body' ? () => true : TypeBoxValidatorCompiler(route as unknown as Parameters<typeof TypeBoxValidatorCompiler>[0])),
      // Refused before a byte is read: a type outside the list, or a declared length over the limit.
      preParsing: async (request, reply) => {
        if (!deps.allowedTypes.has(mediaTypeOf(request.headers['content-type']))) {
          reply.header('connection', 'close');
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', `files of this type are not accepted; allowed: ${[...deps.allowedTypes].join(', ')}`);
        }
        if (Number(request.headers['content-length']) > deps.maxBytes) {
          reply.header('connection', 'close');
          throw new AppError('PAYLOAD_TOO_LARGE', `a file may be at most ${deps.maxBytes} bytes`);
        }
      },
    },
    async (request, reply) => {
      try {
        const file = await uploadDealFile(deps, actorOf(request), viewerOf(request), request.params.id, {
          fileName: request.query.name,
          contentType: mediaTypeOf(request.headers['content-type']),
          body: request.body as Readable,
        });
        return reply.status(201).send(file);
      } catch (error) {
        // The client may still be sending; closing is cheaper than reading the rest to discard it.
        reply.header('connection', 'close');
        throw error;
      }
    },
  );

  app.get(
    '/:id/files',
    { schema: { tags, summary: "A deal's files, oldest first", params: DealParams, response: { 200: Type.Array(FileBody), ...errors } } },
    async (request) => {
      const files = await listDealFiles(deps.db, viewerOf(request), request.params.id);
      // Contracts and scans are the client's papers: a read of the deal's client, like its card.
      await deps.readBudget?.record(viewerOf(request), () => clientOfDeal(deps.db, request.params.id), request.ip);
      return files;
    },
  );

  app.get(
    '/:id/files/:fileId',
    {
      schema: {
        tags,
        summary: 'Download a file (streamed); every download is written to the audit log',
        description: 'For a plain link, which cannot send headers, pass the bearer token as `?token=`.',
        params: FileParams,
        querystring: Type.Object({ token: Type.Optional(Type.String()) }),
        response: { 200: { description: 'the file as uploaded', content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } } }, ...errors },
      },
    },
    async (request, reply) => {
      const { file, body } = await openDealFile(deps, actorOf(request), viewerOf(request), request.params.id, request.params.fileId);
      try {
        await deps.readBudget?.record(viewerOf(request), () => clientOfDeal(deps.db, request.params.id), request.ip);
      } catch (error) {
        body.destroy();
        throw error;
      }
      return reply
        .type(file.contentType)
        .header('content-length', String(file.size))
        .header('content-disposition', contentDisposition(file.fileName))
        .header('cache-control', 'private, no-store')
        // Uploaded by a user: a browser must never guess the bytes are something else (HTML).
        .header('x-content-type-options', 'nosniff')
        .send(body);
    },
  );

  app.delete(
    '/:id/files/:fileId',
    { schema: { tags, summary: 'Remove a file from a visible deal', params: FileParams, response: { 204: Type.Null(), ...errors } } },
    async (request, reply) => {
      await deleteDealFile(deps, actorOf(request), viewerOf(request), request.params.id, request.params.fileId);
      return reply.status(204).send(null);
    },
  );
};
