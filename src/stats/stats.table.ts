import { bigint, date, doublePrecision, index, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

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

/** Missed inbound calls and when each was first called back (same trigger; see migration 0014). */
export const missedCalls = pgTable(
  'missed_calls',
  {
    callId: bigint({ mode: 'number' }).primaryKey(),
    userId: integer().notNull(),
    startedAt: timestamp({ withTimezone: true }).notNull(),
    externalNumber: text(),
    returnedAt: timestamp({ withTimezone: true }),
  },
  (t) => [index('missed_calls_user_id_started_at_index').on(t.userId, t.startedAt)],
);
