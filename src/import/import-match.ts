import { and, isNull, sql, type AnyColumn } from 'drizzle-orm';
import { ownerDenial } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { visibleClients } from '../clients/clients.service.js';
import { clientContacts, clientLists, clientPhones, clients, type ClientListKind } from '../clients/clients.table.js';
import type { Db } from '../db/client.js';
import type { Tx } from '../history/with-actor.js';
import { clientNotes } from '../notes/notes.table.js';
import { users } from '../users/users.table.js';
import { matchKeys, type ImportRow, type OwnerMatch } from './row-fate.js';

// What the base already holds for a batch of rows, and what a row would change in a client. The
// dry run and the real run use the same functions, so the report says what the run will do.

type Q = Db | Tx;

/** Owners by lower-case login, full name and extension; a name two users share matches neither. */
export async function loadOwners(db: Q, viewer: Viewer): Promise<Map<string, OwnerMatch>> {
  const rows = await db
    .select({ id: users.id, login: users.login, name: users.name, extension: users.extension, role: users.role, departmentId: users.departmentId, active: users.active })
    .from(users);
  const out = new Map<string, OwnerMatch>();
  const byName = new Map<string, OwnerMatch[]>();
  for (const u of rows) {
    const denial = ownerDenial(viewer, u);
    const match: OwnerMatch = denial ? { denial: denial.message.replace(/^ownerId: /, '') } : { ownerId: u.id };
    out.set(u.login.toLowerCase(), match);
    if (u.extension) out.set(u.extension, match);
    const name = u.name.toLowerCase().replace(/\s+/g, ' ').trim();
    byName.set(name, [...(byName.get(name) ?? []), match]);
  }
  for (const [name, matches] of byName) {
    if (out.has(name)) continue;
    out.set(name, matches.length === 1 ? matches[0]! : { denial: 'several users have this name; use the login' });
  }
  return out;
}

/** Segment and source entries by `kind:lower-case name`. */
export async function loadLists(db: Q): Promise<Map<string, number>> {
  const rows = await db.select().from(clientLists);
  return new Map(rows.map((r) => [`${r.kind}:${r.name.toLowerCase()}`, r.id]));
}
export const listKey = (kind: ClientListKind, name: string) => `${kind}:${name.toLowerCase()}`;

/** Clients of the base by match key (`p+7…`, `i<INN>`, `n<name>`); the oldest client wins a tie. */
/**
 * Queries side by side on a pool; one after another in a transaction (its one connection runs
 * one query at a time, and pg deprecates queueing them).
 */
async function all<T extends readonly (() => Promise<unknown>)[]>(db: Q, thunks: T): Promise<{ [K in keyof T]: Awaited<ReturnType<T[K]>> }> {
  if ('rollback' in db) {
    const out: unknown[] = [];
    for (const f of thunks) out.push(await f());
    return out as never;
  }
  return Promise.all(thunks.map((f) => f())) as never;
}

// One array parameter instead of `in ($1, …, $3000)`: drizzle builds and PostgreSQL parses one
// placeholder, not thousands (a third of a dry run's time before).
const anyText = (column: AnyColumn, values: Iterable<string>) => sql`${column} = any(${sql.param([...values])}::text[])`;
const anyInt = (column: AnyColumn, values: readonly number[]) => sql`${column} = any(${sql.param(values)}::int[])`;

export async function lookupKeys(db: Q, rows: readonly ImportRow[]): Promise<Map<string, number>> {
  const phones = new Set<string>();
  const inns = new Set<string>();
  const names = new Set<string>();
  for (const r of rows) {
    for (const p of r.phones) phones.add(p.phone);
    if (r.inn !== null) inns.add(r.inn);
    names.add(r.name);
  }
  const out = new Map<string, number>();
  const put = (key: string, id: number) => {
    const had = out.get(key);
    if (had === undefined || id < had) out.set(key, id);
  };
  const [byPhone, byInn, byName] = await all(db, [
    async () => (phones.size ? db.select({ id: clientPhones.clientId, phone: clientPhones.phone }).from(clientPhones).where(anyText(clientPhones.phone, phones)) : []),
    async () => (inns.size ? db.select({ id: clients.id, inn: clients.inn }).from(clients).where(anyText(clients.inn, inns)) : []),
    () => db.select({ id: clients.id, name: clients.name }).from(clients).where(anyText(clients.name, names)),
  ] as const);
  for (const r of byPhone) put(`p${r.phone}`, r.id);
  for (const r of byInn) put(`i${r.inn}`, r.id);
  for (const r of byName) put(`n${r.name}`, r.id);
  return out;
}

export interface Existing {
  id: number;
  visible: boolean;
  row: typeof clients.$inferSelect;
  phones: Set<string>;
  contacts: { id: number; name: string; position: string | null }[];
  notes: Set<string>;
}

