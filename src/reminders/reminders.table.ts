import { bigint, boolean, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const REMINDER_STATUSES = ['pending', 'fired', 'done', 'cancelled'] as const;
export const REMINDER_KINDS = ['reminder', 'callback'] as const;

/**
 * The reminder row is the truth; the BullMQ delayed job (jobId = reminder id) is only the alarm
 * clock, re-created by the reconciler when Redis lost it. `firedAt` is set once, by a guarded
 * UPDATE, so a reminder never fires twice.
 */
export const reminders = pgTable(
  'reminders',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    kind: text({ enum: REMINDER_KINDS }).notNull().default('reminder'),
    /** Whose reminder: the manager (or the curator after escalation). null = the department's list. */
    userId: integer(),
    departmentId: integer(),
    clientId: integer(),
    /** A reminder about one deal of the client (migration 0009). */
    dealId: integer(),
    /** For callbacks: the number to call back (unknown callers have no client). */
    phone: text(),
    /** The missed call that created a callback. */
    callId: bigint({ mode: 'number' }),
    createdById: integer(),
    dueAt: timestamp({ withTimezone: true }).notNull(),
    note: text().notNull().default(''),
    /** Callbacks: how many calls from this number were missed, and when the last one ended. */
    missedCalls: integer().notNull().default(0),
    lastMissedAt: timestamp({ withTimezone: true }),
    autoDial: boolean().notNull().default(false),
    status: text({ enum: REMINDER_STATUSES }).notNull().default('pending'),
    firedAt: timestamp({ withTimezone: true }),
    /** Delivered to a connected screen at least once. */
    deliveredAt: timestamp({ withTimezone: true }),
    escalateAt: timestamp({ withTimezone: true }),
    escalatedAt: timestamp({ withTimezone: true }),
    completedAt: timestamp({ withTimezone: true }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index().on(t.status, t.dueAt),
    index().on(t.userId, t.status),
    index().on(t.departmentId, t.status),
    index().on(t.clientId, t.status),
    index().on(t.dealId),
  ],
);
