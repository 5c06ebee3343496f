import { bigint, boolean, index, integer, json, pgTable, real, smallint, text, timestamp } from 'drizzle-orm/pg-core';
import type { TieClient } from './types.js';

/**
 * One row per answer of /pbx/route: the per-call routing trace.
 *
 * The answer and the plan are written once per answer, at the route's rate, and only ever read
 * back whole: since migration 0025 as text (`answerBody`, `candidateList`, trace-encoding.ts);
 * older rows hold them as json (`answer`, `candidates`; not jsonb, migration 0002). Read a row's
 * plan with `tracedPlan`, which takes either.
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
    /** Rows from before migration 0025. */
    answer: json().$type<Record<string, string>>(),
    candidates: json().$type<unknown[]>(),
    /** The hash body the dialplan received (answer-format.ts). */
    answerBody: text(),
    /** The plan's candidates (trace-encoding.ts `encodeCandidates`). */
    candidateList: text(),
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
