import { boolean, index, integer, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { users } from '../users/users.table.js';

export const clients = pgTable(
  'clients',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    name: text().notNull(),
    company: text(),
    /** Shown in red on the screen-pop: a key account. */
    important: boolean().notNull().default(false),
    ownerId: integer()
      .notNull()
      .references(() => users.id, { onDelete: 'restrict' }),
    /** Bumped by every call and edit; breaks ties when several clients share a number. */
    lastActivityAt: timestamp({ withTimezone: true }),
    /** The last touch: a call with the client ended or a note was added (migration 0009). */
    lastContactAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.ownerId), index().on(t.lastContactAt)],
);

/** Numbers are stored in E.164 only; `raw` keeps what was typed, for the card. */
export const clientPhones = pgTable(
  'client_phones',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    clientId: integer()
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    phone: text().notNull(),
    raw: text().notNull(),
  },
  (t) => [index().on(t.phone), unique().on(t.clientId, t.phone)],
);
