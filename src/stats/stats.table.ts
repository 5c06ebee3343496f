import { bigint, doublePrecision, integer, date, pgTable, primaryKey } from 'drizzle-orm/pg-core';

/**
 * Call figures per person and local day, written only by the trigger on calls (migration 0014,
 * `call_stats_track`) as calls end; `SELECT call_stats_rebuild()` recounts it. The same migration
 * adds indexes to calls, deals, deal_status_changes, client_notes, reminders and change_history
 * that drizzle cannot declare (expressions, INCLUDE, partial): see the SQL.
 */
export const callStatsDaily = pgTable(
  'call_stats_daily',
  {
    userId: integer().notNull(),
    day: date().notNull(),
    inbound: integer().notNull().default(0),
    outbound: integer().notNull().default(0),
    answered: integer().notNull().default(0),
    missed: integer().notNull().default(0),
    answerSecondsSum: doublePrecision().notNull().default(0),
    answerCount: integer().notNull().default(0),
    talkTotal: bigint({ mode: 'number' }).notNull().default(0),
    talkCount: integer().notNull().default(0),
  },
  (t) => [primaryKey({ name: 'call_stats_daily_pkey', columns: [t.userId, t.day] })],
);
