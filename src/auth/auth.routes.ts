import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { AppError, ErrorBody } from '../errors.js';
import { users } from '../users/users.table.js';
import { ViewerBody } from '../users/users.schemas.js';
import { burnPasswordCheck, verifyPassword } from './passwords.js';
import { issueToken, revokeToken, tokenFromRequest } from './tokens.js';
import { viewerOf } from './auth.plugin.js';

export const authRoutes: FastifyPluginAsyncTypebox<{ db: Db; tokenTtlHours: number }> = async (app, opts) => {
  const { db } = opts;

  app.post(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with login and password; returns a bearer token',
        security: [],
        body: Type.Object({ login: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: {
          200: Type.Object({ token: Type.String(), expiresAt: Type.String({ format: 'date-time' }), user: ViewerBody }),
          400: ErrorBody,
          401: ErrorBody,
        },
      },
    },
    async (request) => {
      const { login, password } = request.body;
      const [user] = await db.select().from(users).where(eq(users.login, login.trim().toLowerCase())).limit(1);
      if (!user || !user.active) {
        await burnPasswordCheck(password);
        throw new AppError('UNAUTHENTICATED', 'wrong login or password');
      }
      if (!(await verifyPassword(user.passwordHash, password))) throw new AppError('UNAUTHENTICATED', 'wrong login or password');
      const { token, expiresAt } = await issueToken(db, user.id, opts.tokenTtlHours);
      request.log.info({ userId: user.id }, 'signed in');
      return {
        token,
        expiresAt: expiresAt.toISOString(),
        user: { id: user.id, login: user.login, name: user.name, role: user.role, departmentId: user.departmentId, managerId: user.managerId },
      };
    },
  );

  app.post(
    '/logout',
    { preHandler: app.requireUser, schema: { tags: ['auth'], summary: 'Revoke the current token', response: { 204: Type.Null(), 401: ErrorBody } } },
    async (request, reply) => {
      const token = tokenFromRequest(request.headers, request.query);
      if (token) await revokeToken(db, token);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/me',
    { preHandler: app.requireUser, schema: { tags: ['auth'], summary: 'The signed-in user', response: { 200: ViewerBody, 401: ErrorBody } } },
    async (request) => viewerOf(request),
  );
};
