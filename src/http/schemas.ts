import { Type } from '@sinclair/typebox';

// Our ids are PostgreSQL `integer` (int4). A number past its range used to reach the database and
// come back as error 22003, a 500; bounding it here turns it into a 400 that names the field.
export const INT32_MAX = 2_147_483_647;

/** A row id: 1 … 2^31-1. */
export const Id = (options: { description?: string } = {}) => Type.Integer({ minimum: 1, maximum: INT32_MAX, ...options });

/** Paging. The offset has the same bound as an id: no table of ours holds more rows. */
export const Offset = Type.Integer({ minimum: 0, maximum: INT32_MAX, default: 0 });
export const Limit = (max: number, fallback: number) => Type.Integer({ minimum: 1, maximum: max, default: fallback });

/** A path segment that may be a numeric id: the id, or null when it is not one we could store. */
export function asDbId(ref: string): number | null {
  if (!/^\d{1,10}$/.test(ref)) return null;
  const id = Number(ref);
  return id >= 1 && id <= INT32_MAX ? id : null;
}
