import { bigint, index, integer, jsonb, pgTable, real, smallint, text, timestamp } from 'drizzle-orm/pg-core';

/** One row per answer of /pbx/route: the per-call routing trace. */
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
    answer: jsonb().$type<Record<string, string>>().notNull(),
    candidates: jsonb().$type<unknown[]>().notNull(),
    clientId: integer(),
    managerId: integer(),
    latencyMs: real().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.linkedid, t.step)],
);
