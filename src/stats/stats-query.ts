import { sql, type SQL } from 'drizzle-orm';
import { figuresScope } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { DEAL_STATUSES } from '../deals/deal-statuses.js';
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
  /** The person; per department (personPeriods by 'department') the department, null for none. */
  userId: number | null;
  /** The local day the period starts (a week starts on Monday); null for groupBy=total. */
  period: string | null;
  sums: Sums;
}

/** Departments without one, and people without a department, count in the company's zone. */
export const DEFAULT_TIME_ZONE = 'Europe/Moscow';

/** A range of the call rollups, added (sign 1) or taken away (-1); `monthly`: from/to are months' first days. */
export interface CallPart { monthly: boolean; from: string; to: string; sign: 1 | -1 }

const isoDay = (d: Date) => d.toISOString().slice(0, 10);
const addDays = (day: string, n: number) => isoDay(new Date(Date.parse(`${day}T00:00:00Z`) + n * 86_400_000));
const daysBetween = (a: string, b: string) => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);

/**
 * How [from, to] is read from the call rollups when it holds whole months: those months from
 * call_stats_monthly; a partial month at either end from its days, or, when more of that month is
 * inside the period than outside, as the whole month less the days outside (fewer rows to read).
 * Integer sums are exact either way; answer_seconds_sum is a float, off by rounding at most.
 */
export function callParts(from: string, to: string, months: WholeMonths): CallPart[] {
  let first = months.first;
  let last = months.last;
  const parts: CallPart[] = [];
  if (from < months.first) {
    const monthStart = `${from.slice(0, 7)}-01`;
    if (daysBetween(monthStart, from) < daysBetween(from, months.first)) {
      first = monthStart;
      parts.push({ monthly: false, from: monthStart, to: addDays(from, -1), sign: -1 });
    } else parts.push({ monthly: false, from, to: addDays(months.first, -1), sign: 1 });
  }
  if (to > months.lastDay) {
    const monthStart = addDays(months.lastDay, 1);
    const monthEnd = addDays(isoDay(new Date(Date.UTC(Number(to.slice(0, 4)), Number(to.slice(5, 7)), 1))), -1);
    if (daysBetween(to, monthEnd) < daysBetween(monthStart, to) + 1) {
      last = monthStart;
      parts.push({ monthly: false, from: addDays(to, 1), to: monthEnd, sign: -1 });
    } else parts.push({ monthly: false, from: monthStart, to, sign: 1 });
  }
  return [{ monthly: true, from: first, to: last, sign: 1 }, ...parts];
}

/**
 * Deals created per current status and per pipeline stage reached (a deal that reached stage i
 * counts at every stage up to i), from deal_stats: one row per person (or department) and period.
 */
const DEAL_COUNTS = sql.raw(
  [
    ...DEAL_STATUSES.map((s) => `sum(n) FILTER (WHERE d.status = '${s}') AS s_${s}`),
    ...PIPELINE.map((_, i) => `sum(n) FILTER (WHERE d.reached >= ${i}) AS r_${i}`),
  ].join(', '),
);

/** The same from deal_stats_monthly: a column per status (s_<status>) and per stage (r_<i>, reached i or further). */
const DEAL_MONTH_COUNTS = sql.raw([...DEAL_STATUSES.map((s) => `sum(m.s_${s}) AS s_${s}`), ...PIPELINE.map((_, i) => `sum(m.r_${i}) AS r_${i}`)].join(', '));

/**
 * The whole local months inside [from, to]: `first` and `last` are their first days, `lastDay` the
 * last day of the last one; null when the period holds no whole month.
 */
