import { bigint, boolean, index, integer, json, pgTable, real, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import type { TieClient } from './types.js';

/**
 * One row per answer of /pbx/route: the per-call routing trace.
 *
 * `answer` and `candidates` are `json`, not `jsonb`: they are written once per answer, at the
 * route's rate, and only ever read back whole. Turning them into jsonb was more than half of
 * PostgreSQL's CPU for a trace row (migration 0002; figures in BENCHMARKS.md).
 */
export const routeDecisions = pgTable(
  'route_decisions',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    linkedid: text().notNull(),
    uniqueid: text().notNull(),
    step: smallint().notNull(),
    lastStatus: text().notNull(),
    callerRaw: text().notNull(),
    caller: text(),
    did: text().notNull(),
    action: text().notNull(),
    reason: text().notNull(),
    answer: json().$type<Record<string, string>>().notNull(),
    candidates: json().$type<unknown[]>().notNull(),
    clientId: integer(),
    /** Several clients have the caller's number (migration 0004). */
    tie: boolean().notNull().default(false),
    /** The clients of a tie, the winner marked; null without a tie. */
    tieClients: json().$type<TieClient[]>(),
    managerId: integer(),
    /** Answered from a directory not shown current within ROUTE_FRESH_MS (migration 0006). */
    stale: boolean().notNull().default(false),
    /** Age of the directory's last proof of being current, ms; null on rows from before 0006. */
    directoryAgeMs: integer(),
    latencyMs: real().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.linkedid, t.step)],
);
