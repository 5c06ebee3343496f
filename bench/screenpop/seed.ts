import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';

// The screen-pop benchmark's data: users with extensions and tokens who all watch one department,
// each owning a client with a full card, and fired department reminders for the fan-out.

export interface Seeded {
  departmentId: number;
  /** Index i: extension, user id, token, and the caller number of the client that user owns. */
  users: Array<{ id: number; extension: string; token: string; clientNumber: string }>;
  did: string;
}

export const FIRST_EXTENSION = 1000;
export const DEPARTMENT_NAME = 'Bench screen-pop';

/**
 * `count` users, all curators of one department (so a frame for that department's supervisors
 * reaches every one of them: the fan-out path), each with an extension (1000…), a bearer token
 * (stored as sha256 hex, as src/auth/tokens.ts issues them), and one client with a phone, an
 * open deal and a note, so every pop carries a full client card.
 */
export async function seed(client: pg.Client, count: number): Promise<Seeded> {
  const did = '74951110001';
  const dep = await client.query<{ id: number }>(
    `insert into departments (name, line_kind, line_target) values ($1, 'queue', 'sales') returning id`,
    [DEPARTMENT_NAME],
  );
  const departmentId = dep.rows[0]!.id;
  await client.query('insert into department_dids (did, department_id) values ($1, $2)', [`+${did}`, departmentId]);
  await client.query(
    `insert into users (login, name, password_hash, role, department_id, extension, presence)
     select 'sp' || i, 'Screen ' || i, 'not-used', 'curator', $1, ($2 + i - 1)::text, 'available' from generate_series(1, $3::int) i`,
    [departmentId, FIRST_EXTENSION, count],
  );
  const { rows } = await client.query<{ id: number; extension: string }>(
    'select id, extension from users where department_id = $1 order by extension::int',
    [departmentId],
  );
  const tokens = rows.map(() => randomBytes(32).toString('base64url'));
  await client.query(
    `insert into auth_tokens (user_id, token_hash, expires_at)
     select u, h, now() + interval '1 day' from unnest($1::int[], $2::text[]) as t(u, h)`,
    [rows.map((r) => r.id), tokens.map((t) => createHash('sha256').update(t).digest('hex'))],
  );
  // Client i is owned by user i and calls from +7 916 <extension padded>.
  const numbers = rows.map((r) => `+7916${r.extension.padStart(7, '0')}`);
  await client.query(
    `with c as (
       insert into clients (name, company, owner_id, last_activity_at)
       select 'Client of ' || u, 'Company ' || u, u, now() - interval '1 day' from unnest($1::int[]) as t(u)
       returning id, owner_id)
     insert into client_phones (client_id, phone, raw)
     select c.id, n.phone, n.phone from c join unnest($1::int[], $2::text[]) as n(u, phone) on n.u = c.owner_id`,
    [rows.map((r) => r.id), numbers],
  );
  await client.query(`insert into deals (client_id, title, status, amount) select id, 'Deal for ' || name, 'collecting_info', 125000 from clients`);
  await client.query(`insert into client_notes (client_id, author_id, text) select id, owner_id, 'Asked for a quote last week' from clients`);
  await client.query('vacuum analyze');
  return {
    departmentId,
    did,
    users: rows.map((r, i) => ({ id: r.id, extension: r.extension, token: tokens[i]!, clientNumber: numbers[i]! })),
  };
}

/** `count` reminders of the department list (no owner), already fired: what a `reminder.ack` applies to. */
export async function insertFiredDepartmentReminders(client: pg.Client, departmentId: number, count: number): Promise<number[]> {
  const { rows } = await client.query<{ id: string }>(
    `insert into reminders (kind, user_id, department_id, due_at, note, status, fired_at)
     select 'reminder', null, $1, now(), 'bench fan-out ' || i, 'fired', now() from generate_series(1, $2::int) i
     returning id`,
    [departmentId, count],
  );
  return rows.map((r) => Number(r.id));
}