export interface WholeMonths { first: string; last: string; lastDay: string }
export function wholeMonths(from: string, to: string): WholeMonths | null {
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  const f = new Date(`${from}T00:00:00Z`);
  const t = new Date(`${to}T00:00:00Z`);
  const first = f.getUTCDate() === 1 ? f : new Date(Date.UTC(f.getUTCFullYear(), f.getUTCMonth() + 1, 1));
  const afterTo = new Date(t.getTime() + 86_400_000);
  // The month after the last whole one starts the day after `to` when `to` ends a month.
  const end = afterTo.getUTCDate() === 1 ? afterTo : new Date(Date.UTC(t.getUTCFullYear(), t.getUTCMonth(), 1));
  if (end <= first) return null;
  return { first: iso(first), last: iso(new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth() - 1, 1))), lastDay: iso(new Date(end.getTime() - 86_400_000)) };
}

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
  // Per time zone (a handful), not per person: the period as moments, and each period's start
  // (periodStarts) as a moment for bucket().
  return sql`p AS MATERIALIZED (
    SELECT u.id, u.name, u.role, u.department_id, z.tz, z.t0, z.t1, z.bounds
    FROM users u LEFT JOIN departments d ON d.id = u.department_id
    JOIN (
      SELECT zone.tz, ${q.from}::date::timestamp AT TIME ZONE zone.tz AS t0, (${q.to}::date + 1)::timestamp AT TIME ZONE zone.tz AS t1,
        (SELECT array_agg(g::timestamp AT TIME ZONE zone.tz ORDER BY g) FROM unnest(${periodStarts(q)}::date[]) g) AS bounds
      FROM (SELECT DISTINCT coalesce(time_zone, ${DEFAULT_TIME_ZONE}) AS tz FROM departments UNION SELECT ${DEFAULT_TIME_ZONE}) zone
      OFFSET 0
    ) z ON z.tz = coalesce(d.time_zone, ${DEFAULT_TIME_ZONE})
    WHERE ${where.length ? sql.join(where, sql` AND `) : sql`true`})`;
}

/**
 * The local days the periods of [from, to] start on (a week on Monday, as date_trunc), as an array
 * literal; '{}' for groupBy=total. The same days in every zone: only the moments differ.
 */
export function periodStarts(q: Pick<StatsQuery, 'from' | 'to' | 'groupBy'>): string {
  if (q.groupBy === 'total') return '{}';
  const d = new Date(`${q.from}T00:00:00Z`);
  if (q.groupBy === 'month') d.setUTCDate(1);
  if (q.groupBy === 'week') d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
  const starts: string[] = [];
  for (; d.toISOString().slice(0, 10) <= q.to; q.groupBy === 'month' ? d.setUTCMonth(d.getUTCMonth() + 1) : d.setUTCDate(d.getUTCDate() + (q.groupBy === 'week' ? 7 : 1))) {
    starts.push(d.toISOString().slice(0, 10));
  }
  return `{${starts.join(',')}}`;
}

/**
 * The local period a moment falls in, `date_trunc(unit, at AT TIME ZONE tz)::date`, found by a
 * binary search of the person's period starts as moments (p.bounds): no time-zone arithmetic per row.
 */
const bucket = (q: StatsQuery, column: string): SQL =>
  q.groupBy === 'total' ? sql`NULL::date` : sql`(${periodStarts(q)}::date[])[width_bucket(${sql.raw(column)}, p.bounds)]`;
/** The same for the rollup's local day. */
const bucketOfDay = (q: StatsQuery): SQL =>
  q.groupBy === 'total' ? sql`NULL::date` : q.groupBy === 'day' ? sql`s.day` : sql`(${periodStarts(q)}::date[])[width_bucket(s.day, ${periodStarts(q)}::date[])]`;

type Row = Record<string, string | number | null>;
const n = (v: string | number | null | undefined) => (v === null || v === undefined ? 0 : Number(v));
const dayOf = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10));

/**
 * Five queries, each grouped by person and local period: the call rollup, missed calls with
 * their first callback (both kept by a trigger on calls), deals created (with how far each got), deals paid, reviews. Plans: BENCHMARKS.md.
 */
