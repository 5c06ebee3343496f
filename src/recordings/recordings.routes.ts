import type { Readable } from 'node:stream';
import { Type, TypeBoxValidatorCompiler, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { pbxGuard } from '../auth/pbx-guard.js';
import type { PbxSignature } from '../auth/pbx-signature.js';
import { readOf, type ReadRecorder } from '../auth/read-budget.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { AppError, ErrorBody } from '../errors.js';
import { contentRange, parseRange, unsatisfiedRange } from './range.js';
import {
  findListenable,
  isAcceptedUploadType,
  mediaTypeOf,
  recordListen,
  storeUpload,
  UNIQUEID_PATTERN,
  type RecordingDeps,
} from './recordings.service.js';
import { AUDIO_FORMATS, type RecordingStorage } from './storage.js';

export interface RecordingsPluginOptions {
  db: Db;
  config: Config;
  storage: RecordingStorage;
  /** The PBX_HMAC_SECRET check of /pbx/* (auth/pbx-signature.ts), when configured. */
  pbxSignature?: PbxSignature;
  readBudget?: ReadRecorder;
}

const depsOf = (opts: RecordingsPluginOptions): RecordingDeps => ({ db: opts.db, config: opts.config, storage: opts.storage });
const tags = ['recordings'];

/** `PUT /pbx/recordings/:uniqueid`: the PBX pushes a finished MixMonitor file (PBX token). */
export const pbxRecordingsRoutes: FastifyPluginAsyncTypebox<RecordingsPluginOptions> = async (app, opts) => {
  const deps = depsOf(opts);
  app.addHook('onRequest', pbxGuard(opts.config, opts.pbxSignature));
  // The body stays a stream all the way into storage: a recording can be far larger than the
  // app's bodyLimit, and a custom parser without parseAs is exempt from it.
  app.addContentTypeParser(/^audio\//, (_request, payload, done) => done(null, payload));
  app.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));

  app.put(
    '/recordings/:uniqueid',
    {
      schema: {
        tags,
        summary: 'Store the recording of a channel (MixMonitor post-command); a repeated upload replaces it',
        security: [{ pbxToken: [] }],
        consumes: [...new Set(Object.values(AUDIO_FORMATS)), 'application/octet-stream'],
        params: Type.Object({ uniqueid: Type.String({ pattern: UNIQUEID_PATTERN, description: '${UNIQUEID} of the recorded channel' }) }),
        // Documented for the OpenAPI reader; the stream itself is never validated (see below).
        body: Type.Unsafe<Readable>({ type: 'string', format: 'binary', description: 'the audio file, as MixMonitor wrote it' }),
        querystring: Type.Object({ token: Type.Optional(Type.String({ description: 'PBX_TOKEN, when X-Switchboard-Token cannot be sent' })) }),
        response: {
          201: Type.Object({ uniqueid: Type.String(), size: Type.Integer(), contentType: Type.String() }),
          400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 413: ErrorBody, 415: ErrorBody,
        },
      },
      // The body is a stream passed through to storage: only the path and query are checked.
      validatorCompiler: (route) => (route.httpPart === 'body' ? () => true : TypeBoxValidatorCompiler(route as unknown as Parameters<typeof TypeBoxValidatorCompiler>[0])),
      // Before any parser reads a byte: a JSON or form body is refused, not parsed, and a declared
      // length over the limit is refused before it is sent.
      preParsing: async (request, reply) => {
        const length = Number(request.headers['content-length']);
        if (!isAcceptedUploadType(mediaTypeOf(request.headers['content-type']))) {
          reply.header('connection', 'close');
          throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'send the recording as audio/* or application/octet-stream');
        }
        if (length > opts.config.RECORDINGS_MAX_BYTES) {
          reply.header('connection', 'close');
          throw new AppError('PAYLOAD_TOO_LARGE', `a recording may be at most ${opts.config.RECORDINGS_MAX_BYTES} bytes`);
        }
      },
    },
    async (request, reply) => {
      try {
        const stored = await storeUpload(deps, {
          uniqueid: request.params.uniqueid,
          contentType: request.headers['content-type'],
          body: request.body as Readable,
        });
        return reply.status(201).send(stored);
      } catch (error) {
        // The client may still be sending; closing is cheaper than reading the rest to discard it.
        reply.header('connection', 'close');
        throw error;
      }
    },
  );
};

const audio = {
  description: 'The recording (the whole file, or the requested byte range with 206)',
  content: Object.fromEntries([...new Set(Object.values(AUDIO_FORMATS))].map((type) => [type, { schema: Type.String({ format: 'binary' }) }])),
};

/** `GET|HEAD /api/calls/:id/recording`: stream a call's recording to a user who may hear it. */
export const callRecordingRoutes: FastifyPluginAsyncTypebox<RecordingsPluginOptions> = async (app, opts) => {
  const deps = depsOf(opts);

  app.route({
    // HEAD is what an <audio> element may probe with; it gets the headers and writes no history.
    method: ['GET', 'HEAD'],
    url: '/:id/recording',
    preHandler: app.requireUser,
    schema: {
      tags,
      summary: 'Listen to a call (HTTP Range supported); every listen is written to the audit log',
      description: 'For <audio src>, which cannot send headers, pass the bearer token as `?token=`.',
      params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128, description: 'call id, or the Linkedid' }) }),
      querystring: Type.Object({ token: Type.Optional(Type.String({ description: 'bearer token, for <audio src>' })) }),
      response: { 200: audio, 206: audio, 401: ErrorBody, 404: ErrorBody, 416: ErrorBody },
    },
    handler: async (request, reply) => {
      const found = await findListenable(deps, viewerOf(request), request.params.id);
      const { size } = found;
      reply.header('accept-ranges', 'bytes').header('cache-control', 'private, no-store');
      // We send no validators (ETag, Last-Modified), so an If-Range can never match: whole file.
      const range = request.headers['if-range'] === undefined ? parseRange(request.headers.range, size) : { kind: 'full' as const };
      if (range.kind === 'unsatisfiable') {
        reply.header('content-range', unsatisfiedRange(size));
        throw new AppError('RANGE_NOT_SATISFIABLE', `the recording has ${size} bytes`);
      }
      const part = range.kind === 'partial' ? { start: range.start, end: range.end } : undefined;

      let body: Readable | undefined;
      if (request.method === 'GET') {
        // Opened before the history row (a vanished file is no listen), sent only after it (no
        // audio ever leaves without its row).
        body = await opts.storage.get(found.recording.storageKey, part);
        try {
          await recordListen(opts.db, actorOf(request), found, request.headers.range ?? null);
          // A client's voice is a look at that client; the player's many range requests count once.
          if (found.call.clientId !== null) await opts.readBudget?.record(viewerOf(request), readOf.client(found.call.clientId), request.ip);
        } catch (error) {
          body.destroy();
          throw error;
        }
      }
      // Headers only now: an error above must still go out as JSON with its own length.
      const ext = found.recording.storageKey.slice(found.recording.storageKey.lastIndexOf('.'));
      reply
        .status(part ? 206 : 200)
        .type(found.contentType)
        .header('content-length', String(part ? part.end - part.start + 1 : size))
        .header('content-disposition', `inline; filename="call-${found.call.id}${ext}"`)
        // The bytes came from a PBX upload: never let a browser guess they are something else.
        .header('x-content-type-options', 'nosniff');
      if (part) reply.header('content-range', contentRange(part.start, part.end, size));
      return body ? reply.send(body) : reply.send();
    },
  });
};