export async function loadExisting(db: Q, viewer: Viewer, ids: readonly number[]): Promise<Map<number, Existing>> {
  const out = new Map<number, Existing>();
  if (ids.length === 0) return out;
  const list = [...ids];
  const [rows, visible, phones, contacts, notes] = await all(db, [
    () => db.select().from(clients).where(anyInt(clients.id, list)),
    () => db.select({ id: clients.id }).from(clients).where(and(anyInt(clients.id, list), visibleClients(db, viewer))),
    () => db.select({ id: clientPhones.clientId, phone: clientPhones.phone }).from(clientPhones).where(and(anyInt(clientPhones.clientId, list), isNull(clientPhones.contactId))),
    () => db.select({ id: clientContacts.id, clientId: clientContacts.clientId, name: clientContacts.name, position: clientContacts.position }).from(clientContacts).where(anyInt(clientContacts.clientId, list)),
    () => db.select({ id: clientNotes.clientId, text: clientNotes.text }).from(clientNotes).where(anyInt(clientNotes.clientId, list)),
  ] as const);
  const seen = new Set(visible.map((v) => v.id));
  for (const row of rows) out.set(row.id, { id: row.id, visible: seen.has(row.id), row, phones: new Set(), contacts: [], notes: new Set() });
  for (const p of phones) out.get(p.id)?.phones.add(p.phone);
  for (const c of contacts) out.get(c.clientId)?.contacts.push({ id: c.id, name: c.name, position: c.position });
  for (const n of notes) out.get(n.id)?.notes.add(n.text);
  return out;
}

/** Rows of one client gathered in a batch: the first row's fields, then what later rows add. */
export interface Pending {
  first: ImportRow;
  phones: Map<string, string>;
  emails: string[];
  contacts: Map<string, { name: string; position: string | null }>;
  notes: string[];
}

export function pendingOf(row: ImportRow): Pending {
  const p: Pending = { first: { ...row }, phones: new Map(), emails: [], contacts: new Map(), notes: [] };
  absorb(p, row, false);
  return p;
}

const SCALARS = ['inn', 'ownerId', 'status', 'segment', 'source', 'website', 'address', 'nextContactAt'] as const;

/**
 * Adds a row to a client's pending change. Numbers, e-mails, contacts and comments add up; a
 * field the first row left empty is taken from a later row (the first value wins a conflict, so
 * a re-import with the same rows in the same order writes the same values: idempotent).
 */
export function absorb(p: Pending, row: ImportRow, fillScalars = true): void {
  for (const ph of row.phones) if (!p.phones.has(ph.phone)) p.phones.set(ph.phone, ph.raw);
  for (const e of row.emails) if (!p.emails.some((x) => x.toLowerCase() === e.toLowerCase())) p.emails.push(e);
  if (row.contact !== null) {
    const key = row.contact.toLowerCase();
    const had = p.contacts.get(key);
    if (!had) p.contacts.set(key, { name: row.contact, position: row.position });
    else if (had.position === null) had.position = row.position;
  }
  if (row.comment !== null && !p.notes.includes(row.comment)) p.notes.push(row.comment);
  if (fillScalars) for (const f of SCALARS) if (p.first[f] === null && row[f] !== null) (p.first as unknown as Record<string, unknown>)[f] = row[f];
}

export interface Change {
  set: Partial<typeof clients.$inferInsert>;
  addPhones: { phone: string; raw: string }[];
  addContacts: { name: string; position: string | null }[];
  positions: { id: number; position: string }[];
  addNotes: string[];
}

export const isNoChange = (c: Change) =>
  Object.keys(c.set).length === 0 && c.addPhones.length === 0 && c.addContacts.length === 0 && c.positions.length === 0 && c.addNotes.length === 0;

/**
 * What a pending change does to a client of the base. Cells left empty change nothing; numbers,
 * e-mails, contacts and comments are only ever added. `scalars` is false when an earlier row of
 * this import already set the client's fields (a duplicate further down the file only adds).
 * `listId` gives a segment/source entry's id (-1 for one the run will create).
 */
