import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { clients } from '../../src/clients/clients.table.js';
import { deals } from '../../src/deals/deals.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { changeHistory } from '../../src/history/history.table.js';
import { reminders } from '../../src/reminders/reminders.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

type U = { id: number; token: string };
let t: TestApp;
let dep: number;
let director: U;
let curator: U;
let otherCurator: U;
let heir: U;
let outsider: U;
let seq = 0;

const department = async (name: string) =>
  (await t.database.db.insert(departments).values({ name, lineKind: 'queue', lineTarget: 'q' }).returning({ id: departments.id }))[0]!.id;

beforeAll(async () => {
  t = await createTestApp();
  dep = await department('Sales');
  const dep2 = await department('Support');
  director = await createUser(t, { role: 'director' });
  curator = await createUser(t, { role: 'curator', departmentId: dep });
  otherCurator = await createUser(t, { role: 'curator', departmentId: dep2 });
  heir = await createUser(t, { role: 'manager', departmentId: dep });
  outsider = await createUser(t, { role: 'manager', departmentId: dep2 });
});
afterAll(() => t.close());

/** A manager with two clients, an open and a completed deal, an open reminder, an open callback and a done reminder. */
async function leaverWithABook() {
  const leaver = await createUser(t, { role: 'manager', departmentId: dep });
  const ids: number[] = [];
  for (let i = 0; i < 2; i++) {
    const res = await t.app.inject({ method: 'POST', url: '/api/clients', headers: bearer(leaver.token), payload: { name: `Book ${++seq}`, phones: [`+7 916 500 ${String(1000 + seq)}`] } });
    expect(res.statusCode, res.body).toBe(201);
    ids.push(res.json().id);
  }
  const { rows: dealRows } = await t.database.pool.query(
    `insert into deals (client_id, title, owner_id, status) values ($1, 'Order', $2, 'interest'), ($1, 'Done', $2, 'completed') returning id`,
    [ids[0], leaver.id],
  );
  const due = new Date(Date.now() + 3_600_000);
  const [open, callback, done] = await t.database.db
    .insert(reminders)
    .values([
      { kind: 'reminder', userId: leaver.id, departmentId: dep, clientId: ids[0], dueAt: due, note: 'call back' },
      { kind: 'callback', userId: leaver.id, departmentId: dep, clientId: ids[1], dueAt: due, note: 'missed call' },
      { kind: 'reminder', userId: leaver.id, departmentId: dep, clientId: ids[1], dueAt: due, status: 'done' },
    ])
    .returning({ id: reminders.id });
  return { leaver, clientIds: ids, open: open!.id, callback: callback!.id, done: done!.id, openDeal: dealRows[0].id as number, closedDeal: dealRows[1].id as number };
}

const handover = (token: string, fromId: number, toUserId: number) =>
  t.app.inject({ method: 'POST', url: `/api/users/${fromId}/handover`, headers: bearer(token), payload: { toUserId } });

describe('POST /api/users/:id/handover', () => {
  it('moves clients, their deals, open reminders and callbacks to the heir, with history rows by the curator', async () => {
    const book = await leaverWithABook();
    const res = await handover(curator.token, book.leaver.id, heir.id);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ clients: 2, deals: 1, reminders: 1, callbacks: 1 });
    const owners = await t.database.db.select({ ownerId: clients.ownerId }).from(clients).where(inArray(clients.id, book.clientIds));
    expect(owners.map((o) => o.ownerId)).toEqual([heir.id, heir.id]);
    const rows = await t.database.db.select({ id: reminders.id, userId: reminders.userId }).from(reminders).where(inArray(reminders.id, [book.open, book.callback, book.done]));
    expect(Object.fromEntries(rows.map((r) => [r.id, r.userId]))).toEqual({ [book.open]: heir.id, [book.callback]: heir.id, [book.done]: book.leaver.id });
    const dealOwners = await t.database.db.select({ id: deals.id, ownerId: deals.ownerId }).from(deals).where(inArray(deals.id, [book.openDeal, book.closedDeal]));
    // The completed deal stays credited to who worked it.
    expect(Object.fromEntries(dealOwners.map((d) => [d.id, d.ownerId]))).toEqual({ [book.openDeal]: heir.id, [book.closedDeal]: book.leaver.id });
    const history = await t.database.db
      .select()
      .from(changeHistory)
      .where(and(eq(changeHistory.tableName, 'clients'), inArray(changeHistory.clientId, book.clientIds), eq(changeHistory.op, 'update')));
    expect(history).toHaveLength(2);
    for (const h of history) {
      expect(h).toMatchObject({ actorId: curator.id, via: 'api', changes: { owner_id: { old: book.leaver.id, new: heir.id } } });
    }
    const [audit] = await t.database.db.select().from(auditLog).where(and(eq(auditLog.action, 'user.handover'), eq(auditLog.entityId, String(book.leaver.id))));
    expect(audit).toMatchObject({ actorId: curator.id, details: { toUserId: heir.id, clients: 2 } });
  });

  it('is all or nothing: a failure half-way leaves every client with the leaver and no history', async () => {
    const book = await leaverWithABook();
    // The last step (moving the reminders) fails inside PostgreSQL, after the clients were moved.
    await t.database.pool.query(`
      create function refuse_handover() returns trigger language plpgsql as $$ begin raise exception 'disk full'; end $$;
      create trigger refuse_handover before update on reminders for each row when (new.user_id = ${director.id}) execute function refuse_handover();`);
    try {
      const res = await handover(director.token, book.leaver.id, director.id);
      expect(res.statusCode).toBe(500);
    } finally {
      await t.database.pool.query('drop trigger refuse_handover on reminders; drop function refuse_handover()');
    }
    const owners = await t.database.db.select({ ownerId: clients.ownerId }).from(clients).where(inArray(clients.id, book.clientIds));
    expect(owners.map((o) => o.ownerId)).toEqual([book.leaver.id, book.leaver.id]);
    const history = await t.database.db.select().from(changeHistory).where(and(inArray(changeHistory.clientId, book.clientIds), eq(changeHistory.op, 'update')));
    expect(history).toEqual([]);
  });

  it('refuses what the viewer may not do: 404 for a user they cannot see, 403 outside their department', async () => {
    const book = await leaverWithABook();
    expect((await handover(otherCurator.token, book.leaver.id, outsider.id)).statusCode).toBe(404);
    expect((await handover(curator.token, book.leaver.id, outsider.id)).statusCode).toBe(404);
    const toOtherDep = await handover(director.token, book.leaver.id, outsider.id);
    expect(toOtherDep.statusCode, toOtherDep.body).toBe(200); // a director moves across departments
    expect((await handover(heir.token, outsider.id, heir.id)).statusCode).toBe(404);
    expect((await handover(heir.token, heir.id, heir.id)).statusCode).toBe(400);
    // A curator runs managers and assistants, not a fellow curator.
    const peer = await createUser(t, { role: 'curator', departmentId: dep });
    expect((await handover(curator.token, peer.id, heir.id)).statusCode).toBe(403);
    const disabled = await createUser(t, { role: 'manager', departmentId: dep });
    await t.database.pool.query('update users set active = false where id = $1', [disabled.id]);
    const res = await handover(curator.token, heir.id, disabled.id);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/toUserId: user \d+ is disabled/);
  });
});
