import { bigint, boolean, index, integer, numeric, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { clients } from '../clients/clients.table.js';
import { users } from '../users/users.table.js';
import { DEAL_STATUSES } from './deal-statuses.js';

export { DEAL_STATUSES, OPEN_DEAL_STATUSES } from './deal-statuses.js';

/** The director's list of deal types; a type in use is archived, not deleted. */
export const dealTypes = pgTable(
  'deal_types',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    name: text().notNull(),
    /** `#rrggbb`, how the console paints the deal. */
    color: text().notNull(),
    archived: boolean().notNull().default(false),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique().on(t.name)],
);

export const deals = pgTable(
  'deals',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    clientId: integer()
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    title: text().notNull(),
    status: text({ enum: DEAL_STATUSES }).notNull().default('new'),
    amount: numeric({ precision: 14, scale: 2 }),
    /** ISO 4217. */
    currency: text().notNull().default('RUB'),
    typeId: integer().references(() => dealTypes.id, { onDelete: 'restrict' }),
    important: boolean().notNull().default(false),
    description: text().notNull().default(''),
    /** Defaults to the client's owner; null only on rows older than migration 0009 without a client. */
    ownerId: integer().references(() => users.id, { onDelete: 'restrict' }),
    source: text(),
    createdById: integer().references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.clientId, t.status), index().on(t.ownerId), index().on(t.typeId)],
);

/** Every status a deal went through, for the statistics (issue 11): never updated, never pruned. */
export const dealStatusChanges = pgTable(
  'deal_status_changes',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    dealId: integer()
      .notNull()
      .references(() => deals.id, { onDelete: 'cascade' }),
    /** null: the deal was created with `toStatus`. */
    fromStatus: text({ enum: DEAL_STATUSES }),
    toStatus: text({ enum: DEAL_STATUSES }).notNull(),
    changedById: integer().references(() => users.id, { onDelete: 'set null' }),
    changedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.dealId, t.changedAt), index().on(t.changedAt)],
);

/** A file attached to a deal; the bytes live in the deal-file storage under `storageKey`. */
export const dealFiles = pgTable(
  'deal_files',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    dealId: integer()
      .notNull()
      .references(() => deals.id, { onDelete: 'cascade' }),
    storageKey: text().notNull(),
    /** As the user's computer named it, cleaned of paths and control characters. */
    fileName: text().notNull(),
    contentType: text().notNull(),
    size: bigint({ mode: 'number' }).notNull(),
    uploadedById: integer().references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.dealId), unique().on(t.storageKey)],
);
