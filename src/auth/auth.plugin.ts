import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import type { Role } from '../users/users.table.js';
import { tokenFromRequest, viewerForToken } from './tokens.js';
import type { Viewer } from './viewer.js';

declare module 'fastify' {
  interface FastifyRequest {
    viewer: Viewer | null;
  }
  interface FastifyInstance {
    /** preHandler: 401 unless a valid bearer token is present; sets `request.viewer`. */
    requireUser: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
    /** preHandler factory: 403 unless the viewer has one of the roles. */
    requireRole: (...roles: Role[]) => (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
  }
}

/** Visible to sibling plugins (fastify-plugin) because every feature's routes use it. */
export const authPlugin = fp(
  async (app, opts: { db: Db }) => {
    app.decorateRequest('viewer', null);

    const requireUser = async (request: FastifyRequest) => {
      const token = tokenFromRequest(request.headers, request.query);
      if (!token) throw new AppError('UNAUTHENTICATED', 'sign in first: send Authorization: Bearer <token>');
      const viewer = await viewerForToken(opts.db, token);
      if (!viewer) throw new AppError('UNAUTHENTICATED', 'the token is unknown, expired or revoked; sign in again');
      request.viewer = viewer;
    };
    app.decorate('requireUser', requireUser);
    app.decorate('requireRole', (...roles: Role[]) => async (request: FastifyRequest, reply: FastifyReply) => {
      if (!request.viewer) await requireUser(request);
      if (!roles.includes(request.viewer!.role)) {
        throw new AppError('FORBIDDEN', `this needs the role ${roles.join(' or ')}`);
      }
      void reply;
    });
  },
  { name: 'auth', fastify: '5.x' },
);

/** The viewer of a request that passed `requireUser`. */
export function viewerOf(request: FastifyRequest): Viewer {
  if (!request.viewer) throw new AppError('UNAUTHENTICATED', 'sign in first');
  return request.viewer;
}
