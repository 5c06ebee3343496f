import { index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { WeeklySchedule } from '../routing/business-hours.js';

export const departments = pgTable('departments', {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  name: text().notNull().unique(),
  /** The common line: an Asterisk queue name (`queue`) or a dial string (`dial`). */
  lineKind: text({ enum: ['queue', 'dial'] }).notNull(),
  lineTarget: text().notNull(),
  voicemailBox: text(),
  /** null = always open. */
  businessHours: jsonb().$type<WeeklySchedule>(),
  timeZone: text().notNull().default('Europe/Moscow'),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** A dialled number (E.164) belongs to exactly one department. */
export const departmentDids = pgTable(
  'department_dids',
  {
    did: text().primaryKey(),
    departmentId: integer()
      .notNull()
      .references(() => departments.id, { onDelete: 'cascade' }),
  },
  (t) => [index().on(t.departmentId)],
);
