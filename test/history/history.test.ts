import { and, eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { departments } from '../../src/departments/departments.table.js';
import { changeHistory } from '../../src/history/history.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

type U = { id: number; token: string };
let t: TestApp;
let dep: number;
let director: U;
let manager1: U;
let manager2: U;
let seq = 0;

beforeAll(async () => {
  t = await createTestApp();
  [{ id: dep }] = (await t.database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'q' }).returning({ id: departments.id })) as [{ id: number }];
  director = await createUser(t, { role: 'director' });
  manager1 = await createUser(t, { role: 'manager', departmentId: dep });
  manager2 = await createUser(t, { role: 'manager', departmentId: dep });
});
afterAll(() => t.close());

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) =>
  t.app.inject({ method, url, headers: bearer(token), ...(payload && { payload }) });
const createClient = async (token: string) => {
  const res = await call('POST', '/api/clients', token, { name: `Client ${++seq}`, phones: [`+7 916 300 00 ${String(10 + seq)}`] });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: number; name: string };
};
const historyOf = async (url: string, token: string) => {
  const res = await call('GET', url, token);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: Array<{ table: string; op: string; actorId: number | null; via: string; dbUser: string; changes: Record<string, any> }>; nextBefore: number | null };
};

describe('field-level history', () => {
  it('records an API change with its actor, channel and old/new value per field, without noisy columns', async () => {
    const client = await createClient(manager1.token);
    const res = await call('PATCH', `/api/clients/${client.id}`, manager1.token, { name: 'Renamed', company: 'Romashka' });
    expect(res.statusCode, res.body).toBe(200);
    const { items } = await historyOf(`/api/clients/${client.id}/history`, manager1.token);
    const update = items.find((i) => i.table === 'clients' && i.op === 'update')!;
    expect(update).toMatchObject({ actorId: manager1.id, via: 'api' });
    expect(update.changes).toEqual({ name: { old: client.name, new: 'Renamed' }, company: { old: null, new: 'Romashka' } });
    // The create of the client and of its phone are there too, by the same person.
    expect(items.filter((i) => i.op === 'insert').map((i) => i.table).sort()).toEqual(['client_phones', 'clients']);
    expect(items.every((i) => i.actorId === manager1.id && i.via === 'api')).toBe(true);
  });

  it('records a change made in psql, outside the service, as via=psql by the database user', async () => {
    const client = await createClient(manager1.token);
    const psql = new pg.Client({ connectionString: t.database.url, application_name: 'psql' });
    await psql.connect();
    try {
      await psql.query(`update clients set name = 'Typed in psql', updated_at = now() where id = $1`, [client.id]);
    } finally {
      await psql.end();
    }
    const [row] = await t.database.db
      .select()
      .from(changeHistory)
      .where(and(eq(changeHistory.tableName, 'clients'), eq(changeHistory.rowId, String(client.id)), eq(changeHistory.op, 'update')));
    expect(row).toMatchObject({ via: 'psql', actorId: null, clientId: client.id, changes: { name: { old: client.name, new: 'Typed in psql' } } });
    expect(row!.dbUser.length).toBeGreaterThan(0);
  });

  it('records the service\'s own writes without a person as via=system, and leaves no actor on a pooled connection', async () => {
    const client = await createClient(manager1.token);
    // Several writes through the service's pool after API requests: none may inherit their actor.
    for (let i = 0; i < 5; i++) await t.database.pool.query(`update clients set company = $2 where id = $1`, [client.id, `Sweep ${i}`]);
    const rows = await t.database.db
      .select()
      .from(changeHistory)
      .where(and(eq(changeHistory.tableName, 'clients'), eq(changeHistory.rowId, String(client.id)), eq(changeHistory.op, 'update')));
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.via === 'system' && r.actorId === null)).toBe(true);
  });

  it('includes the client\'s notes and deals, and a deal has its own history', async () => {
    const client = await createClient(manager1.token);
    await t.database.pool.query(`insert into client_notes (client_id, author_id, text) values ($1, $2, 'called, no answer')`, [client.id, manager1.id]);
    const { rows } = await t.database.pool.query(`insert into deals (client_id, title) values ($1, 'Big order') returning id`, [client.id]);
    const dealId = rows[0].id as number;
    await t.database.pool.query(`update deals set status = 'proposal_sent' where id = $1`, [dealId]);
    const { items } = await historyOf(`/api/clients/${client.id}/history`, manager1.token);
    expect(items.map((i) => i.table)).toEqual(expect.arrayContaining(['client_notes', 'deals', 'client_phones', 'clients']));
    const deal = await historyOf(`/api/deals/${dealId}/history`, manager1.token);
    expect(deal.items.map((i) => i.op)).toEqual(['update', 'insert']);
    expect(deal.items[0]!.changes).toEqual({ status: { old: 'new', new: 'proposal_sent' } });
  });

  it('records the later tables (contacts, deals) written through the API with their actor', async () => {
    const client = await createClient(manager1.token);
    const contact = await call('POST', `/api/clients/${client.id}/contacts`, manager1.token, { name: 'Olga', position: 'Buyer' });
    expect(contact.statusCode, contact.body).toBe(201);
    const deal = await call('POST', '/api/deals', manager1.token, { clientId: client.id, title: 'Pilot' });
    expect(deal.statusCode, deal.body).toBe(201);
    const moved = await call('POST', `/api/deals/${deal.json().id}/status`, manager1.token, { status: 'interest' });
    expect(moved.statusCode, moved.body).toBe(200);
    const { items } = await historyOf(`/api/clients/${client.id}/history`, manager1.token);
    expect(items.find((i) => i.table === 'client_contacts')).toMatchObject({ op: 'insert', actorId: manager1.id, via: 'api', changes: { name: { new: 'Olga' } } });
    expect(items.find((i) => i.table === 'deals' && i.op === 'update')).toMatchObject({ actorId: manager1.id, via: 'api', changes: { status: { old: 'new', new: 'interest' } } });
  });

  it('answers 404 to a viewer who may not see the client, deal or user', async () => {
    const client = await createClient(manager1.token);
    const { rows } = await t.database.pool.query(`insert into deals (client_id, title) values ($1, 'Hidden') returning id`, [client.id]);
    for (const url of [`/api/clients/${client.id}/history`, `/api/deals/${rows[0].id}/history`, `/api/users/${manager1.id}/history`]) {
      const res = await call('GET', url, manager2.token);
      expect(res.statusCode, url).toBe(404);
    }
    expect((await call('GET', `/api/clients/${client.id}/history`, director.token)).statusCode).toBe(200);
  });

  it('keeps that a password changed, never the hash', async () => {
    // A new password ends the user's sessions: a user of this test alone.
    const anna = await createUser(t, { role: 'manager', departmentId: dep });
    const res = await call('PATCH', `/api/users/${anna.id}`, director.token, { password: 'a brand new password 1', name: 'Anna P.' });
    expect(res.statusCode, res.body).toBe(200);
    const { items } = await historyOf(`/api/users/${anna.id}/history`, director.token);
    expect(items[0]).toMatchObject({ actorId: director.id, via: 'api', changes: { password_hash: { changed: true }, name: { new: 'Anna P.' } } });
    const { rows } = await t.database.pool.query(`select changes::text from change_history where table_name = 'users'`);
    const everything = rows.map((r) => r.changes as string).join('\n');
    expect(everything).toContain('password_hash');
    expect(everything).not.toMatch(/\$argon2/);
  });

  it('records a TRUNCATE of a tracked table', async () => {
    await t.database.pool.query('create table scratch (id int, secret text)');
    await t.database.pool.query(`select history_track('scratch')`);
    await t.database.pool.query(`insert into scratch values (1, 'hunter2')`);
    await t.database.pool.query('truncate scratch');
    const rows = await t.database.db.select().from(changeHistory).where(eq(changeHistory.tableName, 'scratch'));
    expect(rows.map((r) => [r.op, r.rowId, r.changes])).toEqual([
      ['insert', '1', { id: { new: 1 }, secret: { changed: true } }],
      ['truncate', null, {}],
    ]);
  });

  it('writes the same rows set-wise for an import (history_bulk, migration 0019) as the row trigger does', async () => {
    // The same inserts, updates and deletes on a tracked table, once per path; a secret column,
    // an ignored one, nulls, arrays and a no-op update included.
    await t.database.pool.query('create table scratch_bulk (id int primary key, client_id int, name text, tags text[], secret text, noise int, at timestamptz)');
    await t.database.pool.query(`select history_track_bulk('scratch_bulk', '{noise}', '{secret}')`);
    const run = async (bulk: boolean, base: number) => {
      const c = await t.database.pool.connect();
      try {
        await c.query('begin');
        await c.query(`select set_config('switchboard.actor_id', $1, true), set_config('switchboard.via', 'import', true), set_config('switchboard.import_id', '7', true), set_config('switchboard.history_bulk', $2, true)`, [String(director.id), bulk ? 'on' : '']);
        await c.query(`insert into scratch_bulk select $1::int + g, g, 'n' || g, case when g = 2 then null else array['a', null] end, 's', g, '2026-01-02T03:04:05Z' from generate_series(1, 3) g`, [base]);
        await c.query(`update scratch_bulk set name = case when id = $1::int + 1 then 'renamed' else name end, secret = case when id = $1::int + 2 then 't' else secret end, noise = noise + 1 where id > $1::int and id <= $1::int + 3`, [base]);
        await c.query(`delete from scratch_bulk where id = $1::int + 3`, [base]);
        await c.query('commit');
      } finally {
        c.release();
      }
      const { rows } = await t.database.pool.query(
        `select op, (row_id::int - $1::int) as row, actor_id, via, import_id, client_id, changes - 'id' as changes from change_history where table_name = 'scratch_bulk' and row_id::int > $1::int and row_id::int <= $1::int + 3 order by id`,
        [base],
      );
      return rows;
    };
    const byRow = await run(false, 0);
    const bySet = await run(true, 100);
    expect(byRow.map((r) => r.op)).toEqual(['insert', 'insert', 'insert', 'update', 'update', 'delete']);
    expect(byRow[3]).toMatchObject({ changes: { name: { old: 'n1', new: 'renamed' } }, actor_id: director.id, via: 'import', import_id: 7 });
    expect(byRow[4].changes).toEqual({ secret: { changed: true } });
    expect(bySet).toEqual(byRow);
  });

  it('cannot be edited or emptied, even from psql', async () => {
    for (const statement of ['update change_history set actor_id = null', 'delete from change_history', 'truncate change_history']) {
      await expect(t.database.pool.query(statement), statement).rejects.toThrow(/append-only/);
    }
  });

  it('pages newest first with a keyset', async () => {
    const client = await createClient(manager1.token);
    for (const name of ['a', 'b', 'c']) await call('PATCH', `/api/clients/${client.id}`, manager1.token, { name });
    const first = await historyOf(`/api/clients/${client.id}/history?limit=2`, manager1.token);
    expect(first.items.map((i) => i.changes.name?.new)).toEqual(['c', 'b']);
    const second = await historyOf(`/api/clients/${client.id}/history?limit=2&before=${first.nextBefore}`, manager1.token);
    expect(second.items.map((i) => `${i.table}.${i.op}:${i.changes.name?.new ?? ''}`)).toEqual(['clients.update:a', 'client_phones.insert:']);
    const last = await historyOf(`/api/clients/${client.id}/history?limit=2&before=${second.nextBefore}`, manager1.token);
    expect(last.items.map((i) => `${i.table}.${i.op}:${i.changes.name?.new}`)).toEqual([`clients.insert:${client.name}`]);
    expect(last.nextBefore).toBeNull();
  });
});
