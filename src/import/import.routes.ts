import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Type, TypeBoxValidatorCompiler, type Static, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { desc, eq } from 'drizzle-orm';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { AppError, ErrorBody } from '../errors.js';
import { mappingError } from './import-fields.js';
import { importJobs } from './import-jobs.table.js';
import type { ImportEnv } from './import-run.js';
import { ImportJobBody, JobParams, MappingBody, UploadQuery, type ImportJobView } from './import.schemas.js';
import { loadJob, progressOf, recheck, rejectedPath, uploadAndCheck, type ImportFiles, type ImportJob } from './import.service.js';

const tags = ['import'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export const viewOf = (job: ImportJob): ImportJobView => ({
  id: job.id, fileName: job.fileName, format: job.format, encoding: job.encoding, delimiter: job.delimiter, sheet: job.sheet, status: job.status,
  mapping: job.mapping, defaultOwnerId: job.defaultOwnerId, progress: progressOf(job),
  counts: { created: job.createdCount, updated: job.updatedCount, unchanged: job.unchangedCount, rejected: job.rejectedCount },
  report: (job.report as ImportJobView['report']) ?? null, error: job.error, createdBy: job.createdBy, createdAt: job.createdAt, startedAt: job.startedAt, finishedAt: job.finishedAt,
});

export interface ImportRouteDeps {
  env: ImportEnv;
  files: ImportFiles;
  enqueue(id: number): Promise<void>;
}

/** `/api/import`: directors and curators (a curator's import stays in their department: access.ts). */
export const importRoutes: FastifyPluginAsyncTypebox<ImportRouteDeps> = async (app, deps) => {
  const { env, files } = deps;
  app.addHook('preHandler', app.requireRole('director', 'curator'));

  // The upload, in a scope of its own: its body is the raw file stream, never buffered.
  await app.register(async (upload) => {
    upload.removeAllContentTypeParsers();
    upload.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    upload.post(
      '/clients',
      {
        schema: {
          tags,
          summary: 'Upload a CSV or XLSX of clients and get the dry run: mapping, what would be created/updated, rejected rows',
          description:
            "The raw file is the body (`text/csv`, `application/octet-stream` or the XLSX type). Encoding (UTF-8 with or without BOM, Windows-1251) and delimiter (`,` `;` tab) are detected. Nothing is written to the clients until `POST /api/import/jobs/:id/run`. Example: `curl -X POST --data-binary @base.csv -H 'Content-Type: text/csv' '/api/import/clients?fileName=base.csv'`",
          querystring: UploadQuery,
          body: Type.Unsafe<Readable>({ type: 'string', format: 'binary' }),
          response: { 201: ImportJobBody, ...errors, 413: ErrorBody },
        },
        validatorCompiler: (route) => (route.httpPart === 'body' ? () => true : TypeBoxValidatorCompiler(route as unknown as Parameters<typeof TypeBoxValidatorCompiler>[0])),
        preParsing: async (request, reply) => {
          if (Number(request.headers['content-length']) > files.maxBytes) {
            reply.header('connection', 'close');
            throw new AppError('PAYLOAD_TOO_LARGE', `a file may be at most ${files.maxBytes} bytes`);
          }
        },
      },
      async (request, reply) => {
        if (request.body === undefined || request.body === null) throw new AppError('VALIDATION', 'the body must be the file');
        // The inner scope is not typed by the provider; the query was validated against UploadQuery.
        const query = request.query as Static<typeof UploadQuery>;
        try {
          const job = await uploadAndCheck(env, files, actorOf(request), viewerOf(request), {
            body: request.body as Readable,
            fileName: query.fileName,
            sheet: query.sheet ?? null,
            ownerId: query.ownerId,
          });
          return reply.status(201).send(viewOf(job));
        } catch (error) {
          reply.header('connection', 'close');
          throw error;
        }
      },
    );
  });

  app.get(
    '/jobs',
    {
      schema: {
        tags,
        summary: 'Imports, newest first: yours (a director sees everybody\'s)',
        querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }) }),
        response: { 200: Type.Array(ImportJobBody), ...errors },
      },
    },
    async (request) => {
      const viewer = viewerOf(request);
      const rows = await env.db
        .select()
        .from(importJobs)
        .where(viewer.role === 'director' ? undefined : eq(importJobs.createdBy, viewer.id))
        .orderBy(desc(importJobs.id))
        .limit(request.query.limit);
      // The list leaves the reports out: each may hold 200 problems and a sample.
      return rows.map((job) => ({ ...viewOf(job), report: null }));
    },
  );

  app.get(
    '/jobs/:id',
    { schema: { tags, summary: 'An import: its dry-run report, progress (rows done, rate, ETA) and counts', params: JobParams, response: { 200: ImportJobBody, ...errors } } },
    async (request) => viewOf(await loadJob(env, viewerOf(request), request.params.id)),
  );

  app.post(
    '/jobs/:id/check',
    {
      schema: {
        tags,
        summary: 'Run the dry run again with a changed column mapping',
        params: JobParams,
        body: Type.Object({ mapping: MappingBody }, { examples: [{ mapping: [{ index: 0, header: 'Компания', field: 'name' }, { index: 1, header: 'Тел.', field: 'phone' }] }] }),
        response: { 200: ImportJobBody, ...errors },
      },
    },
    async (request) => viewOf(await recheck(env, files, viewerOf(request), request.params.id, request.body.mapping)),
  );

  app.post(
    '/jobs/:id/run',
    {
      schema: {
        tags,
        summary: 'Start the real run (a background job); follow it with GET /api/import/jobs/:id or import.progress frames',
        description: 'An optional mapping replaces the one of the dry run. Re-importing a file already imported changes nothing.',
        params: JobParams,
        body: Type.Optional(Type.Object({ mapping: Type.Optional(MappingBody) })),
        response: { 202: ImportJobBody, ...errors },
      },
    },
    async (request, reply) => {
      const job = await loadJob(env, viewerOf(request), request.params.id);
      if (job.status !== 'checked') throw new AppError('CONFLICT', `import ${job.id} is ${job.status}; it can run once`);
      const mapping = request.body?.mapping;
      if (mapping) {
        const header = (job.report?.header as string[] | undefined) ?? [];
        const error = mappingError(mapping, header.length);
        if (error) throw new AppError('VALIDATION', error);
      }
      const [queued] = await env.db
        .update(importJobs)
        .set({ status: 'queued', ...(mapping && { mapping }) })
        .where(eq(importJobs.id, job.id))
        .returning();
      await deps.enqueue(job.id);
      return reply.status(202).send(viewOf(queued!));
    },
  );

  app.post(
    '/jobs/:id/cancel',
    { schema: { tags, summary: 'Stop a running import after its current batch (what is committed stays)', params: JobParams, response: { 200: ImportJobBody, ...errors } } },
    async (request) => {
      const job = await loadJob(env, viewerOf(request), request.params.id);
      if (job.status === 'done' || job.status === 'failed' || job.status === 'cancelled') throw new AppError('CONFLICT', `import ${job.id} is already ${job.status}`);
      const [row] = await env.db
        .update(importJobs)
        .set({ cancelRequested: true, ...(job.status === 'checked' && { status: 'cancelled' as const, finishedAt: new Date() }) })
        .where(eq(importJobs.id, job.id))
        .returning();
      return viewOf(row!);
    },
  );

  app.get(
    '/jobs/:id/rejected',
    {
      schema: {
        tags,
        summary: 'The rejected rows as CSV (UTF-8, `;`), with the reason in a last column: fix them in Excel and import again',
        params: JobParams,
        response: { 200: { description: 'CSV', content: { 'text/csv': { schema: Type.String() } } }, ...errors },
      },
    },
    async (request, reply) => {
      const job = await loadJob(env, viewerOf(request), request.params.id);
      const path = rejectedPath(files, job.id);
      if (!(await access(path).then(() => true, () => false))) throw new AppError('NOT_FOUND', `the rejected rows of import ${job.id} are no longer kept`);
      reply.header('content-type', 'text/csv; charset=utf-8');
      reply.header('content-disposition', `attachment; filename="import-${job.id}-rejected.csv"`);
      return reply.send(createReadStream(path));
    },
  );
};
