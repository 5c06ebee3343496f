import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { masksPhonesInLists } from '../auth/access.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { readOf, type ReadRecorder } from '../auth/read-budget.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { ErrorBody } from '../errors.js';
import { Id, Limit, Offset } from '../http/schemas.js';
import { maskPhoneForList } from '../phones/mask.js';
import type { Settings } from '../settings/settings.service.js';
import { tracedPlan } from '../routing/trace-encoding.js';
import { DIRECTIONS, DISPOSITIONS, TRANSFER_KINDS, type calls } from './calls.table.js';
import { getCall, listCalls } from './calls.service.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const NInt = Type.Union([Type.Integer(), Type.Null()]);
const Time = Nullable(Type.String({ format: 'date-time' }));

const CallBody = Type.Object({
  id: Type.Integer(),
  linkedid: Type.String(),
  direction: Type.String(),
  did: Nullable(Type.String()),
  number: Nullable(Type.String()),
  clientId: NInt,
  ownerId: NInt,
  initiatedById: NInt,
  answeredById: NInt,
  finalUserId: NInt,
  startedAt: Type.String({ format: 'date-time' }),
  ringingAt: Time,
  answeredAt: Time,
  endedAt: Time,
  talkSeconds: NInt,
  disposition: Nullable(Type.String()),
  hangupCause: NInt,
  failureReason: Nullable(Type.String()),
  rang: Type.Array(Type.Object({ extension: Type.String(), userId: NInt, at: Type.String() })),
  transfers: Type.Array(Type.Object({
    kind: Type.Union(TRANSFER_KINDS.map((k) => Type.Literal(k)), {
      description: 'blind, attended: transfer events of the PBX; dial, bridge: a new agent took the caller without one',
    }),
    from: Nullable(Type.String({ description: 'extension that handed the caller over' })),
    fromUserId: NInt,
    to: Nullable(Type.String({ description: 'extension (or outside number) the caller was handed to; null when the PBX did not say' })),
    toUserId: NInt,
    at: Type.String({ format: 'date-time' }),
  }), { description: 'who handed the caller to whom, in order; answeredById is who took the call first, finalUserId who had it last' }),
  recordingUrl: Nullable(Type.String()),
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);
function view(c: typeof calls.$inferSelect) {
  return {
    id: c.id,
    linkedid: c.linkedid,
    direction: c.direction,
    did: c.did,
    number: c.externalNumber,
    clientId: c.clientId,
    ownerId: c.ownerId,
    initiatedById: c.initiatedById,
    answeredById: c.answeredById,
    finalUserId: c.finalUserId,
    startedAt: c.startedAt.toISOString(),
    ringingAt: iso(c.ringingAt),
    answeredAt: iso(c.answeredAt),
    endedAt: iso(c.endedAt),
    talkSeconds: c.talkSeconds,
    disposition: c.disposition,
    hangupCause: c.hangupCause,
    failureReason: c.failureReason,
    rang: c.rang,
    transfers: c.transfers,
    recordingUrl: c.recordingUniqueid ? `/api/calls/${c.id}/recording` : null,
  };
}

export const callsRoutes: FastifyPluginAsyncTypebox<{ db: Db; config: Pick<Config, 'PBX_SYSTEM_NAME'>; settings: Pick<Settings, 'current'>; readBudget?: ReadRecorder }> = async (
  app,
  { db, config, settings, readBudget },
) => {
  app.addHook('preHandler', app.requireUser);

  app.get(
    '/',
    {
      schema: {
        tags: ['calls'],
        summary: 'Calls the signed-in user may see, newest first',
        querystring: Type.Object({
          clientId: Type.Optional(Id()),
          managerId: Type.Optional(Id({ description: 'calls this user owned, took, finished or started' })),
          from: Type.Optional(Type.String({ format: 'date-time' })),
          to: Type.Optional(Type.String({ format: 'date-time' })),
          direction: Type.Optional(Type.Union(DIRECTIONS.map((d) => Type.Literal(d)))),
          disposition: Type.Optional(Type.Union(DISPOSITIONS.map((d) => Type.Literal(d)))),
          withRecording: Type.Optional(Type.Boolean()),
          limit: Limit(200, 50),
          offset: Offset,
        }),
        response: { 200: Type.Object({ items: Type.Array(CallBody), total: Type.Integer() }), 400: ErrorBody, 401: ErrorBody },
      },
    },
    async (request) => {
      const viewer = viewerOf(request);
      const { items, total } = await listCalls(db, viewer, request.query);
      // Months of calls name most of the clients and their numbers: paging them is walking the base;
      // one client's calls are that client.
      await readBudget?.record(viewer, readOf.listOf('calls', request.query), request.ip);
      // A client's number is masked in a list like on the client list; a caller who is nobody's
      // client is not part of the base, and the manager needs the number to call back.
      const masked = masksPhonesInLists(viewer, (await settings.current()).maskPhonesInLists);
      return { items: items.map((c) => (masked && c.clientId !== null && c.externalNumber ? { ...view(c), number: maskPhoneForList(c.externalNumber) } : view(c))), total };
    },
  );

  app.get(
    '/:id',
    {
      schema: {
        tags: ['calls'],
        summary: 'One call (numeric id or Linkedid) with its legs and routing trace',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: {
          200: Type.Intersect([
            CallBody,
            Type.Object({
              legs: Type.Array(Type.Unknown()),
              routeTrace: Type.Array(Type.Object({ step: Type.Integer(), reason: Type.String(), action: Type.String(), answer: Type.Record(Type.String(), Type.String()), at: Type.String() })),
            }),
          ]),
          404: ErrorBody,
        },
      },
    },
    async (request) => {
      const { call, trace } = await getCall(db, viewerOf(request), request.params.id, config.PBX_SYSTEM_NAME);
      // The full number of a client's call is a look at that client; a stranger's call is not the base.
      if (call.clientId !== null) await readBudget?.record(viewerOf(request), readOf.client(call.clientId), request.ip);
      return {
        ...view(call),
        legs: call.legs,
        routeTrace: trace.map((t) => ({ step: t.step, reason: t.reason, action: t.action, answer: tracedPlan(t).answer, at: t.createdAt.toISOString() })),
      };
    },
  );
};
