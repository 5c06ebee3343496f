import { and, asc, eq, inArray, isNull, type SQL } from 'drizzle-orm';
import { clientOwnerFor, clientScope } from '../auth/access.js';
import { assertAssignableOwner } from '../users/assignable-owner.js';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import { parsePhone, type CountryCode } from '../phones/normalize.js';
import { users } from '../users/users.table.js';
import { fieldColumns } from './client-fields.js';
import type { ClientView, CreateClientInput, PatchClientInput } from './clients.schemas.js';
import { clientPhones, clients } from './clients.table.js';
import { withActor } from '../history/with-actor.js';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Phone = { phone: string; raw: string };

/** The viewer's client scope as a WHERE condition (undefined = every client). */
export function visibleClients(db: Db | Tx, viewer: Viewer): SQL | undefined {
  const scope = clientScope(viewer);
  switch (scope.kind) {
    case 'all':
      return undefined;
    case 'department':
      return inArray(clients.ownerId, db.select({ id: users.id }).from(users).where(eq(users.departmentId, scope.departmentId)));
    case 'owners':
      return inArray(clients.ownerId, scope.ownerIds);
  }
}

/** Numbers as E.164 with what was typed; the same number twice collapses to its first spelling. */
export function normalisePhones(list: readonly string[], region: CountryCode): Phone[] {
  const byPhone = new Map<string, Phone>();
  for (const [i, raw] of list.entries()) {
    const parsed = parsePhone(raw, region);
    if (!parsed.ok) throw new AppError('INVALID_PHONE', `phones[${i}]: ${parsed.error}`);
    if (!byPhone.has(parsed.e164)) byPhone.set(parsed.e164, { phone: parsed.e164, raw: raw.trim() });
  }
  return [...byPhone.values()];
}

/** The client if the viewer may see it; 404 otherwise, so its existence is not revealed. */
export async function loadVisible(db: Db | Tx, viewer: Viewer, id: number, lock = false): Promise<typeof clients.$inferSelect> {
  const query = db.select().from(clients).where(and(eq(clients.id, id), visibleClients(db, viewer)));
  const [row] = lock ? await query.for('update', { of: clients }) : await query;
  if (!row) throw new AppError('NOT_FOUND', `client ${id} does not exist`);
  return row;
}

export async function getClient(db: Db, actor: Actor, viewer: Viewer, id: number): Promise<ClientView> {
  const row = await loadVisible(db, viewer, id);
  await recordAudit(db, { ...actor, action: 'client.view', entity: 'client', entityId: id });
  const [view] = await withPhones(db, [row]);
  return view!;
}

/** Resolves and checks the owner the viewer gives a client (see access.ts). */
async function resolveOwner(tx: Tx, viewer: Viewer, requested: number | undefined): Promise<number> {
  const decided = clientOwnerFor(viewer, requested);
  if ('error' in decided) throw new AppError('FORBIDDEN', decided.error);
  await assertAssignableOwner(tx, viewer, decided.ownerId);
  return decided.ownerId;
}

export async function createClient(db: Db, actor: Actor, viewer: Viewer, input: CreateClientInput, region: CountryCode): Promise<ClientView> {
  const phones = normalisePhones(input.phones, region);
  return withActor(db, viewer, 'api', async (tx) => {
    const ownerId = await resolveOwner(tx, viewer, input.ownerId);
    const [row] = await tx
      .insert(clients)
      .values({ ...(await fieldColumns(tx, input)), name: input.name.trim(), ownerId, lastActivityAt: new Date() })
      .returning();
    await tx.insert(clientPhones).values(phones.map((p) => ({ ...p, clientId: row!.id })));
    await recordAudit(tx, {
      ...actor,
      action: 'client.create',
      entity: 'client',
      entityId: row!.id,
      details: { fields: Object.keys(input), ownerId, phoneCount: phones.length },
    });
    return { ...viewOf(row!), phones };
  });
}

