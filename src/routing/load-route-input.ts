import type pg from 'pg';
import type { WeeklySchedule } from './business-hours.js';
import type { RouteClient, RouteDepartment, RouteOwner, TriedStep } from './types.js';

export interface RouteFacts {
  clients: RouteClient[];
  owners: RouteOwner[];
  didDepartment: RouteDepartment | null;
  ownerDepartments: RouteDepartment[];
  alreadyTried: TriedStep[];
}

interface DepartmentRow {
  id: number;
  name: string;
  line_kind: 'queue' | 'dial';
  line_target: string;
  voicemail_box: string | null;
  business_hours: WeeklySchedule | null;
  time_zone: string;
}

// Everything one routing step needs, in ONE round trip, for a whole batch of requests: this runs
// for every ring of every inbound call and its latency is the caller's silence. On this kind of
// machine the socket write of a query costs more CPU than a whole bare HTTP request (see
// BENCHMARKS.md), so requests that arrive together share one query (createRouteFactsLoader).
// Each request is one row of the unnest; LATERAL subqueries answer it. A named statement is
// parsed and planned once per connection. The LIMIT on clients guards against a number shared by
// thousands of records (a company switchboard number typed into every card): only the most
// recent matter. Earlier steps are read only from step 2 on.
const ROUTE_FACTS_SQL = {
  name: 'switchboard-route-facts-batch',
  text: `
select r.idx, m.clients, o.owners, dd.did_department, od.owner_departments, t.tried
from unnest($1::text[], $2::text[], $3::text[], $4::int[]) with ordinality as r(caller, did, linkedid, step, idx)
left join lateral (
  select coalesce(json_agg(x), '[]'::json) as clients, array_agg(x.owner_id) as owner_ids from (
    select c.id, c.name, c.owner_id, c.last_activity_at
    from client_phones p join clients c on c.id = p.client_id
    where p.phone = r.caller
    order by c.last_activity_at desc nulls last, c.id
    limit 20) x
) m on true
left join lateral (
  select coalesce(json_agg(u), '[]'::json) as owners, array_agg(u.department_id) as department_ids from (
    select u.id, u.name, u.extension, u.mobile, u.presence, u.absent_rule, u.department_id
    from users u where u.active and u.id = any(m.owner_ids)) u
) o on true
left join lateral (
  select row_to_json(d) as did_department from departments d
  where d.id = coalesce((select department_id from department_dids where did = r.did), (select id from departments where name = $5))
) dd on true
left join lateral (
  select coalesce(json_agg(d), '[]'::json) as owner_departments from departments d where d.id = any(o.department_ids)
) od on true
left join lateral (
  select coalesce(json_agg(x order by x.step), '[]'::json) as tried from (
    select step, reason, action from route_decisions where r.step > 1 and linkedid = r.linkedid) x
) t on true`,
};

export interface RouteFactsQuery {
  caller: string | null;
  did: string;
  linkedid: string;
  step: number;
}

interface FactsRow {
  idx: string;
  clients: Array<{ id: number; name: string; owner_id: number | null; last_activity_at: string | null }>;
  owners: Array<{ id: number; name: string; extension: string | null; mobile: string | null; presence: RouteOwner['presence']; absent_rule: RouteOwner['absentRule']; department_id: number | null }>;
  did_department: DepartmentRow | null;
  owner_departments: DepartmentRow[];
  tried: TriedStep[];
}

export async function loadRouteFactsBatch(pool: pg.Pool, defaultDepartment: string, queries: readonly RouteFactsQuery[]): Promise<RouteFacts[]> {
  const { rows } = await pool.query<FactsRow>({
    ...ROUTE_FACTS_SQL,
    values: [queries.map((q) => q.caller), queries.map((q) => q.did), queries.map((q) => q.linkedid), queries.map((q) => q.step), defaultDepartment],
  });
  const facts = new Array<RouteFacts>(queries.length);
  for (const row of rows) facts[Number(row.idx) - 1] = toFacts(row);
  return facts;
}

function toFacts(row: FactsRow): RouteFacts {
  return {
    clients: row.clients.map((c) => ({ id: c.id, name: c.name, ownerId: c.owner_id, lastActivityAt: c.last_activity_at ? new Date(c.last_activity_at) : null })),
    owners: row.owners.map((u) => ({
      id: u.id,
      name: u.name,
      extension: u.extension,
      mobile: u.mobile,
      presence: u.presence,
      absentRule: u.absent_rule,
      departmentId: u.department_id,
    })),
    didDepartment: row.did_department ? toRouteDepartment(row.did_department) : null,
    ownerDepartments: row.owner_departments.map(toRouteDepartment),
    alreadyTried: row.tried,
  };
}

const MAX_BATCH = 64;

/**
 * Coalesces the route-facts lookups that arrive in the same turn of the event loop into one
 * query (at most 64 per query). A lone request waits for nothing but a setImmediate; under load,
 * 32 concurrent calls cost one round trip instead of 32.
 */
export function createRouteFactsLoader(pool: pg.Pool, defaultDepartment: string) {
  let pending: Array<{ query: RouteFactsQuery; resolve: (f: RouteFacts) => void; reject: (e: unknown) => void }> = [];
  let scheduled = false;

  const flush = () => {
    scheduled = false;
    while (pending.length > 0) {
      const batch = pending.slice(0, MAX_BATCH);
      pending = pending.slice(batch.length);
      loadRouteFactsBatch(pool, defaultDepartment, batch.map((b) => b.query)).then(
        (facts) => batch.forEach((b, i) => b.resolve(facts[i]!)),
        (err: unknown) => batch.forEach((b) => b.reject(err)),
      );
    }
  };

  return (query: RouteFactsQuery): Promise<RouteFacts> =>
    new Promise((resolve, reject) => {
      pending.push({ query, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

export function toRouteDepartment(d: DepartmentRow): RouteDepartment {
  return {
    id: d.id,
    name: d.name,
    line: d.line_kind === 'queue' ? { kind: 'queue', queue: d.line_target } : { kind: 'dial', dial: d.line_target },
    voicemailBox: d.voicemail_box,
    businessHours: d.business_hours,
    timeZone: d.time_zone,
  };
}

/** Every department with its DIDs: the fallback table used when the database stops answering. */
export async function loadDepartmentDirectory(pool: pg.Pool): Promise<{ byDid: Map<string, RouteDepartment>; byName: Map<string, RouteDepartment> }> {
  const { rows } = await pool.query<DepartmentRow & { dids: string[] }>(
    `select d.*, coalesce(array_agg(dd.did) filter (where dd.did is not null), '{}') as dids
     from departments d left join department_dids dd on dd.department_id = d.id group by d.id`,
  );
  const byDid = new Map<string, RouteDepartment>();
  const byName = new Map<string, RouteDepartment>();
  for (const row of rows) {
    const department = toRouteDepartment(row);
    byName.set(row.name, department);
    for (const did of row.dids) byDid.set(did, department);
  }
  return { byDid, byName };
}
