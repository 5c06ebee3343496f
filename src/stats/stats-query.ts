import { sql, type SQL } from 'drizzle-orm';
import { figuresScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { addSums, emptySums, PIPELINE, type Sums } from './stats-figures.js';

export const GROUPINGS = ['day', 'week', 'month', 'total'] as const;
export type Grouping = (typeof GROUPINGS)[number];

export interface StatsQuery {
  /** First local day, YYYY-MM-DD, in each person's department time zone. */
  from: string;
  /** Last local day, included. */
  to: string;
  groupBy: Grouping;
  userIds?: number[];
  departmentId?: number;
  callbackHours: number;
}

export interface Person {
  id: number;
  name: string;
  role: string;
  departmentId: number | null;
  timeZone: string;
}

export interface PersonPeriod {
  userId: number;
  /** The local day the period starts (a week starts on Monday); null for groupBy=total. */
  period: string | null;
  sums: Sums;
}

/** Departments without one, and people without a department, count in the company's zone. */
export const DEFAULT_TIME_ZONE = 'Europe/Moscow';

const RANK_SQL = (column: string) => sql.raw(`CASE ${column} ${PIPELINE.map((s, i) => `WHEN '${s}' THEN ${i}`).join(' ')} ELSE -1 END`);

/** The people whose figures the viewer asked for and may see (access.ts figuresScope). */
function peopleCte(viewer: Viewer, q: StatsQuery): SQL {
  const scope = figuresScope(viewer);
  const where: SQL[] = [];
  if (scope.kind === 'department') where.push(sql`u.department_id = ${scope.departmentId}`);
  if (scope.kind === 'ids') where.push(sql`u.id IN (${sql.join(scope.ids.map((id) => sql`${id}`), sql`, `)})`);
  if (q.departmentId !== undefined) where.push(sql`u.department_id = ${q.departmentId}`);
  if (q.userIds?.length) where.push(sql`u.id IN (${sql.join(q.userIds.map((id) => sql`${id}`), sql`, `)})`);
  // Directors are not on the phones; they appear only when asked for by id.
  else if (scope.kind !== 'ids') where.push(sql`u.role <> 'director'`);
  return sql`p AS MATERIALIZED (
    SELECT u.id, u.name, u.role, u.department_id, coalesce(d.time_zone, ${DEFAULT_TIME_ZONE}) AS tz,
      ${q.from}::date::timestamp AT TIME ZONE coalesce(d.time_zone, ${DEFAULT_TIME_ZONE}) AS t0,
      (${q.to}::date + 1)::timestamp AT TIME ZONE coalesce(d.time_zone, ${DEFAULT_TIME_ZONE}) AS t1
    FROM users u LEFT JOIN departments d ON d.id = u.department_id
    WHERE ${where.length ? sql.join(where, sql` AND `) : sql`true`})`;
}

/** The local period a moment falls in: `date_trunc(unit, at AT TIME ZONE tz)`. */
const bucket = (g: Grouping, column: string): SQL => (g === 'total' ? sql`NULL::date` : sql.raw(`date_trunc('${g}', ${column} AT TIME ZONE p.tz)::date`));
/** The same for the rollup's local day. */
const bucketOfDay = (g: Grouping): SQL => (g === 'total' ? sql`NULL::date` : sql.raw(`date_trunc('${g}', s.day)::date`));

type Row = Record<string, string | number | null>;
const n = (v: string | number | null | undefined) => (v === null || v === undefined ? 0 : Number(v));
const dayOf = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10));

/**
 * Five queries, each grouped by person and local period: the call rollup, missed calls with
 * their first callback (both kept by a trigger on calls), deals created (with how far each got), deals paid, reviews. Plans: BENCHMARKS.md.
 */