export function changesFor(e: Existing, p: Pending, listId: (kind: ClientListKind, name: string) => number, scalars: boolean): Change {
  const r = p.first;
  const cur = e.row;
  const set: Change['set'] = {};
  if (scalars) {
    if (r.name !== cur.name) set.name = r.name;
    if (r.inn !== null && r.inn !== cur.inn) set.inn = r.inn;
    if (r.ownerId !== null && r.ownerId !== cur.ownerId) set.ownerId = r.ownerId;
    if (r.status !== null && r.status !== cur.status) set.status = r.status;
    if (r.website !== null && r.website !== cur.website) set.website = r.website;
    if (r.address !== null && r.address !== cur.address) set.address = r.address;
    if (r.nextContactAt !== null && r.nextContactAt.getTime() !== cur.nextContactAt?.getTime()) set.nextContactAt = r.nextContactAt;
    if (r.segment !== null) {
      const id = listId('segment', r.segment);
      if (id !== cur.segmentId) set.segmentId = id;
    }
    if (r.source !== null) {
      const id = listId('source', r.source);
      if (id !== cur.sourceId) set.sourceId = id;
    }
  }
  const lower = new Set(cur.emails.map((x) => x.toLowerCase()));
  const newEmails = p.emails.filter((x) => !lower.has(x.toLowerCase()));
  if (newEmails.length > 0) set.emails = [...cur.emails, ...newEmails];
  const addContacts: Change['addContacts'] = [];
  const positions: Change['positions'] = [];
  for (const c of p.contacts.values()) {
    const had = e.contacts.find((x) => x.name.toLowerCase() === c.name.toLowerCase());
    if (!had) addContacts.push(c);
    else if (scalars && c.position !== null && c.position !== had.position) positions.push({ id: had.id, position: c.position });
  }
  return {
    set,
    addPhones: [...p.phones].filter(([phone]) => !e.phones.has(phone)).map(([phone, raw]) => ({ phone, raw })),
    addContacts,
    positions,
    addNotes: p.notes.filter((n) => !e.notes.has(n)),
  };
}

/**
 * Applies the batch's changes to clients of the base, set-wise: one UPDATE of clients for all of
 * them, one INSERT each for numbers, contacts and comments, one UPDATE of contacts' positions
 * (5 statements a batch instead of 2–5 per client: a tenth of the first run's time went to them).
 * A field a client's change leaves alone is passed as NULL and kept by coalesce(): no value set
 * here is ever NULL. The history's statement triggers write the same rows as one statement per
 * client did (the update trigger pairs old and new rows by id and records the fields that differ).
 */
export async function applyChanges(tx: Tx, list: readonly { id: number; change: Change }[], authorId: number): Promise<void> {
  const sets = list.filter((x) => Object.keys(x.change.set).length > 0);
  const col = <T>(xs: readonly { id: number; change: Change }[], f: (s: Change['set'], id: number) => T) => sql.param(xs.map((x) => f(x.change.set, x.id) ?? null));
  if (sets.length) {
    await tx.execute(sql`
      update clients c
         set name = coalesce(u.name, c.name), inn = coalesce(u.inn, c.inn), owner_id = coalesce(u.owner_id, c.owner_id),
             status = coalesce(u.status, c.status), website = coalesce(u.website, c.website), address = coalesce(u.address, c.address),
             next_contact_at = coalesce(u.next_contact_at, c.next_contact_at), segment_id = coalesce(u.segment_id, c.segment_id),
             source_id = coalesce(u.source_id, c.source_id),
             emails = coalesce(string_to_array(u.emails, chr(31)), c.emails), updated_at = now()
        from unnest(${col(sets, (_, id) => id)}::int[], ${col(sets, (s) => s.name)}::text[], ${col(sets, (s) => s.inn)}::text[], ${col(sets, (s) => s.ownerId)}::int[],
                    ${col(sets, (s) => s.status)}::text[], ${col(sets, (s) => s.website)}::text[], ${col(sets, (s) => s.address)}::text[],
                    ${col(sets, (s) => s.nextContactAt?.toISOString())}::timestamptz[], ${col(sets, (s) => s.segmentId)}::int[], ${col(sets, (s) => s.sourceId)}::int[],
                    ${col(sets, (s) => s.emails?.join('\u001f'))}::text[])
             as u(id, name, inn, owner_id, status, website, address, next_contact_at, segment_id, source_id, emails)
       where c.id = u.id`);
  }
  const phones = list.flatMap(({ id, change }) => change.addPhones.map((p) => [id, p.phone, p.raw] as const));
  const contacts = list.flatMap(({ id, change }) => change.addContacts.map((c) => [id, c.name, c.position] as const));
  const positions = list.flatMap(({ change }) => change.positions.map((c) => [c.id, c.position] as const));
  const notes = list.flatMap(({ id, change }) => change.addNotes.map((text) => [id, text] as const));
  await insertChildren(tx, { phones, contacts, notes }, authorId);
  if (positions.length) {
    await tx.execute(sql`update client_contacts c set position = u.position, updated_at = now() from unnest(${arr(positions, 0)}::int[], ${arr(positions, 1)}::text[]) as u(id, position) where c.id = u.id`);
  }
}

const arr = (xs: readonly (readonly unknown[])[], k: number) => sql.param(xs.map((x) => x[k]));

