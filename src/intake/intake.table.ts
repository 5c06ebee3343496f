import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { clients } from '../clients/clients.table.js';
import { deals } from '../deals/deals.table.js';
import { departments } from '../departments/departments.table.js';
import { users } from '../users/users.table.js';

/** A company website allowed to post leads (migration 0011). */
export const intakeSites = pgTable(
  'intake_sites',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    name: text().notNull(),
    /** Where its unmatched leads wait, and whose curators hear of them. */
    departmentId: integer()
      .notNull()
      .references(() => departments.id, { onDelete: 'restrict' }),
    /** A serialised origin (`https://example.ru`): the only one CORS answers for this key. */
    allowedOrigin: text().notNull(),
    /** SHA-256 hex of the key; the key itself is shown once, at creation. */
    keyHash: text().notNull(),
    /** The key's first characters, so a director can tell keys apart without seeing them. */
    keyHint: text().notNull(),
    active: boolean().notNull().default(true),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique().on(t.keyHash)],
);

export interface Utm {
  source?: string;
  medium?: string;
  campaign?: string;
  term?: string;
  content?: string;
}

/** What a site sent. Becomes a deal at once (a client's phone) or when a curator assigns it. */
export const leads = pgTable(
  'leads',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    siteId: integer()
      .notNull()
      .references(() => intakeSites.id, { onDelete: 'restrict' }),
    /** Copied from the site on arrival: moving a site later does not move the leads waiting. */
    departmentId: integer()
      .notNull()
      .references(() => departments.id, { onDelete: 'restrict' }),
    name: text().notNull().default(''),
    /** E.164, or null when what was typed is not a number (kept in `phoneRaw`). */
    phone: text(),
    phoneRaw: text().notNull().default(''),
    email: text(),
    message: text().notNull().default(''),
    pageUrl: text(),
    utm: jsonb().$type<Utm>().notNull().default({}),
    ip: text(),
    clientId: integer().references(() => clients.id, { onDelete: 'set null' }),
    dealId: integer().references(() => deals.id, { onDelete: 'set null' }),
    assignedToId: integer().references(() => users.id, { onDelete: 'set null' }),
    /** null with `assignedAt` set: matched by phone, nobody chose. */
    assignedById: integer().references(() => users.id, { onDelete: 'set null' }),
    /** null: waiting in the department. */
    assignedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('leads_waiting_index').on(t.departmentId, t.id).where(sql`${t.assignedAt} IS NULL`), index().on(t.siteId)],
);
