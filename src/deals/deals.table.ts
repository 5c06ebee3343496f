import { index, integer, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const DEAL_STATUSES = ['new', 'negotiation', 'proposal', 'won', 'lost'] as const;
export const OPEN_DEAL_STATUSES = ['new', 'negotiation', 'proposal'] as const;

export const deals = pgTable(
  'deals',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    clientId: integer().notNull(),
    title: text().notNull(),
    status: text({ enum: DEAL_STATUSES }).notNull().default('new'),
    amount: numeric({ precision: 14, scale: 2 }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.clientId, t.status)],
);
