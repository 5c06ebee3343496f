import { bigint, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const clientNotes = pgTable(
  'client_notes',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    clientId: integer().notNull(),
    authorId: integer().notNull(),
    text: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.clientId, t.createdAt)],
);
