import { bigint, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/** What a note records; every kind is a touch of the client (lastContactAt). */
export const NOTE_KINDS = ['note', 'call_summary', 'meeting', 'email', 'message', 'task'] as const;
export type NoteKind = (typeof NOTE_KINDS)[number];

export const clientNotes = pgTable(
  'client_notes',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    clientId: integer().notNull(),
    authorId: integer().notNull(),
    /** Set when the note is about one deal; the note still belongs to the deal's client. */
    dealId: integer(),
    kind: text({ enum: NOTE_KINDS }).notNull().default('note'),
    text: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.clientId, t.createdAt), index().on(t.dealId, t.createdAt)],
);