export async function personPeriods(db: Db, viewer: Viewer, q: StatsQuery, by: 'person' | 'department' = 'person'): Promise<{ people: Person[]; rows: PersonPeriod[] }> {
  // Whole local months inside the period (by month or in total): read from the monthly rollups.
  const months = q.groupBy === 'month' || q.groupBy === 'total' ? wholeMonths(q.from, q.to) : null;
  const p = peopleCte(viewer, q);
  // Per department (departmentStats) the sums are added up in SQL, per department as its people
  // are now: a row per department and period comes back instead of one per person and period.
  const key = by === 'department' ? sql`p.department_id` : sql`p.id`;
  // The call figures from the rollups (kept current as calls end): their days are already local,
  // so a period is a plain range of days. By month or in total, the whole months inside the period
  // come from call_stats_monthly (migration 0015) and only the days before and after from
  // call_stats_daily; a month there is the sum of its days, so the figures are the same.
  const sums = sql.raw(`sum(s.inbound) AS inbound, sum(s.outbound) AS outbound, sum(s.answered) AS answered, sum(s.missed) AS missed,
      sum(s.answer_seconds_sum) AS answer_seconds_sum, sum(s.answer_count) AS answer_count,
      sum(s.talk_total) AS talk_total, sum(s.talk_count) AS talk_count`);
  const cols = (sign: 1 | -1) =>
    sql.raw(['inbound', 'outbound', 'answered', 'missed', 'answer_seconds_sum', 'answer_count', 'talk_total', 'talk_count'].map((c) => (sign === 1 ? `s.${c}` : `-s.${c}`)).join(', '));
  const parts = months ? callParts(q.from, q.to, months) : [];
  const rollupParts = months
    ? parts.map((part) =>
        part.monthly
          ? sql`SELECT ${key} AS user_id, ${q.groupBy === 'total' ? sql`NULL::date` : sql`s.month`} AS period, ${cols(part.sign)}
      FROM p JOIN call_stats_monthly s ON s.user_id = p.id AND s.month >= ${part.from}::date AND s.month <= ${part.to}::date`
          : sql`SELECT ${key} AS user_id, ${bucketOfDay(q)} AS period, ${cols(part.sign)}
      FROM p JOIN call_stats_daily s ON s.user_id = p.id AND s.day >= ${part.from}::date AND s.day <= ${part.to}::date`,
      )
    : [
        sql`SELECT ${key} AS user_id, ${bucketOfDay(q)} AS period, ${cols(1)}
      FROM p JOIN call_stats_daily s ON s.user_id = p.id AND s.day >= ${q.from}::date AND s.day <= ${q.to}::date`,
      ];
  // Calls that ended since the last fold (migration 0023: the trigger queues each call's share,
  // stats-folder.ts adds the queue to the rollups once a second) are added here, in the same
  // statement and so the same snapshot as the rollups: every call is counted once, queued or folded.
  const queued = sql`SELECT ${key} AS user_id, ${bucket(q, 's.started_at')} AS period, ${cols(1)}
      FROM p JOIN call_stats_queue s ON s.user_id = p.id AND s.started_at >= p.t0 AND s.started_at < p.t1`;
  const callsSql = sql`WITH ${p}
    SELECT user_id, period, ${sums} FROM (
      ${sql.join([...rollupParts, queued], sql`
      UNION ALL
      `)}
    ) s
    GROUP BY 1, 2`;
  // Callbacks depend on later calls and on the hours asked: missed_calls (same trigger) keeps each
  // missed call with its first return, so "on time" is a comparison at read time.
  const missedSql = sql`WITH ${p}
    SELECT ${key} AS user_id, ${bucket(q, 'm.started_at')} AS period,
      count(*) FILTER (WHERE m.returned_at IS NULL) AS missed_not_called_back,
      count(*) FILTER (WHERE m.returned_at <= m.started_at + make_interval(hours => ${q.callbackHours})) AS callbacks_on_time
    FROM p JOIN missed_calls m ON m.user_id = p.id AND m.started_at >= p.t0 AND m.started_at < p.t1
    GROUP BY 1, 2`;
  // How far each deal got is kept per deal in deal_stats (migration 0015, triggers on deals and
  // deal_status_changes): one index read per person, no probe per deal.
  // Counted per status and stage first (a few small groups), then spread into columns.
  // Deals created: the same parts as the calls (whole months from deal_stats_monthly, migration
  // 0015; the days of a partial month added, or taken away from its whole month, from deal_stats).
  const dealsOf = (from: string, to: string, sign: 1 | -1) => sql`SELECT ${key} AS user_id, ${bucket(q, 'd.created_at')} AS period, d.status, d.reached, ${sql.raw(String(sign))} * count(*) AS n
      FROM p JOIN deal_stats d ON d.owner_id = p.id
        AND d.created_at >= ${from}::date::timestamp AT TIME ZONE p.tz AND d.created_at < (${to}::date + 1)::timestamp AT TIME ZONE p.tz
      GROUP BY 1, 2, 3, 4`;
  const dayParts = months ? parts.filter((part) => !part.monthly) : [{ from: q.from, to: q.to, sign: 1 as const }];
  const dealsSql = dayParts.length
    ? sql`WITH ${p}
    SELECT user_id, period, sum(n) AS deals, ${DEAL_COUNTS}
    FROM (
      ${sql.join(
        dayParts.map((part) => dealsOf(part.from, part.to, part.sign)),
        sql`
      UNION ALL
      `,
      )}
    ) d
    GROUP BY 1, 2`
    : null;
  const monthPart = parts.find((part) => part.monthly);
  const dealMonthsSql = monthPart
    ? sql`WITH ${p}
    SELECT ${key} AS user_id, ${q.groupBy === 'total' ? sql`NULL::date` : sql`m.month`} AS period, sum(m.deals) AS deals, ${DEAL_MONTH_COUNTS}
    FROM p JOIN deal_stats_monthly m ON m.user_id = p.id AND m.month >= ${monthPart.from}::date AND m.month <= ${monthPart.to}::date
    GROUP BY 1, 2`
    : null;
  // Deals that became contract_paid in the period (the first time within it). A few people: through
  // their deals (an index probe per deal). A department or the company: each person's payments from
  // deal_payments (migration 0015: every contract_paid moment with the deal's owner and amount).
  const few = (q.userIds?.length ?? 0) > 0 || figuresScope(viewer).kind === 'ids';
  const paidSql = few
    ? sql`WITH ${p}
    SELECT ${key} AS user_id, ${bucket(q, 'x.at')} AS period, count(*) AS paid, coalesce(sum(d.amount), 0) AS amount
    FROM p JOIN deals d ON d.owner_id = p.id
    CROSS JOIN LATERAL (
      SELECT s.changed_at AS at FROM deal_status_changes s
      WHERE s.deal_id = d.id AND s.to_status = 'contract_paid' AND s.changed_at >= p.t0 AND s.changed_at < p.t1
      ORDER BY s.changed_at LIMIT 1
    ) x
    GROUP BY 1, 2`
    : sql`WITH ${p}
    SELECT ${key} AS user_id, ${bucket(q, 'x.at')} AS period, count(*) AS paid, coalesce(sum(x.amount), 0) AS amount
    FROM (
      SELECT dp.owner_id, dp.deal_id, min(dp.paid_at) AS at, min(dp.amount) AS amount
      FROM p JOIN deal_payments dp ON dp.owner_id = p.id
        AND dp.paid_at >= (SELECT min(t0) FROM p) AND dp.paid_at < (SELECT max(t1) FROM p)
      GROUP BY 1, 2
    ) x JOIN p ON p.id = x.owner_id AND x.at >= p.t0 AND x.at < p.t1
    GROUP BY 1, 2`;
  const reviewsSql = sql`WITH ${p}
    SELECT ${key} AS user_id, ${bucket(q, 'r.created_at')} AS period, count(*) AS reviews, sum(r.total) AS score_sum
    FROM p JOIN call_reviews r ON r.manager_id = p.id AND r.created_at >= p.t0 AND r.created_at < p.t1
    GROUP BY 1, 2`;
  const peopleSql = sql`WITH ${p} SELECT id, name, role, department_id, tz FROM p ORDER BY name, id`;

  const [people, callRows, missedRows, dealRows, paidRows, reviewRows, dealMonthRows] = await Promise.all(
    [peopleSql, callsSql, missedSql, dealsSql, paidSql, reviewsSql, dealMonthsSql].map(async (query) => (query ? (await db.execute<Row>(query)).rows : [])),
  );

  const byKey = new Map<string, PersonPeriod>();
  const at = (r: Row): Sums => {
    const period = dayOf(r.period);
    const key = `${r.user_id}|${period}`;
    let row = byKey.get(key);
    if (!row) byKey.set(key, (row = { userId: r.user_id === null ? null : Number(r.user_id), period, sums: emptySums() }));
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
  for (const r of [...dealRows!, ...dealMonthRows!]) {
    const s = at(r);
    s.dealsCreated += n(r.deals);
    for (const status of DEAL_STATUSES) {
      const count = n(r[`s_${status}`]);
      if (count) s.dealsByStatus[status] = (s.dealsByStatus[status] ?? 0) + count;
    }
    PIPELINE.forEach((_, i) => (s.reached[i]! += n(r[`r_${i}`])));
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
    rows: [...byKey.values()].sort((x, y) => (x.period ?? '').localeCompare(y.period ?? '') || (x.userId ?? 0) - (y.userId ?? 0)),
  };
}
