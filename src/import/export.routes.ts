import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import { exportClients } from './export-clients.js';

/** `/api/export`: the whole client base as a file, for directors; every export is audited. */
export const exportRoutes: FastifyPluginAsyncTypebox<{ db: Db; utcOffset: string }> = async (app, { db, utcOffset }) => {
  app.addHook('preHandler', app.requireRole('director'));
  app.get(
    '/clients',
    {
      schema: {
        tags: ['import'],
        summary: 'Export every client as CSV or XLSX (streamed), with the columns the import reads: export → import changes nothing',
        description:
          "The CSV's first row and the XLSX's document properties (author, title, date) name who exported it and when. Example: `curl -H 'Authorization: Bearer …' -o clients.xlsx '/api/export/clients?format=xlsx'`",
        querystring: Type.Object({ format: Type.Union([Type.Literal('csv'), Type.Literal('xlsx')], { default: 'csv' }) }),
        response: {
          200: {
            description: 'the file',
            content: {
              'text/csv': { schema: Type.String() },
              'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': { schema: Type.String({ format: 'binary' }) },
            },
          },
          401: ErrorBody,
          403: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const file = await exportClients(db, actorOf(request), viewerOf(request), request.query.format, utcOffset);
      reply.header('content-type', file.contentType);
      reply.header('content-disposition', `attachment; filename="${file.fileName}"`);
      return reply.send(file.stream);
    },
  );
};
