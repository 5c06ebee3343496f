import { sql } from 'drizzle-orm';
import { seesFiguresOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import { callManager } from './call-manager.js';
import { DEFAULT_TIME_ZONE } from './stats-query.js';

export const TIMELINE_KINDS = ['call', 'note', 'deal_status', 'deal_handed', 'reminder_done'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export interface TimelineEvent {
  at: string;
  kind: TimelineKind;
  callId: number | null;
  clientId: number | null;
  dealId: number | null;
  /** What happened, in the kind's own words (see the route's description). */
  details: Record<string, unknown>;
}

const MAX_EVENTS = 2000;
const MAX_DAYS = 31;

/** Monday of the week `today` is in, and the Sunday after, as YYYY-MM-DD. */
export function weekOf(today: string): { from: string; to: string } {
  const d = new Date(`${today}T00:00:00Z`);
  const monday = new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * 86_400_000);
  return { from: monday.toISOString().slice(0, 10), to: new Date(monday.getTime() + 6 * 86_400_000).toISOString().slice(0, 10) };
}

/**
 * One person's activity over local days (default: this week in their department's zone): calls
 * that count for them, notes they wrote, deals they moved along the pipeline, deals they handed
 * to another owner, reminders they completed. Oldest first, at most 2,000 events.
 */
export async function timeline(db: Db, viewer: Viewer, userId: number, range: { from?: string; to?: string }): Promise<{ userId: number; timeZone: string; from: string; to: string; truncated: boolean; events: TimelineEvent[] }> {
  const { rows: found } = await db.execute<{ id: number; department_id: number | null; tz: string; today: string }>(sql`
    SELECT u.id, u.department_id, coalesce(d.time_zone, ${DEFAULT_TIME_ZONE}) AS tz, (now() AT TIME ZONE coalesce(d.time_zone, ${DEFAULT_TIME_ZONE}))::date::text AS today
    FROM users u LEFT JOIN departments d ON d.id = u.department_id WHERE u.id = ${userId}`);
  const person = found[0];
  if (!person || !seesFiguresOf(viewer, { id: person.id, departmentId: person.department_id })) throw new AppError('NOT_FOUND', `user ${userId} not found`);
  const week = weekOf(person.today);
  const from = range.from ?? (range.to === undefined ? week.from : range.to);
  const to = range.to ?? (range.from === undefined ? week.to : range.from);
  const days = (Date.parse(to) - Date.parse(from)) / 86_400_000;
  if (Number.isNaN(days) || days < 0) throw new AppError('VALIDATION', 'from/to: two dates (YYYY-MM-DD), from not after to');
  if (days >= MAX_DAYS) throw new AppError('VALIDATION', `from/to: a timeline covers at most ${MAX_DAYS} days`);

  const { rows } = await db.execute<{ at: Date | string; kind: TimelineKind; call_id: string | null; client_id: number | null; deal_id: number | null; details: Record<string, unknown> }>(sql`
    WITH p AS MATERIALIZED (
      SELECT ${userId}::int AS id, ${from}::date::timestamp AT TIME ZONE ${person.tz} AS t0, (${to}::date + 1)::timestamp AT TIME ZONE ${person.tz} AS t1
    )
    SELECT * FROM (
      SELECT c.started_at AS at, 'call' AS kind, c.id AS call_id, c.client_id, NULL::int AS deal_id,
        jsonb_build_object('direction', c.direction, 'disposition', c.disposition, 'talkSeconds', c.talk_seconds) AS details
      FROM p JOIN calls c ON ${callManager} = p.id AND c.started_at >= p.t0 AND c.started_at < p.t1 AND c.disposition IS NOT NULL
      UNION ALL
      SELECT n.created_at, 'note', NULL, n.client_id, n.deal_id, jsonb_build_object('noteId', n.id, 'noteKind', n.kind, 'text', left(n.text, 200))
      FROM p JOIN client_notes n ON n.author_id = p.id AND n.created_at >= p.t0 AND n.created_at < p.t1
      UNION ALL
      SELECT s.changed_at, 'deal_status', NULL, d.client_id, s.deal_id, jsonb_build_object('from', s.from_status, 'to', s.to_status)
      FROM p JOIN deal_status_changes s ON s.changed_by_id = p.id AND s.changed_at >= p.t0 AND s.changed_at < p.t1 JOIN deals d ON d.id = s.deal_id
      UNION ALL
      SELECT h.at, 'deal_handed', NULL, h.client_id, h.deal_id, jsonb_build_object('fromOwnerId', h.changes -> 'owner_id' -> 'old', 'toOwnerId', h.changes -> 'owner_id' -> 'new')
      FROM p JOIN change_history h ON h.actor_id = p.id AND h.at >= p.t0 AND h.at < p.t1
      WHERE h.table_name = 'deals' AND h.op = 'update' AND h.changes ? 'owner_id'
      UNION ALL
      SELECT r.completed_at, 'reminder_done', r.call_id, r.client_id, r.deal_id, jsonb_build_object('reminderId', r.id, 'reminderKind', r.kind, 'dueAt', r.due_at)
      FROM p JOIN reminders r ON r.user_id = p.id AND r.status = 'done' AND r.completed_at >= p.t0 AND r.completed_at < p.t1
    ) e
    ORDER BY at, kind
    LIMIT ${MAX_EVENTS + 1}`);
  return {
    userId,
    timeZone: person.tz,
    from,
    to,
    truncated: rows.length > MAX_EVENTS,
    events: rows.slice(0, MAX_EVENTS).map((r) => ({
      at: new Date(r.at).toISOString(),
      kind: r.kind,
      callId: r.call_id === null ? null : Number(r.call_id),
      clientId: r.client_id,
      dealId: r.deal_id,
      details: r.details,
    })),
  };
}
