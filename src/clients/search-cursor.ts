// Keyset cursors for the client search: the last row's sort key and id, opaque to the client.
// Null dates sort last through ±infinity (the same expressions as the indexes of migration 0012),
// so every row has a key and `(key, id) > (…)` never meets a null.
import { sql, type SQL } from 'drizzle-orm';
import { AppError } from '../errors.js';
import { clients } from './clients.table.js';

export const SORT_NAMES = ['name', 'lastContact', 'nextContact'] as const;
export type Sort = (typeof SORT_NAMES)[number];

export const SORTS: Record<Sort, { key: SQL; direction: 'asc' | 'desc'; after: '>' | '<' }> = {
  name: { key: sql`${clients.name}`, direction: 'asc', after: '>' },
  // The freshest touch first; never-touched clients at the end.
  lastContact: { key: sql`coalesce(${clients.lastContactAt}, '-infinity')`, direction: 'desc', after: '<' },
  // The soonest planned contact first; clients without one at the end.
  nextContact: { key: sql`coalesce(${clients.nextContactAt}, 'infinity')`, direction: 'asc', after: '>' },
};

export function encodeCursor(sort: Sort, key: string, id: number): string {
  return Buffer.from(JSON.stringify([sort, key, id])).toString('base64url');
}

/** The key as SQL of the sort's type; a cursor of another sort or a forged one is a 400. */
export function decodeCursor(cursor: string, sort: Sort): { key: SQL; id: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw new AppError('VALIDATION', 'cursor: not one of ours');
  const [of, key, id] = parsed as unknown[];
  if (of !== sort) throw new AppError('VALIDATION', `cursor: made for sort=${String(of)}, not ${sort}`);
  if (typeof key !== 'string' || !Number.isInteger(id) || (id as number) < 1) throw new AppError('VALIDATION', 'cursor: not one of ours');
  if (sort === 'name') return { key: sql`${key}`, id: id as number };
  // A forged date fails the cast in PostgreSQL: 22007, a 400 like any bad input.
  return { key: sql`${key}::timestamptz`, id: id as number };
}