/** Numbers, contacts and comments of many clients: one INSERT … SELECT FROM unnest() per table. */
async function insertChildren(
  tx: Tx,
  rows: { phones: readonly (readonly [number, string, string])[]; contacts: readonly (readonly [number, string, string | null])[]; notes: readonly (readonly [number, string])[] },
  authorId: number,
): Promise<void> {
  const { phones, contacts, notes } = rows;
  if (phones.length) {
    await tx.execute(sql`insert into client_phones (client_id, phone, raw) select * from unnest(${arr(phones, 0)}::int[], ${arr(phones, 1)}::text[], ${arr(phones, 2)}::text[]) on conflict do nothing`);
  }
  if (contacts.length) {
    await tx.execute(sql`insert into client_contacts (client_id, name, position) select * from unnest(${arr(contacts, 0)}::int[], ${arr(contacts, 1)}::text[], ${arr(contacts, 2)}::text[])`);
  }
  if (notes.length) {
    await tx.execute(sql`insert into client_notes (client_id, author_id, text) select c, ${authorId}, t from unnest(${arr(notes, 0)}::int[], ${arr(notes, 1)}::text[]) as n(c, t)`);
  }
}

/**
 * Creates the batch's new clients; returns their ids in order. Each table gets one INSERT … SELECT
 * FROM unnest() of one array per column: 2,000 rows are 12 parameters, not 26,000 that drizzle
 * would build one by one and PostgreSQL parse (a third of the real run's time before).
 */
export async function createClients(tx: Tx, list: readonly Pending[], defaultOwnerId: number, listId: (kind: ClientListKind, name: string) => number, authorId: number): Promise<number[]> {
  if (list.length === 0) return [];
  const col = <T>(f: (p: Pending) => T) => sql.param(list.map(f));
  const rows = await tx.execute<{ id: number }>(sql`
    insert into clients (name, kind, inn, emails, website, address, status, segment_id, source_id, next_contact_at, owner_id, last_activity_at)
    select name, kind, inn, case when emails = '' then '{}'::text[] else string_to_array(emails, chr(31)) end,
           website, address, status, segment_id, source_id, next_contact_at, owner_id, now()
      from unnest(${col((p) => p.first.name)}::text[], ${col((p) => p.first.kind)}::text[], ${col((p) => p.first.inn)}::text[],
                  ${col((p) => p.emails.join('\u001f'))}::text[], ${col((p) => p.first.website)}::text[], ${col((p) => p.first.address)}::text[],
                  ${col((p) => p.first.status ?? 'potential')}::text[],
                  ${col((p) => (p.first.segment === null ? null : listId('segment', p.first.segment)))}::int[],
                  ${col((p) => (p.first.source === null ? null : listId('source', p.first.source)))}::int[],
                  ${col((p) => p.first.nextContactAt?.toISOString() ?? null)}::timestamptz[],
                  ${col((p) => p.first.ownerId ?? defaultOwnerId)}::int[])
           with ordinality as r(name, kind, inn, emails, website, address, status, segment_id, source_id, next_contact_at, owner_id, n)
     order by n
    returning id`);
  // Identity values are drawn in the order the SELECT feeds the rows: ordered by n, as given.
  const ids = rows.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
  const phones = list.flatMap((p, i) => [...p.phones].map(([phone, raw]) => [ids[i]!, phone, raw] as const));
  const contacts = list.flatMap((p, i) => [...p.contacts.values()].map((c) => [ids[i]!, c.name, c.position] as const));
  const notes = list.flatMap((p, i) => p.notes.map((text) => [ids[i]!, text] as const));
  await insertChildren(tx, { phones, contacts, notes }, authorId);
  return ids;
}

/** Creates the segment/source entries the rows name and the base lacks. */
export async function ensureLists(tx: Tx, lists: Map<string, number>, rows: readonly ImportRow[]): Promise<void> {
  const missing = new Map<string, { kind: ClientListKind; name: string }>();
  for (const r of rows) {
    if (r.segment !== null && !lists.has(listKey('segment', r.segment))) missing.set(listKey('segment', r.segment), { kind: 'segment', name: r.segment });
    if (r.source !== null && !lists.has(listKey('source', r.source))) missing.set(listKey('source', r.source), { kind: 'source', name: r.source });
  }
  if (missing.size === 0) return;
  await tx.insert(clientLists).values([...missing.values()]).onConflictDoNothing();
  const rows2 = await tx.select().from(clientLists).where(sql`(${clientLists.kind}, lower(${clientLists.name})) in (${sql.join([...missing.values()].map((m) => sql`(${m.kind}, ${m.name.toLowerCase()})`), sql`, `)})`);
  for (const r of rows2) lists.set(listKey(r.kind, r.name), r.id);
}

export { matchKeys };