export async function personPeriods(db: Db, viewer: Viewer, q: StatsQuery): Promise<{ people: Person[]; rows: PersonPeriod[] }> {
  const p = peopleCte(viewer, q);
  // The call figures from the daily rollup (migration 0014, kept current as calls end): its day
  // is already local, so a period is a plain range of days.
  const callsSql = sql`WITH ${p}
    SELECT p.id AS user_id, ${bucketOfDay(q.groupBy)} AS period,
      sum(s.inbound) AS inbound, sum(s.outbound) AS outbound, sum(s.answered) AS answered, sum(s.missed) AS missed,
      sum(s.answer_seconds_sum) AS answer_seconds_sum, sum(s.answer_count) AS answer_count,
      sum(s.talk_total) AS talk_total, sum(s.talk_count) AS talk_count
    FROM p JOIN call_stats_daily s ON s.user_id = p.id AND s.day >= ${q.from}::date AND s.day <= ${q.to}::date
    GROUP BY 1, 2`;
  // Callbacks depend on later calls and on the hours asked: missed_calls (same trigger) keeps each
  // missed call with its first return, so "on time" is a comparison at read time.
  const missedSql = sql`WITH ${p}
    SELECT p.id AS user_id, ${bucket(q.groupBy, 'm.started_at')} AS period,
      count(*) FILTER (WHERE m.returned_at IS NULL) AS missed_not_called_back,
      count(*) FILTER (WHERE m.returned_at <= m.started_at + make_interval(hours => ${q.callbackHours})) AS callbacks_on_time
    FROM p JOIN missed_calls m ON m.user_id = p.id AND m.started_at >= p.t0 AND m.started_at < p.t1
    GROUP BY 1, 2`;
  const dealsSql = sql`WITH ${p}
    SELECT p.id AS user_id, ${bucket(q.groupBy, 'd.created_at')} AS period, d.status,
      greatest(${RANK_SQL('d.status')}, (SELECT max(${RANK_SQL('s.to_status')}) FROM deal_status_changes s WHERE s.deal_id = d.id)) AS reached,
      count(*) AS deals
    FROM p JOIN deals d ON d.owner_id = p.id AND d.created_at >= p.t0 AND d.created_at < p.t1
    GROUP BY 1, 2, 3, 4`;
  // Deals that became contract_paid in the period. A few people: through their deals (an index
  // probe per deal). A department or the company: through the period's payments, then their owners.
  const few = (q.userIds?.length ?? 0) > 0 || figuresScope(viewer).kind === 'ids';
  const paidSql = few
    ? sql`WITH ${p}
    SELECT p.id AS user_id, ${bucket(q.groupBy, 'x.at')} AS period, count(*) AS paid, coalesce(sum(d.amount), 0) AS amount
    FROM p JOIN deals d ON d.owner_id = p.id
    CROSS JOIN LATERAL (
      SELECT s.changed_at AS at FROM deal_status_changes s
      WHERE s.deal_id = d.id AND s.to_status = 'contract_paid' AND s.changed_at >= p.t0 AND s.changed_at < p.t1
      ORDER BY s.changed_at LIMIT 1
    ) x
    GROUP BY 1, 2`
    : sql`WITH ${p}
    SELECT p.id AS user_id, ${bucket(q.groupBy, 'x.at')} AS period, count(*) AS paid, coalesce(sum(x.amount), 0) AS amount
    FROM (
      SELECT DISTINCT ON (s.deal_id) s.deal_id, s.changed_at AS at, d.amount, d.owner_id
      FROM deal_status_changes s JOIN deals d ON d.id = s.deal_id
      WHERE s.to_status = 'contract_paid' AND s.changed_at >= (SELECT min(t0) FROM p) AND s.changed_at < (SELECT max(t1) FROM p)
      ORDER BY s.deal_id, s.changed_at
    ) x JOIN p ON p.id = x.owner_id AND x.at >= p.t0 AND x.at < p.t1
    GROUP BY 1, 2`;
  const reviewsSql = sql`WITH ${p}
    SELECT p.id AS user_id, ${bucket(q.groupBy, 'r.created_at')} AS period, count(*) AS reviews, sum(r.total) AS score_sum
    FROM p JOIN call_reviews r ON r.manager_id = p.id AND r.created_at >= p.t0 AND r.created_at < p.t1
    GROUP BY 1, 2`;
  const peopleSql = sql`WITH ${p} SELECT id, name, role, department_id, tz FROM p ORDER BY name, id`;

  const [people, callRows, missedRows, dealRows, paidRows, reviewRows] = await Promise.all(
    [peopleSql, callsSql, missedSql, dealsSql, paidSql, reviewsSql].map(async (query) => (await db.execute<Row>(query)).rows),
  );

  const byKey = new Map<string, PersonPeriod>();
  const at = (r: Row): Sums => {
    const period = dayOf(r.period);
    const key = `${r.user_id}|${period}`;
    let row = byKey.get(key);
    if (!row) byKey.set(key, (row = { userId: Number(r.user_id), period, sums: emptySums() }));
    return row.sums;
  };
  for (const r of callRows!) {
    addSums(at(r), {
      ...emptySums(),
      inbound: n(r.inbound), outbound: n(r.outbound), answered: n(r.answered), missed: n(r.missed),
      answerSecondsSum: n(r.answer_seconds_sum), answerCount: n(r.answer_count), talkSecondsTotal: n(r.talk_total), talkCount: n(r.talk_count),
    });
  }
  for (const r of missedRows!) {
    const s = at(r);
    s.missedNotCalledBack += n(r.missed_not_called_back);
    s.callbacksOnTime += n(r.callbacks_on_time);
  }
  for (const r of dealRows!) {
    const s = at(r);
    const count = n(r.deals);
    const status = String(r.status) as keyof Sums['dealsByStatus'];
    s.dealsCreated += count;
    s.dealsByStatus[status] = (s.dealsByStatus[status] ?? 0) + count;
    for (let i = 0; i <= n(r.reached) && i < PIPELINE.length; i++) s.reached[i]! += count;
  }
  for (const r of paidRows!) {
    const s = at(r);
    s.paidDeals += n(r.paid);
    s.paidAmount += n(r.amount);
  }
  for (const r of reviewRows!) {
    const s = at(r);
    s.reviews += n(r.reviews);
    s.scoreSum += n(r.score_sum);
  }
  return {
    people: people!.map((r) => ({ id: Number(r.id), name: String(r.name), role: String(r.role), departmentId: r.department_id === null ? null : Number(r.department_id), timeZone: String(r.tz) })),
    rows: [...byKey.values()].sort((x, y) => (x.period ?? '').localeCompare(y.period ?? '') || x.userId - y.userId),
  };
}
