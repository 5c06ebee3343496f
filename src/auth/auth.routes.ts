import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { eq } from 'drizzle-orm';
import { recordAudit } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { AppError, ErrorBody } from '../errors.js';
import { users } from '../users/users.table.js';
import { ViewerBody } from '../users/users.schemas.js';
import { burnPasswordCheck, verifyPassword } from './passwords.js';
import { SignInLimitedError, type SignInLimit } from './sign-in-limit.js';
import { SignInBusyError, type VerifyGate } from './verify-gate.js';
import { issueToken, revokeToken, tokenFromRequest } from './tokens.js';
import { viewerOf } from './auth.plugin.js';

export const authRoutes: FastifyPluginAsyncTypebox<{ db: Db; tokenTtlHours: number; signInLimit: SignInLimit; verifyGate: VerifyGate }> = async (app, opts) => {
  const { db, signInLimit, verifyGate } = opts;

  app.post(
    '/login',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign in with login and password; returns a bearer token',
        description: 'Failed sign-ins are limited per login and address (429 with Retry-After); when too many are checked at once, 503 with Retry-After.',
        security: [],
        body: Type.Object({ login: Type.String({ minLength: 1, maxLength: 100 }), password: Type.String({ minLength: 1, maxLength: 200 }) }),
        response: {
          200: Type.Object({ token: Type.String(), expiresAt: Type.String({ format: 'date-time' }), user: ViewerBody }),
          400: ErrorBody,
          401: ErrorBody,
          429: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const login = request.body.login.trim().toLowerCase();
      const { password } = request.body;
      try {
        // Refused before argon2 runs: a limited try costs one Redis round trip.
        await signInLimit.check(login, request.ip);
        const user = await verifyGate.run(async () => {
          // Again after the wait: tries queued behind a flood are refused once a lock lands.
          await signInLimit.check(login, request.ip);
          const [row] = await db.select().from(users).where(eq(users.login, login)).limit(1);
          if (!row || !row.active) {
            await burnPasswordCheck(password);
            return null;
          }
          return (await verifyPassword(row.passwordHash, password)) ? row : null;
        });
        if (!user) {
          await signInLimit.failed(login, request.ip);
          // The login as typed, never the password; a refused try (429) is not verified, so not listed.
          await recordAudit(db, { actorId: null, action: 'auth.sign_in_failed', entity: 'user', entityId: null, details: { login }, ip: request.ip });
          throw new AppError('UNAUTHENTICATED', 'wrong login or password');
        }
        await signInLimit.succeeded(login, request.ip);
        const { token, expiresAt } = await issueToken(db, user.id, opts.tokenTtlHours);
        await recordAudit(db, { actorId: user.id, action: 'auth.sign_in', entity: 'user', entityId: user.id, ip: request.ip });
        request.log.info({ userId: user.id }, 'signed in');
        return {
          token,
          expiresAt: expiresAt.toISOString(),
          user: { id: user.id, login: user.login, name: user.name, role: user.role, departmentId: user.departmentId, managerId: user.managerId },
        };
      } catch (err) {
        if (!(err instanceof SignInLimitedError || err instanceof SignInBusyError)) throw err;
        if (err instanceof SignInLimitedError) request.log.info({ retryAfter: err.retryAfterSeconds }, 'sign-in refused: too many failures');
        return reply
          .status(err.statusCode)
          .header('retry-after', String(err.retryAfterSeconds))
          .send({ code: err.code, message: err.message, reqId: String(request.id) });
      }
    },
  );

  app.post(
    '/logout',
    { preHandler: app.requireUser, schema: { tags: ['auth'], summary: 'Revoke the current token', response: { 204: Type.Null(), 401: ErrorBody } } },
    async (request, reply) => {
      const token = tokenFromRequest(request.headers, request.query);
      if (token) await revokeToken(db, token);
      await recordAudit(db, { actorId: viewerOf(request).id, action: 'auth.sign_out', entity: 'user', entityId: viewerOf(request).id, ip: request.ip });
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/me',
    { preHandler: app.requireUser, schema: { tags: ['auth'], summary: 'The signed-in user', response: { 200: ViewerBody, 401: ErrorBody } } },
    async (request) => viewerOf(request),
  );
};
