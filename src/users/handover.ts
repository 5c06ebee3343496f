import { and, eq, inArray } from 'drizzle-orm';
import { handoverDenial } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { clients } from '../clients/clients.table.js';
import type { Db } from '../db/client.js';
import { deals, OPEN_DEAL_STATUSES } from '../deals/deals.table.js';
import { AppError } from '../errors.js';
import { withActor } from '../history/with-actor.js';
import { OPEN_STATUSES } from '../reminders/reminder-rules.js';
import { reminders } from '../reminders/reminders.table.js';
import { getUser } from './users.service.js';
import { users } from './users.table.js';

export interface HandoverResult {
  clients: number;
  deals: number;
  reminders: number;
  callbacks: number;
}

/**
 * Gives everything a leaving employee owns to another: clients, open deals, open reminders and
 * callbacks. One transaction,
 * so nothing stays behind half-moved; each moved row lands in the change history with the viewer
 * as actor (migration 0010 triggers).
 */
export async function handOver(db: Db, actor: Actor, viewer: Viewer, fromId: number, toId: number): Promise<HandoverResult> {
  return withActor(db, viewer, 'api', async (tx) => {
    // Not visible is 404 for either side, as everywhere (auth/access.ts).
    const from = await getUser(tx, viewer, fromId);
    const to = await getUser(tx, viewer, toId);
    const denial = handoverDenial(viewer, from, to);
    if (denial) throw new AppError(denial.code, denial.message);
    // Locks both: the heir cannot be disabled, nor the leaver given new clients, half-way through.
    await tx.select({ id: users.id }).from(users).where(inArray(users.id, [from.id, to.id])).orderBy(users.id).for('update');

    const moved = await tx.update(clients).set({ ownerId: to.id, updatedAt: new Date() }).where(eq(clients.ownerId, from.id)).returning({ id: clients.id });
    // Open deals only: a completed or refused deal stays with whoever worked it, so the
    // statistics keep crediting the right person.
    const movedDeals = await tx
      .update(deals)
      .set({ ownerId: to.id, updatedAt: new Date() })
      .where(and(eq(deals.ownerId, from.id), inArray(deals.status, [...OPEN_DEAL_STATUSES])))
      .returning({ id: deals.id });
    const open = await tx
      .update(reminders)
      // The department goes with the person: the heir's curator is the one who sees it now.
      .set({ userId: to.id, departmentId: to.departmentId, updatedAt: new Date() })
      .where(and(eq(reminders.userId, from.id), inArray(reminders.status, [...OPEN_STATUSES])))
      .returning({ kind: reminders.kind });
    const result: HandoverResult = {
      clients: moved.length,
      deals: movedDeals.length,
      reminders: open.filter((r) => r.kind === 'reminder').length,
      callbacks: open.filter((r) => r.kind === 'callback').length,
    };
    await recordAudit(tx, { ...actor, action: 'user.handover', entity: 'user', entityId: from.id, details: { toUserId: to.id, ...result } });
    return result;
  });
}