export async function updateClient(db: Db, actor: Actor, viewer: Viewer, id: number, patch: PatchClientInput, region: CountryCode): Promise<ClientView> {
  const phones = patch.phones === undefined ? undefined : normalisePhones(patch.phones, region);
  return withActor(db, viewer, 'api', async (tx) => {
    const before = await loadVisible(tx, viewer, id, true);
    const ownerId = patch.ownerId === undefined || patch.ownerId === before.ownerId ? before.ownerId : await resolveOwner(tx, viewer, patch.ownerId);
    const name = patch.name?.trim() ?? before.name;
    const columns = await fieldColumns(tx, patch);
    const changed: string[] = Object.keys(columns).filter((key) => !sameValue(columns[key as keyof typeof columns], before[key as keyof typeof before]));
    if (name !== before.name) changed.push('name');
    if (ownerId !== before.ownerId) changed.push('ownerId');
    if (phones !== undefined) {
      const own = and(eq(clientPhones.clientId, id), isNull(clientPhones.contactId));
      const old = await tx.select({ phone: clientPhones.phone, raw: clientPhones.raw }).from(clientPhones).where(own);
      if (!samePhones(old, phones)) changed.push('phones');
      // The list replaces the client's own numbers (contacts keep theirs); the transaction keeps
      // the client from ever having none.
      await tx.delete(clientPhones).where(own);
      await tx.insert(clientPhones).values(phones.map((p) => ({ ...p, clientId: id })));
    }
    const [row] = await tx
      .update(clients)
      .set({ ...columns, name, ownerId, lastActivityAt: new Date(), updatedAt: new Date() })
      .where(eq(clients.id, id))
      .returning();
    await recordAudit(tx, {
      ...actor,
      action: 'client.update',
      entity: 'client',
      entityId: id,
      // Owner ids are not personal data; a reassignment is what an auditor looks for.
      details: { fields: changed, ...(changed.includes('ownerId') && { ownerId: { from: before.ownerId, to: ownerId } }) },
    });
    const [view] = await withPhones(tx, [row!]);
    return view!;
  });
}

export async function deleteClient(db: Db, actor: Actor, viewer: Viewer, id: number): Promise<void> {
  await withActor(db, viewer, 'api', async (tx) => {
    const before = await loadVisible(tx, viewer, id, true);
    await tx.delete(clients).where(eq(clients.id, id));
    await recordAudit(tx, { ...actor, action: 'client.delete', entity: 'client', entityId: id, details: { ownerId: before.ownerId } });
  });
}

export async function withPhones(db: Db | Tx, rows: (typeof clients.$inferSelect)[]): Promise<ClientView[]> {
  if (rows.length === 0) return [];
  const phones = await db
    .select()
    .from(clientPhones)
    .where(and(inArray(clientPhones.clientId, rows.map((r) => r.id)), isNull(clientPhones.contactId)))
    .orderBy(asc(clientPhones.id));
  return rows.map((row) => ({
    ...viewOf(row),
    phones: phones.filter((p) => p.clientId === row.id).map((p) => ({ phone: p.phone, raw: p.raw })),
  }));
}

function viewOf(row: typeof clients.$inferSelect): Omit<ClientView, 'phones'> {
  const { id, kind, name, company, legalName, inn, ownerId, emails, website, address, segmentId, sourceId, status, temperature } = row;
  const { important, nextContactAt, tags, lastActivityAt, lastContactAt, createdAt, updatedAt } = row;
  return {
    id, kind, name, company, legalName, inn, ownerId, emails, website, address, segmentId, sourceId, status, temperature,
    important, nextContactAt, tags, lastActivityAt, lastContactAt, createdAt, updatedAt,
  };
}

/** Whether a PATCH left a column as it was (arrays and dates compare by value). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a) || Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

function samePhones(a: readonly Phone[], b: readonly Phone[]): boolean {
  const key = (list: readonly Phone[]) => list.map((p) => `${p.phone} ${p.raw}`).sort().join('|');
  return key(a) === key(b);
}
