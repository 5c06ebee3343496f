import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { asc, eq, inArray } from 'drizzle-orm';
import { seesWorkOf } from '../auth/access.js';
import { viewerOf } from '../auth/auth.plugin.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { AppError, ErrorBody } from '../errors.js';
import { users } from '../users/users.table.js';
import { routeDecisions } from './route-decisions.table.js';
import { tracedPlan } from './trace-encoding.js';
import type { TraceWriter } from './trace-writer.js';

const TraceStep = Type.Object({
  step: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  uniqueid: Type.String(),
  caller: Type.Union([Type.String(), Type.Null()]),
  callerRaw: Type.String(),
  did: Type.String(),
  lastStatus: Type.String(),
  action: Type.String(),
  reason: Type.String(),
  answer: Type.Record(Type.String(), Type.String()),
  candidates: Type.Array(Type.Unknown()),
  clientId: Type.Union([Type.Integer(), Type.Null()]),
  managerId: Type.Union([Type.Integer(), Type.Null()]),
  tie: Type.Boolean({ description: 'several clients have the caller’s number' }),
  tieClients: Type.Union([
    Type.Array(Type.Object({
      clientId: Type.Union([Type.Integer(), Type.String()]),
      ownerId: Type.Union([Type.Integer(), Type.String(), Type.Null()]),
      ownerActive: Type.Boolean(),
      lastActivityAt: Type.Union([Type.String(), Type.Null()]),
      chosen: Type.Optional(Type.Boolean()),
    })),
    Type.Null(),
  ], { description: 'the clients of the tie in the order they ranked, the winner chosen; null without a tie' }),
  stale: Type.Boolean({ description: 'answered from a routing directory not shown current within ROUTE_FRESH_MS (PostgreSQL slow or down)' }),
  directoryAgeMs: Type.Union([Type.Integer(), Type.Null()], { description: 'age of the directory\'s last proof of being current, ms' }),
  latencyMs: Type.Number(),
});

/**
 * A trace is seen by whoever sees the work of a manager it was routed to (access.ts
 * `seesWorkOf`: a curator only their department's). A call routed to nobody (a department line,
 * an unknown number) names no person: directors and curators, who supervise routing, see it.
 */
async function maySeeTrace(db: Db, viewer: Viewer, managerIds: Array<number | null>): Promise<boolean> {
  const ids = [...new Set(managerIds.filter((id): id is number => id !== null))];
  if (ids.length === 0) return viewer.role === 'director' || viewer.role === 'curator';
  const people = await db.select({ id: users.id, departmentId: users.departmentId, managerId: users.managerId }).from(users).where(inArray(users.id, ids));
  return seesWorkOf(viewer, people);
}

export const routeTraceRoutes: FastifyPluginAsyncTypebox<{ db: Db; traceWriter: Pick<TraceWriter, 'flush'> }> = async (app, { db, traceWriter }) => {
  app.get(
    '/:linkedid/route-trace',
    {
      preHandler: app.requireUser,
      schema: {
        tags: ['calls'],
        summary: 'Every routing decision taken for a call, step by step',
        params: Type.Object({ linkedid: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: Type.Object({ linkedid: Type.String(), steps: Type.Array(TraceStep) }), 404: ErrorBody },
      },
    },
    async (request) => {
      const { linkedid } = request.params;
      // Decisions are written every 50 ms: a trace asked for right after a call's last step
      // (the README's walk-through does exactly that) must not miss what this instance decided.
      // During an outage this fails like the select below; the rows stay queued.
      await traceWriter.flush();
      const rows = await db.select().from(routeDecisions).where(eq(routeDecisions.linkedid, linkedid)).orderBy(asc(routeDecisions.step), asc(routeDecisions.id));
      if (rows.length === 0 || !(await maySeeTrace(db, viewerOf(request), rows.map((r) => r.managerId)))) {
        throw new AppError('NOT_FOUND', `no routing trace for call ${linkedid}`);
      }
      return {
        linkedid,
        steps: rows.map(({ id: _id, linkedid: _l, createdAt, answer, candidates, answerBody, candidateList, ...rest }) => ({
          ...rest,
          ...tracedPlan({ answer, candidates, answerBody, candidateList }),
          at: createdAt.toISOString(),
        })),
      };
    },
  );
};
