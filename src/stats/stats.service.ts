import { inArray } from 'drizzle-orm';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { departments } from '../departments/departments.table.js';
import { AppError } from '../errors.js';
import { addSums, derive, emptySums, type Figures, type Sums } from './stats-figures.js';
import { personPeriods, type StatsQuery } from './stats-query.js';

export interface ManagerRow {
  userId: number;
  name: string;
  departmentId: number | null;
  timeZone: string;
  period: string | null;
  figures: Figures;
}

export interface DepartmentRow {
  departmentId: number | null;
  name: string;
  timeZone: string;
  period: string | null;
  people: number;
  figures: Figures;
}

/** Longest period one request may ask for: a year and a bit; by day a quarter (rows per person). */
const MAX_DAYS = 400;
const MAX_DAYS_BY_DAY = 93;

export function checkPeriod(q: Pick<StatsQuery, 'from' | 'to' | 'groupBy'>): void {
  const from = Date.parse(`${q.from}T00:00:00Z`);
  const to = Date.parse(`${q.to}T00:00:00Z`);
  if (Number.isNaN(from)) throw new AppError('VALIDATION', `from: ${q.from} is not a date (YYYY-MM-DD)`);
  if (Number.isNaN(to)) throw new AppError('VALIDATION', `to: ${q.to} is not a date (YYYY-MM-DD)`);
  if (to < from) throw new AppError('VALIDATION', 'to: before from');
  if ((to - from) / 86_400_000 >= MAX_DAYS) throw new AppError('VALIDATION', `from/to: at most ${MAX_DAYS} days at once`);
  if (q.groupBy === 'day' && (to - from) / 86_400_000 >= MAX_DAYS_BY_DAY) {
    throw new AppError('VALIDATION', `from/to: at most ${MAX_DAYS_BY_DAY} days by day; group a longer period by week or month`);
  }
}

/**
 * Figures per person and local period. With groupBy=total every person in scope has a row (zeros
 * included: a comparison shows who did nothing); by day/week/month only periods with something.
 */
export async function managerStats(db: Db, viewer: Viewer, q: StatsQuery): Promise<ManagerRow[]> {
  checkPeriod(q);
  const { people, rows } = await personPeriods(db, viewer, q);
  const byId = new Map(people.map((p) => [p.id, p]));
  const out: ManagerRow[] = rows.flatMap((r) => {
    const person = r.userId === null ? undefined : byId.get(r.userId);
    return person ? [{ userId: person.id, name: person.name, departmentId: person.departmentId, timeZone: person.timeZone, period: r.period, figures: derive(r.sums) }] : [];
  });
  if (q.groupBy === 'total') {
    const seen = new Set(rows.map((r) => r.userId));
    for (const p of people) if (!seen.has(p.id)) out.push({ userId: p.id, name: p.name, departmentId: p.departmentId, timeZone: p.timeZone, period: null, figures: derive(emptySums()) });
    out.sort((a, b) => a.name.localeCompare(b.name) || a.userId - b.userId);
  }
  return out;
}

/** The same figures added up per department (its people as they are now) and local period. */
export async function departmentStats(db: Db, viewer: Viewer, q: StatsQuery): Promise<DepartmentRow[]> {
  checkPeriod(q);
  // Summed per department in SQL: each row's userId is the department's id (null: no department).
  const { people, rows } = await personPeriods(db, viewer, q, 'department');
  const headcount = new Map<number | null, number>();
  const zoneOf = new Map<number | null, string>();
  for (const p of people) {
    headcount.set(p.departmentId, (headcount.get(p.departmentId) ?? 0) + 1);
    if (!zoneOf.has(p.departmentId)) zoneOf.set(p.departmentId, p.timeZone);
  }
  const ids = [...headcount.keys()].filter((id): id is number => id !== null);
  const names = new Map(
    ids.length ? (await db.select({ id: departments.id, name: departments.name }).from(departments).where(inArray(departments.id, ids))).map((d) => [d.id, d.name]) : [],
  );
  const groups = new Map<string, { departmentId: number | null; period: string | null; timeZone: string; sums: Sums }>();
  const groupOf = (departmentId: number | null, period: string | null, timeZone: string) => {
    const key = `${departmentId}|${period}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { departmentId, period, timeZone, sums: emptySums() }));
    return g;
  };
  for (const r of rows) {
    const timeZone = zoneOf.get(r.userId);
    if (timeZone !== undefined) addSums(groupOf(r.userId, r.period, timeZone).sums, r.sums);
  }
  if (q.groupBy === 'total') for (const [departmentId, timeZone] of zoneOf) groupOf(departmentId, null, timeZone);
  return [...groups.values()]
    .map((g) => ({
      departmentId: g.departmentId,
      name: g.departmentId === null ? 'Без отдела / No department' : names.get(g.departmentId) ?? String(g.departmentId),
      timeZone: g.timeZone,
      period: g.period,
      people: headcount.get(g.departmentId) ?? 0,
      figures: derive(g.sums),
    }))
    .sort((a, b) => (a.period ?? '').localeCompare(b.period ?? '') || a.name.localeCompare(b.name));
}
