import { and, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm';
import { recordAudit, type Actor } from '../audit/audit.js';
import type { Viewer } from '../auth/viewer.js';
import { visibleClients } from '../clients/clients.service.js';
import { clients } from '../clients/clients.table.js';
import type { Db } from '../db/client.js';
import { loadVisibleDeal } from '../deals/deals.service.js';
import { deals } from '../deals/deals.table.js';
import { AppError } from '../errors.js';
import { getUser } from '../users/users.service.js';
import { users } from '../users/users.table.js';
import type { HistoryEntry, HistoryFilter } from './history.schemas.js';
import { changeHistory } from './history.table.js';

type Page = { items: HistoryEntry[]; nextBefore: number | null };

async function page(db: Db, where: SQL | undefined, filter: HistoryFilter): Promise<Page> {
  const rows = await db
    .select({
      id: changeHistory.id,
      at: changeHistory.at,
      table: changeHistory.tableName,
      rowId: changeHistory.rowId,
      op: changeHistory.op,
      actorId: changeHistory.actorId,
      actorName: users.name,
      dbUser: changeHistory.dbUser,
      via: changeHistory.via,
      importId: changeHistory.importId,
      changes: changeHistory.changes,
    })
    .from(changeHistory)
    .leftJoin(users, eq(users.id, changeHistory.actorId))
    .where(and(where, filter.before !== undefined ? lt(changeHistory.id, filter.before) : undefined))
    .orderBy(desc(changeHistory.id))
    .limit(filter.limit + 1);
  const items = rows.slice(0, filter.limit) as HistoryEntry[];
  return { items, nextBefore: rows.length > filter.limit ? items.at(-1)!.id : null };
}

/** 404 unless the client exists and the viewer sees it (auth/access.ts, via visibleClients). */
async function assertClientVisible(db: Db, viewer: Viewer, id: number): Promise<void> {
  const [row] = await db.select({ id: clients.id }).from(clients).where(and(eq(clients.id, id), visibleClients(db, viewer)));
  if (!row) throw new AppError('NOT_FOUND', `client ${id} does not exist`);
}

/**
 * A client's history with its phones, notes and deals (the trigger copies client_id onto each
 * row) and whatever hangs on its deals (deal_id: files, status changes once they are tracked).
 * Old and new values are personal data: reading them is audited like the card.
 */
export async function clientHistory(db: Db, actor: Actor, viewer: Viewer, id: number, filter: HistoryFilter): Promise<Page> {
  await assertClientVisible(db, viewer, id);
  await recordAudit(db, { ...actor, action: 'client.history', entity: 'client', entityId: id });
  const ofDeals = db.select({ id: deals.id }).from(deals).where(eq(deals.clientId, id));
  return page(db, or(eq(changeHistory.clientId, id), inArray(changeHistory.dealId, ofDeals)), filter);
}

/** A deal is seen by whoever sees its client (deals.service.ts, dealScope). */
export async function dealHistory(db: Db, actor: Actor, viewer: Viewer, id: number, filter: HistoryFilter): Promise<Page> {
  await loadVisibleDeal(db, viewer, id);
  await recordAudit(db, { ...actor, action: 'deal.history', entity: 'deal', entityId: id });
  return page(db, eq(changeHistory.dealId, id), filter);
}

/** The changes to a user's own record (role, department, active, …); 404 when not visible. */
export async function userHistory(db: Db, viewer: Viewer, id: number, filter: HistoryFilter): Promise<Page> {
  await getUser(db, viewer, id);
  return page(db, and(eq(changeHistory.tableName, 'users'), eq(changeHistory.rowId, String(id))), filter);
}
