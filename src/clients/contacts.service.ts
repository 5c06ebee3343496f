// Contact persons of a client. Whoever may see the client may see and edit its contacts (the
// one rule, access.ts via loadVisible); a contact of a client one may not see is a 404 too.
import { and, asc, desc, eq, inArray, ne, or, isNull, sql } from 'drizzle-orm';
import { recordAudit, type Actor } from '../audit/audit.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import type { CountryCode } from '../phones/normalize.js';
import { blankToNull } from './client-fields.js';
import { loadVisible, normalisePhones, type Tx } from './clients.service.js';
import { clientContacts, clientPhones, clients } from './clients.table.js';
import type { ContactView, CreateContactInput, PatchContactInput } from './contacts.schemas.js';
import { withActor } from '../history/with-actor.js';

type Phone = { phone: string; raw: string };

export async function listContacts(db: Db, actor: Actor, viewer: Viewer, clientId: number): Promise<ContactView[]> {
  await loadVisible(db, viewer, clientId);
  await recordAudit(db, { ...actor, action: 'client.contacts.view', entity: 'client', entityId: clientId });
  return contactsOf(db, clientId);
}

/** A client's contacts, decision makers first; the caller has checked that the client is visible. */
export async function contactsOf(db: Db, clientId: number): Promise<ContactView[]> {
  const rows = await db
    .select()
    .from(clientContacts)
    .where(eq(clientContacts.clientId, clientId))
    .orderBy(desc(clientContacts.decisionMaker), asc(clientContacts.id));
  return withPhones(db, rows);
}

export async function createContact(
  db: Db, actor: Actor, viewer: Viewer, clientId: number, input: CreateContactInput, region: CountryCode,
): Promise<ContactView> {
  const phones = normalisePhones(input.phones ?? [], region);
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    await loadVisible(tx, viewer, clientId, true);
    const [row] = await tx
      .insert(clientContacts)
      .values({ clientId, name: input.name.trim(), position: blankToNull(input.position), emails: input.emails ?? [], decisionMaker: input.decisionMaker ?? false })
      .returning();
    await putPhones(tx, clientId, row!.id, phones);
    await touch(tx, clientId);
    await recordAudit(tx, { ...actor, action: 'client.contact.create', entity: 'client', entityId: clientId, details: { contactId: row!.id, phoneCount: phones.length } });
    return { ...viewOf(row!), phones };
  });
}

export async function updateContact(
  db: Db, actor: Actor, viewer: Viewer, clientId: number, contactId: number, patch: PatchContactInput, region: CountryCode,
): Promise<ContactView> {
  const phones = patch.phones === undefined ? undefined : normalisePhones(patch.phones, region);
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    await loadVisible(tx, viewer, clientId, true);
    const set: Partial<typeof clientContacts.$inferInsert> = { updatedAt: new Date() };
    if (patch.name !== undefined) set.name = patch.name.trim();
    if (patch.position !== undefined) set.position = blankToNull(patch.position);
    if (patch.emails !== undefined) set.emails = patch.emails;
    if (patch.decisionMaker !== undefined) set.decisionMaker = patch.decisionMaker;
    const [row] = await tx.update(clientContacts).set(set).where(contactOf(clientId, contactId)).returning();
    if (!row) throw new AppError('NOT_FOUND', `contact ${contactId} of client ${clientId} does not exist`);
    if (phones !== undefined) await putPhones(tx, clientId, contactId, phones);
    await touch(tx, clientId);
    await recordAudit(tx, { ...actor, action: 'client.contact.update', entity: 'client', entityId: clientId, details: { contactId, fields: Object.keys(patch) } });
    const [view] = await withPhones(tx, [row]);
    return view!;
  });
}

export async function deleteContact(db: Db, actor: Actor, viewer: Viewer, clientId: number, contactId: number): Promise<void> {
  await withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    await loadVisible(tx, viewer, clientId, true);
    // The contact's numbers go with it (foreign key cascade), and routing hears of it (0001 trigger).
    const gone = await tx.delete(clientContacts).where(contactOf(clientId, contactId)).returning({ id: clientContacts.id });
    if (gone.length === 0) throw new AppError('NOT_FOUND', `contact ${contactId} of client ${clientId} does not exist`);
    await touch(tx, clientId);
    await recordAudit(tx, { ...actor, action: 'client.contact.delete', entity: 'client', entityId: clientId, details: { contactId } });
  });
}

const contactOf = (clientId: number, contactId: number) => and(eq(clientContacts.id, contactId), eq(clientContacts.clientId, clientId));

/**
 * Replaces the contact's numbers. A number is on a card once: if it is already the client's own or
 * another contact's, saying so beats a bare unique-violation, and a call from it can name only one.
 */
async function putPhones(tx: Tx, clientId: number, contactId: number, phones: readonly Phone[]): Promise<void> {
  if (phones.length > 0) {
    const taken = await tx
      .select({ phone: clientPhones.phone })
      .from(clientPhones)
      .where(and(eq(clientPhones.clientId, clientId), inArray(clientPhones.phone, phones.map((p) => p.phone)), or(isNull(clientPhones.contactId), ne(clientPhones.contactId, contactId))));
    if (taken.length > 0) throw new AppError('CONFLICT', `phones: ${taken.map((t) => t.phone).join(', ')} already on this client's card`);
  }
  await tx.delete(clientPhones).where(eq(clientPhones.contactId, contactId));
  if (phones.length > 0) await tx.insert(clientPhones).values(phones.map((p) => ({ ...p, clientId, contactId })));
}

/** A contact change is work on the client: it counts for the routing tie-break like any edit. */
const touch = (tx: Tx, clientId: number) => tx.update(clients).set({ lastActivityAt: sql`now()`, updatedAt: sql`now()` }).where(eq(clients.id, clientId));

async function withPhones(db: Db | Tx, rows: (typeof clientContacts.$inferSelect)[]): Promise<ContactView[]> {
  if (rows.length === 0) return [];
  const phones = await db
    .select()
    .from(clientPhones)
    .where(inArray(clientPhones.contactId, rows.map((r) => r.id)))
    .orderBy(asc(clientPhones.id));
  return rows.map((row) => ({ ...viewOf(row), phones: phones.filter((p) => p.contactId === row.id).map((p) => ({ phone: p.phone, raw: p.raw })) }));
}

function viewOf(row: typeof clientContacts.$inferSelect): Omit<ContactView, 'phones'> {
  const { id, clientId, name, position, emails, decisionMaker, createdAt, updatedAt } = row;
  return { id, clientId, name, position, emails, decisionMaker, createdAt, updatedAt };
}
