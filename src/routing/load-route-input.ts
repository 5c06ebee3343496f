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

// Everything one routing step needs, in ONE round trip: this runs for every ring of every
// inbound call and its latency is the caller's silence. A named statement is parsed and planned
// once per connection. The LIMIT on clients guards against a number shared by thousands of
// records (a company switchboard number typed into every card): only the most recent matter.
const ROUTE_FACTS_SQL = {
  name: 'switchboard-route-facts',
  text: `
with matched as (
  select c.id, c.name, c.owner_id, c.last_activity_at
  from client_phones p join clients c on c.id = p.client_id
  where p.phone = $1
  order by c.last_activity_at desc nulls last, c.id
  limit 20
),
owners as (
  select u.id, u.name, u.extension, u.mobile, u.presence, u.absent_rule, u.department_id
  from users u where u.active and u.id in (select owner_id from matched)
),
did_department as (
  select d.* from departments d
  where d.id = coalesce(
    (select department_id from department_dids where did = $2),
    (select id from departments where name = $3)
  )
),
owner_departments as (
  select d.* from departments d where d.id in (select department_id from owners)
),
tried as (
  select step, reason, action from route_decisions where linkedid = $4 and $5::int > 1 order by step
)
select
  (select coalesce(json_agg(matched), '[]'::json) from matched) as clients,
  (select coalesce(json_agg(owners), '[]'::json) from owners) as owners,
  (select row_to_json(did_department) from did_department) as did_department,
  (select coalesce(json_agg(owner_departments), '[]'::json) from owner_departments) as owner_departments,
  (select coalesce(json_agg(tried), '[]'::json) from tried) as tried`,
};

export async function loadRouteFacts(
  pool: pg.Pool,
  params: { caller: string | null; did: string; defaultDepartment: string; linkedid: string; step?: number },
): Promise<RouteFacts> {
  const { rows } = await pool.query({
    ...ROUTE_FACTS_SQL,
    values: [params.caller, params.did, params.defaultDepartment, params.linkedid, params.step ?? 2],
  });
  const row = rows[0];
  return {
    clients: row.clients.map((c: { id: number; name: string; owner_id: number | null; last_activity_at: string | null }) => ({
      id: c.id,
      name: c.name,
      ownerId: c.owner_id,
      lastActivityAt: c.last_activity_at ? new Date(c.last_activity_at) : null,
    })),
    owners: row.owners.map(
      (u: { id: number; name: string; extension: string | null; mobile: string | null; presence: RouteOwner['presence']; absent_rule: RouteOwner['absentRule']; department_id: number | null }) => ({
        id: u.id,
        name: u.name,
        extension: u.extension,
        mobile: u.mobile,
        presence: u.presence,
        absentRule: u.absent_rule,
        departmentId: u.department_id,
      }),
    ),
    didDepartment: row.did_department ? toRouteDepartment(row.did_department) : null,
    ownerDepartments: row.owner_departments.map(toRouteDepartment),
    alreadyTried: row.tried,
  };
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
