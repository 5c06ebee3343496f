// The card's plain fields as they go into the table: trimmed, checked, blanks as null. One place,
// so create and PATCH cannot disagree about what is stored.
import { and, eq } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import type { CreateClientInput, PatchClientInput } from './clients.schemas.js';
import { clientLists, clients, type ClientListKind } from './clients.table.js';
import { innError } from './inn.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Columns = Partial<typeof clients.$inferInsert>;

export const blankToNull = (text: string | null | undefined): string | null => (text == null || text.trim() === '' ? null : text.trim());

/** Same tag or address twice is one; order as given. E-mails compare case-insensitively. */
const distinct = (list: readonly string[], key = (s: string) => s): string[] => {
  const seen = new Map<string, string>();
  for (const item of list.map((s) => s.trim()).filter((s) => s !== '')) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
};

/** The columns a create or PATCH sets besides name, phones and owner (handled by the service). */
export async function fieldColumns(tx: Tx, input: Omit<PatchClientInput, 'name' | 'phones' | 'ownerId'> | CreateClientInput): Promise<Columns> {
  const out: Columns = {};
  if (input.kind !== undefined) out.kind = input.kind;
  if (input.company !== undefined) out.company = blankToNull(input.company);
  if (input.legalName !== undefined) out.legalName = blankToNull(input.legalName);
  if (input.inn !== undefined) {
    // Spaces are how people copy it from a letterhead; they are not part of the number.
    const inn = blankToNull(input.inn)?.replace(/\s+/g, '') ?? null;
    const error = inn === null ? null : innError(inn);
    if (error) throw new AppError('VALIDATION', `inn: ${error}`);
    out.inn = inn;
  }
  if (input.emails !== undefined) out.emails = distinct(input.emails, (e) => e.toLowerCase());
  if (input.website !== undefined) out.website = blankToNull(input.website);
  if (input.address !== undefined) out.address = blankToNull(input.address);
  if (input.segmentId !== undefined) out.segmentId = await listEntry(tx, 'segment', 'segmentId', input.segmentId);
  if (input.sourceId !== undefined) out.sourceId = await listEntry(tx, 'source', 'sourceId', input.sourceId);
  if (input.status !== undefined) out.status = input.status;
  if (input.temperature !== undefined) out.temperature = input.temperature;
  if (input.important !== undefined) out.important = input.important;
  if (input.nextContactAt !== undefined) out.nextContactAt = input.nextContactAt === null ? null : new Date(input.nextContactAt);
  if (input.tags !== undefined) out.tags = distinct(input.tags);
  return out;
}

/** An id of the right list, or a 400 naming the field (an id of the other list is a mistake too). */
async function listEntry(tx: Tx, kind: ClientListKind, field: string, id: number | null): Promise<number | null> {
  if (id === null) return null;
  const [row] = await tx.select({ id: clientLists.id }).from(clientLists).where(and(eq(clientLists.id, id), eq(clientLists.kind, kind)));
  if (!row) throw new AppError('VALIDATION', `${field}: ${id} is not an entry of the ${kind} list`);
  return id;
}
