import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { viewerOf } from '../auth/auth.plugin.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import { readAuditLog } from './audit-log.js';
import { AuditPageBody, AuditQuery } from './audit.schemas.js';

export const auditRoutes: FastifyPluginAsyncTypebox<{ db: Db }> = async (app, { db }) => {
  app.addHook('preHandler', app.requireUser);

  app.get(
    '/',
    {
      schema: {
        tags: ['audit'],
        summary: 'The audit log (director only): card views, searches, listens, history reads, sign-ins, changes; newest first',
        querystring: AuditQuery,
        response: { 200: AuditPageBody, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => readAuditLog(db, viewerOf(request), request.query),
  );
};
