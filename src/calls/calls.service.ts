import { and, asc, desc, eq, gte, isNotNull, isNull, lt, sql, type SQL } from 'drizzle-orm';
import { clientScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import { asDbId } from '../http/schemas.js';
import { routeDecisions } from '../routing/route-decisions.table.js';
import { calls } from './calls.table.js';

export interface CallFilters {
  clientId?: number;
  managerId?: number;
  from?: string;
  to?: string;
  direction?: 'inbound' | 'outbound' | 'internal';
  disposition?: 'answered' | 'missed' | 'busy' | 'failed' | 'abandoned';
  withRecording?: boolean;
  limit: number;
  offset: number;
}

// The people of a call, as the recording access rule sees them (recordings.service canListen):
// the client's owner, who answered, who finished, who clicked.
const people = sql`array[${calls.ownerId}, ${calls.answeredById}, ${calls.finalUserId}, ${calls.initiatedById}]`;

/** The viewer's calls as an SQL condition; the same rule as listening to a recording. */
export function callScope(viewer: Viewer): SQL | undefined {
  const scope = clientScope(viewer);
  switch (scope.kind) {
    case 'all':
      return undefined;
    case 'department':
      return sql`(exists (select 1 from users u where u.id = any(${people}) and u.department_id = ${scope.departmentId})
        or ${viewer.id} = any(${people}))`;
    case 'owners': {
      const ids = [viewer.id, ...scope.ownerIds];
      // A manager sees their assistants' calls too ("the manager sees the assistant's work").
      return sql`exists (select 1 from users u where u.id = any(${people})
        and (u.id = any(${sql.param(ids)}::int[]) or u.manager_id = any(${sql.param(ids)}::int[])))`;
    }
  }
}

export async function listCalls(db: Db, viewer: Viewer, f: CallFilters) {
  const conditions = [
    callScope(viewer),
    f.clientId !== undefined ? eq(calls.clientId, f.clientId) : undefined,
    f.managerId !== undefined ? sql`${f.managerId} = any(${people})` : undefined,
    f.from ? gte(calls.startedAt, new Date(f.from)) : undefined,
    f.to ? lt(calls.startedAt, new Date(f.to)) : undefined,
    f.direction ? eq(calls.direction, f.direction) : undefined,
    f.disposition ? eq(calls.disposition, f.disposition) : undefined,
    f.withRecording === true ? isNotNull(calls.recordingUniqueid) : f.withRecording === false ? isNull(calls.recordingUniqueid) : undefined,
  ].filter((c): c is SQL => c !== undefined);
  const where = conditions.length > 0 ? and(...conditions) : undefined;
  const [items, [{ total } = { total: 0 }]] = await Promise.all([
    db.select().from(calls).where(where).orderBy(desc(calls.startedAt), desc(calls.id)).limit(f.limit).offset(f.offset),
    db.select({ total: sql<number>`count(*)::int` }).from(calls).where(where),
  ]);
  return { items, total };
}

/** A call by numeric id or Linkedid (a Linkedid always has a '.'), if the viewer may see it. */
export async function getCall(db: Db, viewer: Viewer, ref: string, systemName: string) {
  const id = asDbId(ref);
  // Digits past int4 cannot be our id: looked up as a Linkedid, which finds nothing.
  const byRef = id !== null ? eq(calls.id, id) : and(eq(calls.systemName, systemName), eq(calls.linkedid, ref));
  const [call] = await db.select().from(calls).where(and(byRef, callScope(viewer) ?? sql`true`)).limit(1);
  if (!call) throw new AppError('NOT_FOUND', `call ${ref} not found`);
  const trace = await db
    .select()
    .from(routeDecisions)
    .where(eq(routeDecisions.linkedid, call.linkedid))
    .orderBy(asc(routeDecisions.step), asc(routeDecisions.id));
  return { call, trace };
}

