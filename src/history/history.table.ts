import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** What a trigger records per changed field: values, or only `changed` for a secret. */
export type FieldChange = { old?: unknown; new?: unknown; changed?: true };

/**
 * Field-level change history. Written only by the `history_record()` trigger (migration 0010),
 * never by the service, so a change made in psql is recorded the same way as one made by the API.
 * An import's batches write the same rows set-wise (history_record_set(), migration 0019).
 */
export const changeHistory = pgTable(
  'change_history',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    tableName: text().notNull(),
    rowId: text(),
    /** `truncate`: a whole table emptied (row_id null, no changes). */
    op: text({ enum: ['insert', 'update', 'delete', 'truncate'] }).notNull(),
    /** null when the change did not come through the service (see `dbUser`). */
    actorId: integer(),
    dbUser: text().notNull(),
    via: text().notNull(),
    clientId: integer(),
    dealId: integer(),
    changes: jsonb().$type<Record<string, FieldChange>>().notNull(),
    /** The import (import_jobs.id) that made the change: "import #N by <actor>" (migration 0013). */
    importId: integer(),
    at: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.clientId, t.id), index().on(t.dealId, t.id).where(sql`${t.dealId} is not null`), index().on(t.tableName, t.rowId, t.id)],
);
