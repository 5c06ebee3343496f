// The lists a client's segment and source are chosen from. Small tables a director keeps; every
// user reads them to fill in a card.
import { and, asc, eq, or } from 'drizzle-orm';
import { recordAudit, type Actor } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import { clientLists, clients, type ClientListKind } from './clients.table.js';
import { withActor } from '../history/with-actor.js';

export type ClientListEntry = { id: number; kind: ClientListKind; name: string };
const columns = { id: clientLists.id, kind: clientLists.kind, name: clientLists.name };

export async function listEntries(db: Db, kind?: ClientListKind): Promise<ClientListEntry[]> {
  return db.select(columns).from(clientLists).where(kind === undefined ? undefined : eq(clientLists.kind, kind)).orderBy(asc(clientLists.kind), asc(clientLists.name));
}

export async function createEntry(db: Db, actor: Actor, input: { kind: ClientListKind; name: string }): Promise<ClientListEntry> {
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    const [row] = await tx.insert(clientLists).values({ kind: input.kind, name: input.name.trim() }).returning(columns);
    await recordAudit(tx, { ...actor, action: 'client_list.create', entity: 'client_list', entityId: row!.id, details: { kind: row!.kind, name: row!.name } });
    return row!;
  });
}

/** A rename reaches every client at once: clients hold the entry's id, not its text. */
export async function renameEntry(db: Db, actor: Actor, id: number, name: string): Promise<ClientListEntry> {
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    const [before] = await tx.select(columns).from(clientLists).where(eq(clientLists.id, id)).for('update');
    if (!before) throw new AppError('NOT_FOUND', `list entry ${id} does not exist`);
    const [row] = await tx.update(clientLists).set({ name: name.trim() }).where(eq(clientLists.id, id)).returning(columns);
    await recordAudit(tx, { ...actor, action: 'client_list.update', entity: 'client_list', entityId: id, details: { name: { from: before.name, to: row!.name } } });
    return row!;
  });
}

/** An entry some client still carries is not deleted (that would blank their cards): rename it instead. */
export async function deleteEntry(db: Db, actor: Actor, id: number): Promise<void> {
  await withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    const [gone] = await tx.select(columns).from(clientLists).where(eq(clientLists.id, id)).for('update');
    if (!gone) throw new AppError('NOT_FOUND', `list entry ${id} does not exist`);
    const [used] = await tx.select({ id: clients.id }).from(clients).where(or(eq(clients.segmentId, id), eq(clients.sourceId, id))).limit(1);
    if (used) throw new AppError('CONFLICT', `list entry ${id} is used by client ${used.id}; rename it instead`);
    await tx.delete(clientLists).where(and(eq(clientLists.id, id)));
    await recordAudit(tx, { ...actor, action: 'client_list.delete', entity: 'client_list', entityId: id, details: { kind: gone.kind, name: gone.name } });
  });
}
