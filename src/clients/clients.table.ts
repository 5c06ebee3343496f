import { sql } from 'drizzle-orm';
import { boolean, check, foreignKey, index, integer, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import { users } from '../users/users.table.js';

export const CLIENT_KINDS = ['company', 'person'] as const;
export const CLIENT_STATUSES = ['potential', 'current', 'former'] as const;
export const TEMPERATURES = ['cold', 'warm', 'hot'] as const;
export const CLIENT_LIST_KINDS = ['segment', 'source'] as const;
export type ClientListKind = (typeof CLIENT_LIST_KINDS)[number];

/** The choices a director keeps for a client's segment (industry) and source (site, call, import, manual…). */
export const clientLists = pgTable(
  'client_lists',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    kind: text({ enum: CLIENT_LIST_KINDS }).notNull(),
    name: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique().on(t.kind, t.name), check('client_lists_kind_check', sql`${t.kind} IN ('segment', 'source')`)],
);

export const clients = pgTable(
  'clients',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    name: text().notNull(),
    company: text(),
    kind: text({ enum: CLIENT_KINDS }).notNull().default('company'),
    legalName: text(),
    /** Russian taxpayer number (ИНН), checksum-validated on the way in (inn.ts). */
    inn: text(),
    emails: text().array().notNull().default(sql`'{}'`),
    website: text(),
    address: text(),
    segmentId: integer().references(() => clientLists.id, { onDelete: 'restrict' }),
    sourceId: integer().references(() => clientLists.id, { onDelete: 'restrict' }),
    status: text({ enum: CLIENT_STATUSES }).notNull().default('potential'),
    temperature: text({ enum: TEMPERATURES }),
    /** Shown in red on the screen-pop: a key account. */
    important: boolean().notNull().default(false),
    nextContactAt: timestamp({ withTimezone: true }),
    tags: text().array().notNull().default(sql`'{}'`),
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
  (t) => [
    index().on(t.ownerId),
    index().on(t.nextContactAt),
    index().on(t.lastContactAt),
    check('clients_kind_check', sql`${t.kind} IN ('company', 'person')`),
    check('clients_status_check', sql`${t.status} IN ('potential', 'current', 'former')`),
    check('clients_temperature_check', sql`${t.temperature} IN ('cold', 'warm', 'hot')`),
  ],
);

/** A person at the client: who picks up, who decides. Their numbers are rows of client_phones. */
export const clientContacts = pgTable(
  'client_contacts',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    clientId: integer()
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    name: text().notNull(),
    position: text(),
    emails: text().array().notNull().default(sql`'{}'`),
    decisionMaker: boolean().notNull().default(false),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  // (id, client_id) is the target of client_phones' contact key.
  (t) => [index().on(t.clientId), unique().on(t.id, t.clientId)],
);

/**
 * Numbers are stored in E.164 only; `raw` keeps what was typed, for the card. A contact's numbers
 * are here too (`contactId` set): routing and the call's client lookup read this one table, so a
 * contact's phone routes like the client's.
 */
export const clientPhones = pgTable(
  'client_phones',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    clientId: integer()
      .notNull()
      .references(() => clients.id, { onDelete: 'cascade' }),
    contactId: integer(),
    phone: text().notNull(),
    raw: text().notNull(),
  },
  (t) => [
    index().on(t.phone),
    index().on(t.contactId),
    unique().on(t.clientId, t.phone),
    foreignKey({ name: 'client_phones_contact_fk', columns: [t.contactId, t.clientId], foreignColumns: [clientContacts.id, clientContacts.clientId] }).onDelete('cascade'),
  ],
);
