import { and, asc, desc, eq, inArray, lt, type SQL } from 'drizzle-orm';
import { dealOwnerFor, dealScope } from '../auth/access.js';
import { readOf } from '../auth/read-budget.js';
import { assertAssignableOwner } from '../users/assignable-owner.js';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { visibleClients } from '../clients/clients.service.js';
import { clients } from '../clients/clients.table.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import { canMoveDeal } from './deal-rules.js';
import { OPEN_DEAL_STATUSES, REFUSED_DEAL_STATUSES, WON_DEAL_STATUS, type DealStatus } from './deal-statuses.js';
import type { CreateDealInput, DealDetail, DealRow, DealsFilter, PatchDealInput } from './deals.schemas.js';
import { dealStatusChanges, deals, dealTypes } from './deals.table.js';
import { withActor } from '../history/with-actor.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Deals of the clients the viewer sees (access.ts dealScope), as a WHERE condition. */
export function visibleDeals(db: Db | Tx, viewer: Viewer): SQL | undefined {
  if (dealScope(viewer).kind === 'all') return undefined;
  return inArray(deals.clientId, db.select({ id: clients.id }).from(clients).where(visibleClients(db, viewer)));
}

/** The client a deal belongs to, for the read budget (auth/read-budget.ts); null once deleted. */
export async function clientOfDeal(db: Db, dealId: number): Promise<string | null> {
  const [row] = await db.select({ clientId: deals.clientId }).from(deals).where(eq(deals.id, dealId));
  return row ? readOf.client(row.clientId) : null;
}

/** The deal if the viewer may see it; 404 otherwise, so its existence is not revealed. */
export async function loadVisibleDeal(db: Db | Tx, viewer: Viewer, id: number, lock = false): Promise<typeof deals.$inferSelect> {
  const query = db.select().from(deals).where(and(eq(deals.id, id), visibleDeals(db, viewer)));
  const [row] = lock ? await query.for('update', { of: deals }) : await query;
  if (!row) throw new AppError('NOT_FOUND', `deal ${id} does not exist`);
  return row;
}

const STAGES = { open: OPEN_DEAL_STATUSES, won: [WON_DEAL_STATUS], refused: REFUSED_DEAL_STATUSES } as const;

/** Newest first, keyset-paged by id: a page does not shift when deals are added meanwhile. */
export async function listDeals(db: Db, viewer: Viewer, filter: DealsFilter): Promise<{ items: DealRow[]; nextCursor: number | null }> {
  const rows = await db
    .select()
    .from(deals)
    .where(
      and(
        visibleDeals(db, viewer),
        filter.clientId !== undefined ? eq(deals.clientId, filter.clientId) : undefined,
        filter.ownerId !== undefined ? eq(deals.ownerId, filter.ownerId) : undefined,
        filter.status?.length ? inArray(deals.status, filter.status) : undefined,
        filter.stage !== undefined ? inArray(deals.status, [...STAGES[filter.stage]]) : undefined,
        filter.typeId !== undefined ? eq(deals.typeId, filter.typeId) : undefined,
        filter.important !== undefined ? eq(deals.important, filter.important) : undefined,
        filter.after !== undefined ? lt(deals.id, filter.after) : undefined,
      ),
    )
    .orderBy(desc(deals.id))
    .limit(filter.limit + 1);
  const items = rows.slice(0, filter.limit);
  return { items, nextCursor: rows.length > filter.limit ? items.at(-1)!.id : null };
}

export async function getDeal(db: Db, viewer: Viewer, id: number): Promise<DealDetail> {
  const row = await loadVisibleDeal(db, viewer, id);
  return withHistory(db, row);
}

async function withHistory(db: Db | Tx, row: typeof deals.$inferSelect): Promise<DealDetail> {
  const changes = await db
    .select({ fromStatus: dealStatusChanges.fromStatus, toStatus: dealStatusChanges.toStatus, changedById: dealStatusChanges.changedById, changedAt: dealStatusChanges.changedAt })
    .from(dealStatusChanges)
    .where(eq(dealStatusChanges.dealId, row.id))
    .orderBy(asc(dealStatusChanges.changedAt), asc(dealStatusChanges.id));
  return { ...row, statusChanges: changes };
}

