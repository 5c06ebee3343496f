// Reading the routing facts back from PostgreSQL: everything at once (start, reconnect, TRUNCATE)
// or the rows named by change notifications. Each query serves both: `ids` null means all.
import type pg from 'pg';
import type { WeeklySchedule } from '../business-hours.js';
import type { RouteDepartment } from '../types.js';
import type { DirectoryClient, DirectoryDepartment, DirectoryUser, RoutingDirectory } from './routing-directory.js';

export type EntityKind = 'client' | 'user' | 'department';

// A contact person's numbers are rows of client_phones too (contact_id set, migration 0008): they
// map to the contact's client, so a call from a contact routes to the client's owner.
const CLIENTS_SQL = `
select c.id, c.name, c.owner_id, (extract(epoch from c.last_activity_at) * 1000)::float8 as last_activity_ms,
       coalesce((select array_agg(p.phone) from client_phones p where p.client_id = c.id), '{}') as phones
from clients c where $1::int[] is null or c.id = any($1)`;

const USERS_SQL = `
select id, name, extension, mobile, presence, absent_rule, department_id, active
from users where $1::int[] is null or id = any($1)`;

const DEPARTMENTS_SQL = `
select d.id, d.name, d.line_kind, d.line_target, d.voicemail_box, d.business_hours, d.time_zone,
       coalesce((select array_agg(x.did) from department_dids x where x.department_id = d.id), '{}') as dids
from departments d where $1::int[] is null or d.id = any($1)`;

interface ClientRow { id: number; name: string; owner_id: number | null; last_activity_ms: number | null; phones: string[] }
interface UserRow {
  id: number; name: string; extension: string | null; mobile: string | null;
  presence: DirectoryUser['presence']; absent_rule: DirectoryUser['absentRule']; department_id: number | null; active: boolean;
}
interface DepartmentRow {
  id: number; name: string; line_kind: 'queue' | 'dial'; line_target: string; voicemail_box: string | null;
  business_hours: WeeklySchedule | null; time_zone: string; dids: string[];
}

/**
 * Reads the rows of one kind (all of them when `ids` is null) and puts them into the directory;
 * an id asked for and not found was deleted and leaves the directory.
 */
export async function loadInto(directory: RoutingDirectory, client: pg.ClientBase, kind: EntityKind, ids: number[] | null): Promise<void> {
  if (kind === 'client') {
    const { rows } = await client.query<ClientRow>(CLIENTS_SQL, [ids]);
    for (const row of rows) directory.setClient(row.id, toClient(row));
    forgetMissing(ids, rows, (id) => directory.setClient(id, null));
  } else if (kind === 'user') {
    const { rows } = await client.query<UserRow>(USERS_SQL, [ids]);
    for (const row of rows) directory.setUser(row.id, toUser(row));
    forgetMissing(ids, rows, (id) => directory.setUser(id, null));
  } else {
    const { rows } = await client.query<DepartmentRow>(DEPARTMENTS_SQL, [ids]);
    for (const row of rows) directory.setDepartment(row.id, toDepartment(row));
    forgetMissing(ids, rows, (id) => directory.setDepartment(id, null));
  }
}

function forgetMissing(ids: number[] | null, rows: Array<{ id: number }>, forget: (id: number) => void): void {
  if (ids === null || rows.length === ids.length) return;
  const found = new Set(rows.map((r) => r.id));
  for (const id of ids) if (!found.has(id)) forget(id);
}

function toClient(row: ClientRow): DirectoryClient {
  return { id: row.id, name: row.name, ownerId: row.owner_id, lastActivityAt: row.last_activity_ms, phones: row.phones };
}

function toUser(row: UserRow): DirectoryUser {
  return {
    id: row.id,
    name: row.name,
    extension: row.extension,
    mobile: row.mobile,
    presence: row.presence,
    absentRule: row.absent_rule,
    departmentId: row.department_id,
    active: row.active,
  };
}

function toDepartment(row: DepartmentRow): DirectoryDepartment {
  const line: RouteDepartment['line'] = row.line_kind === 'queue' ? { kind: 'queue', queue: row.line_target } : { kind: 'dial', dial: row.line_target };
  return {
    id: row.id,
    name: row.name,
    line,
    voicemailBox: row.voicemail_box,
    businessHours: row.business_hours,
    timeZone: row.time_zone,
    dids: row.dids,
  };
}
