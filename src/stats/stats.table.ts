import { bigint, date, doublePrecision, index, integer, numeric, pgTable, primaryKey, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import { DEAL_STATUSES } from '../deals/deal-statuses.js';
import { deals, dealStatusChanges } from '../deals/deals.table.js';
import { PIPELINE } from './stats-figures.js';

/** The call sums both rollups keep (a function: drizzle columns are builders, one per table). */
const callSums = () => ({
  inbound: integer().notNull().default(0),
  outbound: integer().notNull().default(0),
  answered: integer().notNull().default(0),
  missed: integer().notNull().default(0),
  answerSecondsSum: doublePrecision().notNull().default(0),
  answerCount: integer().notNull().default(0),
  talkTotal: bigint({ mode: 'number' }).notNull().default(0),
  talkCount: integer().notNull().default(0),
});

/**
 * Call figures per person and local day, added by `call_stats_fold()` from call_stats_queue
 * (migration 0023; until then by the trigger on calls, 0014) as calls end; `SELECT
 * call_stats_rebuild()` recounts it. Migration 0014 also adds indexes to calls, deals, deal_status_changes, client_notes, reminders and change_history
 * that drizzle cannot declare (expressions, INCLUDE, partial): see the SQL.
 */
export const callStatsDaily = pgTable(
  'call_stats_daily',
  {
    userId: integer().notNull(),
    day: date().notNull(),
    ...callSums(),
  },
  (t) => [primaryKey({ name: 'call_stats_daily_pkey', columns: [t.userId, t.day] })],
);

/**
 * The same sums per person and local month (`month` is its first day), written by the same fold
 * (migrations 0015, 0023); whole months of a period are read here. `call_stats_rebuild()` recounts it.
 */
export const callStatsMonthly = pgTable(
  'call_stats_monthly',
  {
    userId: integer().notNull(),
    month: date().notNull(),
    ...callSums(),
  },
  (t) => [primaryKey({ name: 'call_stats_monthly_pkey', columns: [t.userId, t.month] })],
);

/**
 * Each ended call's share of the rollups above (with its sign: -1 when a counted call changes or
 * goes), appended by the trigger on calls (migration 0023) and added to them set-wise by
 * `call_stats_fold()` once a second (stats-folder.ts). The statistics read it with the rollups,
 * so a figure is exact before the fold. No key and no index: it holds about a second of calls.
 */
export const callStatsQueue = pgTable('call_stats_queue', {
  userId: integer().notNull(),
  startedAt: timestamp({ withTimezone: true }).notNull(),
  inbound: integer().notNull(),
  outbound: integer().notNull(),
  answered: integer().notNull(),
  missed: integer().notNull(),
  answerSecondsSum: doublePrecision().notNull(),
  answerCount: integer().notNull(),
  talkTotal: bigint({ mode: 'number' }).notNull(),
  talkCount: integer().notNull(),
});

/**
 * Per deal what "deals created" reads, kept by triggers on deals and deal_status_changes
 * (migration 0015): `reached` is the furthest PIPELINE stage (index) it ever had, -1 for none.
 * The (owner_id, created_at) index INCLUDEs status and reached (see the SQL).
 */
export const dealStats = pgTable(
  'deal_stats',
  {
    dealId: integer()
      .primaryKey()
      .references(() => deals.id, { onDelete: 'cascade' }),
    ownerId: integer(),
    createdAt: timestamp({ withTimezone: true }).notNull(),
    status: text().notNull(),
    reached: smallint().notNull(),
  },
  (t) => [index('deal_stats_owner_id_created_at_index').on(t.ownerId, t.createdAt)],
);

/**
 * Deals created per owner and local month: `s_<status>` now at each status, `r_<i>` reached
 * PIPELINE stage i or further; a trigger on deal_stats keeps it (migration 0015).
 */
export const dealStatsMonthly = pgTable(
  'deal_stats_monthly',
  {
    userId: integer('user_id').notNull(),
    month: date().notNull(),
    deals: integer().notNull().default(0),
    ...Object.fromEntries(DEAL_STATUSES.map((s) => [`s_${s}`, integer(`s_${s}`).notNull().default(0)])),
    ...Object.fromEntries(PIPELINE.map((_, i) => [`r_${i}`, integer(`r_${i}`).notNull().default(0)])),
  },
  (t) => [primaryKey({ name: 'deal_stats_monthly_pkey', columns: [t.userId, t.month] })],
);

/**
 * Every moment a deal became contract_paid, with the deal's current owner and amount, kept by
 * triggers on deals and deal_status_changes (migration 0015); indexed by (owner_id, paid_at).
 */
export const dealPayments = pgTable(
  'deal_payments',
  {
    changeId: bigint({ mode: 'number' })
      .primaryKey()
      .references(() => dealStatusChanges.id, { onDelete: 'cascade' }),
    dealId: integer().notNull(),
    ownerId: integer(),
    paidAt: timestamp({ withTimezone: true }).notNull(),
    amount: numeric({ precision: 14, scale: 2 }),
  },
  (t) => [index('deal_payments_owner_id_paid_at_index').on(t.ownerId, t.paidAt), index('deal_payments_deal_id_index').on(t.dealId)],
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
