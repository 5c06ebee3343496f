import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import type { CountryCode } from '../phones/normalize.js';
import { handOver } from './handover.js';
import { CreateUserBody, HandoverBody, HandoverResultBody, PatchUserBody, PresenceBody, UserBody, UserParams, UsersQuery } from './users.schemas.js';
import { createUser, getUser, listUsers, setPresence, updateUser } from './users.service.js';
import type { UserView } from './users.schemas.js';

const tags = ['users'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** No DELETE: a leaving employee is disabled (`PATCH {active:false}`) and their clients stay. */
export const usersRoutes: FastifyPluginAsyncTypebox<{
  db: Db;
  config: Config;
  onPresenceChanged?: ((user: UserView) => void) | undefined;
  /** After a user's tokens were revoked: close their open screens everywhere (auth/end-sessions.ts). */
  onSessionsEnded?: ((userId: number) => void) | undefined;
}> = async (app, opts) => {
  const { db } = opts;
  const region = opts.config.DEFAULT_REGION as CountryCode;
  app.addHook('preHandler', app.requireUser);

  app.get(
    '/',
    {
      schema: {
        tags,
        summary: 'Users the viewer may see: director all, curator their department, manager self and assistants, assistant self and manager',
        querystring: UsersQuery,
        response: { 200: Type.Array(UserBody), 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => listUsers(db, viewerOf(request), request.query),
  );

  app.get(
    '/:id',
    { schema: { tags, summary: 'One user (404 when not visible to the viewer)', params: UserParams, response: { 200: UserBody, ...errors } } },
    async (request) => getUser(db, viewerOf(request), request.params.id),
  );

  app.post(
    '/',
    {
      schema: {
        tags,
        summary: 'Create a user (director: any role; curator: managers and assistants of their own department)',
        body: CreateUserBody,
        response: { 201: UserBody, ...errors },
      },
    },
    async (request, reply) => reply.status(201).send(await createUser(db, actorOf(request), viewerOf(request), request.body, region)),
  );

  app.patch(
    '/:id',
    {
      schema: {
        tags,
        summary:
          'Change a user (as for creating); anybody may change their own name, mobile, absentRule and password. `active:false` disables the account and ends its sessions',
        params: UserParams,
        body: PatchUserBody,
        response: { 200: UserBody, ...errors },
      },
    },
    async (request) => {
      const user = await updateUser(db, actorOf(request), viewerOf(request), request.params.id, request.body, region);
      // Committed: the tokens are revoked, so the screens closed now cannot sign back in.
      if (request.body.active === false || request.body.password !== undefined) opts.onSessionsEnded?.(user.id);
      return user;
    },
  );

  app.put(
    '/:id/presence',
    {
      schema: {
        tags,
        summary: "Set a user's status (the user, their department's curator, or a director)",
        params: UserParams,
        body: PresenceBody,
        response: { 200: UserBody, ...errors },
      },
    },
    async (request) => {
      const user = await setPresence(db, actorOf(request), viewerOf(request), request.params.id, request.body.presence);
      opts.onPresenceChanged?.(user);
      return user;
    },
  );

  app.post(
    '/:id/handover',
    {
      schema: {
        tags,
        summary: "Hand everything of a leaving user (clients, open deals, open reminders and callbacks) to another, in one transaction",
        description: 'Director: anybody to anybody active; curator: a manager or assistant of their own department to a user of that department. Every moved row is kept in the change history.',
        params: UserParams,
        body: HandoverBody,
        response: { 200: HandoverResultBody, ...errors },
      },
    },
    async (request) => handOver(db, actorOf(request), viewerOf(request), request.params.id, request.body.toUserId),
  );
};
