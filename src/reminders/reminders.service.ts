import { and, asc, count, eq, getTableColumns, inArray, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { clients } from '../clients/clients.table.js';
import { visibleClients } from '../clients/clients.service.js';
import type { Db } from '../db/client.js';
import { deals } from '../deals/deals.table.js';
import { AppError } from '../errors.js';
import { users } from '../users/users.table.js';
import { dueAtProblem, mineUserIds, OPEN_STATUSES, reminderOwnerFor, reminderScope } from './reminder-rules.js';
import type { CreateReminderInput, RemindersFilter, ReminderView } from './reminders.schemas.js';
import { reminders } from './reminders.table.js';
import { withActor } from '../history/with-actor.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
export type ReminderRow = typeof reminders.$inferSelect;

const viewColumns = { ...getTableColumns(reminders), clientName: clients.name };

/** The viewer's reminder scope as a WHERE condition (undefined = every reminder). */
export function visibleReminders(viewer: Viewer): SQL | undefined {
  const scope = reminderScope(viewer);
  if (scope.kind === 'all') return undefined;
  const parts: SQL[] = [];
  if (scope.userIds.length > 0) parts.push(inArray(reminders.userId, scope.userIds));
  if (scope.departmentIds.length > 0) parts.push(inArray(reminders.departmentId, scope.departmentIds));
  if (scope.listDepartmentIds.length > 0) parts.push(and(isNull(reminders.userId), inArray(reminders.departmentId, scope.listDepartmentIds))!);
  return parts.length > 0 ? or(...parts) : sql`false`;
}

export async function createReminder(db: Db, actor: Actor, viewer: Viewer, input: CreateReminderInput, now: Date): Promise<ReminderView> {
  const dueAt = new Date(input.dueAt);
  const problem = dueAtProblem(dueAt, now);
  if (problem) throw new AppError('VALIDATION', problem);
  const owner = reminderOwnerFor(viewer);
  if ('error' in owner) throw new AppError('FORBIDDEN', owner.error);
  return withActor(db, viewer, 'api', async (tx) => {
    const [client] = await tx
      .select({ id: clients.id, name: clients.name })
      .from(clients)
      .where(and(eq(clients.id, input.clientId), visibleClients(tx, viewer)));
    // Same answer for "no such client" and "not yours": existence is not revealed.
    if (!client) throw new AppError('NOT_FOUND', `clientId: client ${input.clientId} does not exist`);
    if (input.dealId !== undefined) {
      // The client is visible, so its deals are (access.ts dealScope): only the pairing is checked.
      const [deal] = await tx.select({ clientId: deals.clientId }).from(deals).where(eq(deals.id, input.dealId));
      if (!deal || deal.clientId !== client.id) throw new AppError('NOT_FOUND', `dealId: deal ${input.dealId} of client ${client.id} does not exist`);
    }
    const [ownerRow] = await tx.select({ departmentId: users.departmentId }).from(users).where(eq(users.id, owner.userId));
    const [row] = await tx
      .insert(reminders)
      .values({
        kind: 'reminder',
        userId: owner.userId,
        // Kept on the row so the curator's department list needs no join.
        departmentId: ownerRow?.departmentId ?? null,
        clientId: client.id,
        dealId: input.dealId ?? null,
        createdById: viewer.id,
        dueAt,
        note: input.note.trim(),
        autoDial: input.autoDial,
      })
      .returning();
    await recordAudit(tx, { ...actor, action: 'reminder.create', entity: 'reminder', entityId: row!.id, details: { clientId: client.id, dueAt: dueAt.toISOString() } });
    return { ...row!, clientName: client.name };
  });
}

export async function listReminders(db: Db, viewer: Viewer, filter: RemindersFilter): Promise<{ items: ReminderView[]; total: number }> {
  let scope: SQL | undefined;
  if (filter.scope === 'mine') {
    scope = inArray(reminders.userId, mineUserIds(viewer));
  } else if (viewer.role === 'director') {
    scope = filter.departmentId !== undefined ? eq(reminders.departmentId, filter.departmentId) : undefined;
  } else {
    if (viewer.departmentId === null) throw new AppError('FORBIDDEN', 'scope=department: you belong to no department');
    scope = viewer.role === 'curator'
      ? eq(reminders.departmentId, viewer.departmentId)
      : and(isNull(reminders.userId), eq(reminders.departmentId, viewer.departmentId));
  }
  const where = and(
    visibleReminders(viewer),
    scope,
    inArray(reminders.status, filter.status ?? [...OPEN_STATUSES]),
    filter.kind !== undefined ? eq(reminders.kind, filter.kind) : undefined,
    filter.escalated === undefined ? undefined : filter.escalated ? isNotNull(reminders.escalatedAt) : isNull(reminders.escalatedAt),
  );
  const [items, [{ total } = { total: 0 }]] = await Promise.all([
    db
      .select(viewColumns)
      .from(reminders)
      .leftJoin(clients, eq(clients.id, reminders.clientId))
      .where(where)
      .orderBy(asc(reminders.dueAt), asc(reminders.id))
      .limit(filter.limit)
      .offset(filter.offset),
    db.select({ total: count() }).from(reminders).where(where),
  ]);
  return { items, total };
}

/** The reminder if the viewer may see it; 404 otherwise, so existence is not revealed. */
export async function getReminder(db: Db | Tx, viewer: Viewer, id: number, lock = false): Promise<ReminderView> {
  const query = db
    .select(viewColumns)
    .from(reminders)
    .leftJoin(clients, eq(clients.id, reminders.clientId))
    .where(and(eq(reminders.id, id), visibleReminders(viewer)));
  const [row] = await (lock ? query.for('update', { of: reminders }) : query);
  if (!row) throw new AppError('NOT_FOUND', `reminder ${id} does not exist`);
  return row;
}

/** Moves an open reminder to a new time; a fired one becomes pending again and will fire anew. */
export async function snoozeReminder(db: Db, actor: Actor, viewer: Viewer, id: number, dueAt: Date): Promise<ReminderView> {
  return withActor(db, viewer, 'api', async (tx) => {
    const current = await getReminder(tx, viewer, id, true);
    if (!(OPEN_STATUSES as readonly string[]).includes(current.status)) {
      throw new AppError('CONFLICT', `reminder ${id} is ${current.status}; only a pending or fired reminder can be snoozed`);
    }
    const [row] = await tx
      .update(reminders)
      .set({ status: 'pending', dueAt, firedAt: null, deliveredAt: null, updatedAt: new Date() })
      .where(eq(reminders.id, id))
      .returning();
    await recordAudit(tx, { ...actor, action: 'reminder.snooze', entity: 'reminder', entityId: id, details: { dueAt: dueAt.toISOString() } });
    return { ...row!, clientName: current.clientName };
  });
}

/**
 * Completes or cancels an open reminder. Repeating the same request answers with the reminder as
 * it is (a double click is not an error); the other transition out of a closed state is a 409.
 */
export async function closeReminder(db: Db, actor: Actor, viewer: Viewer, id: number, to: 'done' | 'cancelled'): Promise<{ reminder: ReminderView; changed: boolean }> {
  return withActor(db, viewer, 'api', async (tx) => {
    const current = await getReminder(tx, viewer, id, true);
    if (current.status === to) return { reminder: current, changed: false };
    if (!(OPEN_STATUSES as readonly string[]).includes(current.status)) {
      throw new AppError('CONFLICT', `reminder ${id} is already ${current.status}`);
    }
    const now = new Date();
    const [row] = await tx
      .update(reminders)
      .set({ status: to, completedAt: now, updatedAt: now })
      .where(eq(reminders.id, id))
      .returning();
    await recordAudit(tx, { ...actor, action: to === 'done' ? 'reminder.complete' : 'reminder.cancel', entity: 'reminder', entityId: id });
    return { reminder: { ...row!, clientName: current.clientName }, changed: true };
  });
}

/** Active assistants of a manager: they receive the manager's reminders. */
export async function assistantsOf(db: Db | Tx, userId: number | null): Promise<number[]> {
  if (userId === null) return [];
  const rows = await db.select({ id: users.id }).from(users).where(and(eq(users.managerId, userId), eq(users.active, true)));
  return rows.map((r) => r.id);
}

/** Fired, open reminders nobody acknowledged yet, that this viewer's screens receive. */
export async function undeliveredFor(db: Db, viewer: Viewer, limit = 100): Promise<ReminderView[]> {
  const receives: SQL[] = [eq(reminders.userId, viewer.id)];
  if (viewer.role === 'assistant' && viewer.managerId !== null) receives.push(eq(reminders.userId, viewer.managerId));
  if (viewer.role === 'director') receives.push(isNull(reminders.userId));
  if (viewer.role === 'curator' && viewer.departmentId !== null) {
    receives.push(and(isNull(reminders.userId), eq(reminders.departmentId, viewer.departmentId))!);
  }
  return db
    .select(viewColumns)
    .from(reminders)
    .leftJoin(clients, eq(clients.id, reminders.clientId))
    .where(and(eq(reminders.status, 'fired'), isNull(reminders.deliveredAt), or(...receives)))
    .orderBy(asc(reminders.dueAt), asc(reminders.id))
    .limit(limit);
}

/** Marks a fired reminder as seen on a screen; the first acknowledgement's time is kept. */
export async function ackReminder(db: Db, viewer: Viewer, id: number): Promise<ReminderRow> {
  const [row] = await db
    .update(reminders)
    .set({ deliveredAt: sql`coalesce(${reminders.deliveredAt}, now())` })
    .where(and(eq(reminders.id, id), isNotNull(reminders.firedAt), visibleReminders(viewer)))
    .returning();
  if (!row) throw new AppError('NOT_FOUND', `reminder ${id} does not exist or has not fired`);
  return row;
}
