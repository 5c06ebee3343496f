import { asc, eq } from 'drizzle-orm';
import { canEditDealTypes } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import { dealTypes } from './deals.table.js';
import { withActor } from '../history/with-actor.js';

type DealTypeView = { id: number; name: string; color: string; archived: boolean };
const columns = { id: dealTypes.id, name: dealTypes.name, color: dealTypes.color, archived: dealTypes.archived };

/** Everybody reads the list (the console paints deals with it); archived types stay for old deals. */
export async function listDealTypes(db: Db): Promise<DealTypeView[]> {
  return db.select(columns).from(dealTypes).orderBy(asc(dealTypes.name));
}

function assertDirector(viewer: Viewer): void {
  if (!canEditDealTypes(viewer)) throw new AppError('FORBIDDEN', 'only a director edits the deal types');
}

export async function createDealType(db: Db, actor: Actor, viewer: Viewer, input: { name: string; color: string }): Promise<DealTypeView> {
  assertDirector(viewer);
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    const [row] = await tx.insert(dealTypes).values({ name: input.name.trim(), color: input.color.toLowerCase() }).returning(columns);
    await recordAudit(tx, { ...actor, action: 'dealType.create', entity: 'dealType', entityId: row!.id, details: { name: row!.name, color: row!.color } });
    return row!;
  });
}

/** A type in use is archived rather than deleted: old deals keep their type and colour. */
export async function updateDealType(
  db: Db,
  actor: Actor,
  viewer: Viewer,
  id: number,
  patch: { name?: string; color?: string; archived?: boolean },
): Promise<DealTypeView> {
  assertDirector(viewer);
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    const [row] = await tx
      .update(dealTypes)
      .set({
        ...(patch.name !== undefined && { name: patch.name.trim() }),
        ...(patch.color !== undefined && { color: patch.color.toLowerCase() }),
        ...(patch.archived !== undefined && { archived: patch.archived }),
        updatedAt: new Date(),
      })
      .where(eq(dealTypes.id, id))
      .returning(columns);
    if (!row) throw new AppError('NOT_FOUND', `deal type ${id} does not exist`);
    await recordAudit(tx, { ...actor, action: 'dealType.update', entity: 'dealType', entityId: id, details: { fields: Object.keys(patch) } });
    return row;
  });
}