/** A type the deal may be given: one that exists and is not archived. */
async function checkType(tx: Tx, typeId: number | null | undefined): Promise<void> {
  if (typeId === undefined || typeId === null) return;
  const [type] = await tx.select({ archived: dealTypes.archived }).from(dealTypes).where(eq(dealTypes.id, typeId));
  if (!type) throw new AppError('VALIDATION', `typeId: deal type ${typeId} does not exist`);
  if (type.archived) throw new AppError('VALIDATION', `typeId: deal type ${typeId} is archived`);
}

export async function createDeal(db: Db, actor: Actor, viewer: Viewer, input: CreateDealInput): Promise<DealDetail> {
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    const [client] = await tx
      .select({ id: clients.id, ownerId: clients.ownerId })
      .from(clients)
      .where(and(eq(clients.id, input.clientId), visibleClients(tx, viewer)));
    if (!client) throw new AppError('NOT_FOUND', `clientId: client ${input.clientId} does not exist`);
    const decided = dealOwnerFor(viewer, client.ownerId, input.ownerId);
    if ('error' in decided) throw new AppError('FORBIDDEN', decided.error);
    if (decided.ownerId !== client.ownerId) await assertAssignableOwner(tx, viewer, decided.ownerId);
    await checkType(tx, input.typeId);
    const status: DealStatus = input.status ?? 'new';
    const [row] = await tx
      .insert(deals)
      .values({
        clientId: client.id,
        title: input.title.trim(),
        status,
        amount: input.amount ?? null,
        currency: input.currency ?? 'RUB',
        typeId: input.typeId ?? null,
        important: input.important ?? false,
        description: input.description ?? '',
        ownerId: decided.ownerId,
        source: input.source ?? null,
        createdById: viewer.id,
      })
      .returning();
    await tx.insert(dealStatusChanges).values({ dealId: row!.id, fromStatus: null, toStatus: status, changedById: viewer.id, changedAt: row!.createdAt });
    await recordAudit(tx, { ...actor, action: 'deal.create', entity: 'deal', entityId: row!.id, details: { clientId: client.id, status, fields: Object.keys(input) } });
    return withHistory(tx, row!);
  });
}

export async function updateDeal(db: Db, actor: Actor, viewer: Viewer, id: number, patch: PatchDealInput): Promise<DealDetail> {
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    const before = await loadVisibleDeal(tx, viewer, id, true);
    if (patch.typeId !== before.typeId) await checkType(tx, patch.typeId);
    const next = {
      ...(patch.title !== undefined && { title: patch.title.trim() }),
      ...(patch.amount !== undefined && { amount: patch.amount }),
      ...(patch.currency !== undefined && { currency: patch.currency }),
      ...(patch.typeId !== undefined && { typeId: patch.typeId }),
      ...(patch.important !== undefined && { important: patch.important }),
      ...(patch.description !== undefined && { description: patch.description }),
      ...(patch.source !== undefined && { source: patch.source }),
    };
    const [row] = await tx.update(deals).set({ ...next, updatedAt: new Date() }).where(eq(deals.id, id)).returning();
    await recordAudit(tx, { ...actor, action: 'deal.update', entity: 'deal', entityId: id, details: { fields: Object.keys(next) } });
    return withHistory(tx, row!);
  });
}

/** Moves a deal along the pipeline; the move is kept in deal_status_changes with who and when. */
export async function moveDeal(db: Db, actor: Actor, viewer: Viewer, id: number, to: DealStatus): Promise<DealDetail> {
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    // Locked: two managers moving the same deal at once must leave two consecutive history rows,
    // not two rows from the same `from`.
    const before = await loadVisibleDeal(tx, viewer, id, true);
    const verdict = canMoveDeal(before.status, to);
    if (!verdict.ok) throw new AppError('CONFLICT', verdict.reason);
    const now = new Date();
    const [row] = await tx.update(deals).set({ status: to, updatedAt: now }).where(eq(deals.id, id)).returning();
    await tx.insert(dealStatusChanges).values({ dealId: id, fromStatus: before.status, toStatus: to, changedById: viewer.id, changedAt: now });
    await recordAudit(tx, { ...actor, action: 'deal.status', entity: 'deal', entityId: id, details: { from: before.status, to } });
    return withHistory(tx, row!);
  });
}
