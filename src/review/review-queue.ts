import { sql, type SQL } from 'drizzle-orm';
import { figuresScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { callManager, RECORDED_SQL } from '../stats/call-manager.js';

export interface QueueQuery {
  managerId?: number;
  departmentId?: number;
  from?: string;
  to?: string;
  direction?: 'inbound' | 'outbound' | 'internal';
  disposition?: 'answered' | 'missed' | 'busy' | 'failed' | 'abandoned';
  talkMin?: number;
  talkMax?: number;
  clientId?: number;
  dealStatus?: string;
  reviewed?: boolean;
  scoreMin?: number;
  scoreMax?: number;
  /** Uniformly random order among the matches instead of newest first: fair sampling. */
  random?: boolean;
  limit: number;
  offset: number;
}

export interface QueueItem {
  id: number;
  linkedid: string;
  direction: string;
  disposition: string;
  startedAt: string;
  talkSeconds: number | null;
  clientId: number | null;
  clientName: string | null;
  managerId: number;
  managerName: string;
  departmentId: number | null;
  reviews: number;
  /** The latest review's total, null when not reviewed. */
  lastTotal: number | null;
}

/** The viewer's part of the calls, as a condition on the manager's row `u` (access.ts figuresScope). */
export function managerScopeSql(viewer: Viewer): SQL {
  const scope = figuresScope(viewer);
  if (scope.kind === 'all') return sql`true`;
  if (scope.kind === 'department') return sql`u.department_id = ${scope.departmentId}`;
  return sql`u.id IN (${sql.join(scope.ids.map((id) => sql`${id}`), sql`, `)})`;
}

/**
 * Recorded, ended calls the viewer may review or read reviews of, with the queue's filters. With
 * `random`, `order by random()` over the filtered set gives every matching call the same chance
 * ("N random unreviewed calls of this manager this week"); the set is one manager's or
 * department's period, small enough to sort.
 */
export async function reviewQueue(db: Db, viewer: Viewer, q: QueueQuery): Promise<{ items: QueueItem[]; total: number }> {
  const where: SQL[] = [sql`c.disposition IS NOT NULL`, RECORDED_SQL, managerScopeSql(viewer)];
  if (q.managerId !== undefined) where.push(sql`u.id = ${q.managerId}`);
  if (q.departmentId !== undefined) where.push(sql`u.department_id = ${q.departmentId}`);
  if (q.from !== undefined) where.push(sql`c.started_at >= ${q.from}::timestamptz`);
  if (q.to !== undefined) where.push(sql`c.started_at < ${q.to}::timestamptz`);
  if (q.direction !== undefined) where.push(sql`c.direction = ${q.direction}`);
  if (q.disposition !== undefined) where.push(sql`c.disposition = ${q.disposition}`);
  if (q.talkMin !== undefined) where.push(sql`coalesce(c.talk_seconds, 0) >= ${q.talkMin}`);
  if (q.talkMax !== undefined) where.push(sql`coalesce(c.talk_seconds, 0) <= ${q.talkMax}`);
  if (q.clientId !== undefined) where.push(sql`c.client_id = ${q.clientId}`);
  if (q.dealStatus !== undefined) where.push(sql`EXISTS (SELECT 1 FROM deals d WHERE d.client_id = c.client_id AND d.status = ${q.dealStatus})`);
  if (q.reviewed !== undefined) where.push(q.reviewed ? sql`rv.reviews > 0` : sql`rv.reviews = 0`);
  if (q.scoreMin !== undefined) where.push(sql`rv.last_total >= ${q.scoreMin}`);
  if (q.scoreMax !== undefined) where.push(sql`rv.last_total <= ${q.scoreMax}`);
  const order = q.random ? sql`random()` : sql`c.started_at DESC, c.id DESC`;

  const { rows } = await db.execute<{
    id: string; linkedid: string; direction: string; disposition: string; started_at: Date | string; talk_seconds: number | null;
    client_id: number | null; client_name: string | null; manager_id: number; manager_name: string; department_id: number | null;
    reviews: number; last_total: string | null; total: string;
  }>(sql`
    SELECT c.id, c.linkedid, c.direction, c.disposition, c.started_at, c.talk_seconds, c.client_id, cl.name AS client_name,
      u.id AS manager_id, u.name AS manager_name, u.department_id, rv.reviews, rv.last_total, count(*) OVER () AS total
    FROM calls c
    JOIN users u ON u.id = ${callManager}
    LEFT JOIN clients cl ON cl.id = c.client_id
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS reviews, (array_agg(r.total ORDER BY r.id DESC))[1] AS last_total FROM call_reviews r WHERE r.call_id = c.id
    ) rv
    WHERE ${sql.join(where, sql` AND `)}
    ORDER BY ${order}
    LIMIT ${q.limit} OFFSET ${q.offset}`);
  return {
    total: rows.length === 0 ? 0 : Number(rows[0]!.total),
    items: rows.map((r) => ({
      id: Number(r.id),
      linkedid: r.linkedid,
      direction: r.direction,
      disposition: r.disposition,
      startedAt: new Date(r.started_at).toISOString(),
      talkSeconds: r.talk_seconds,
      clientId: r.client_id,
      clientName: r.client_name,
      managerId: r.manager_id,
      managerName: r.manager_name,
      departmentId: r.department_id,
      reviews: r.reviews,
      lastTotal: r.last_total === null ? null : Number(r.last_total),
    })),
  };
}
