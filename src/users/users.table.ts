import { type AnyPgColumn, index, integer, pgTable, text, timestamp, boolean } from 'drizzle-orm/pg-core';
import { departments } from '../departments/departments.table.js';

export const ROLES = ['director', 'curator', 'manager', 'assistant'] as const;
export type Role = (typeof ROLES)[number];
export const PRESENCES = ['available', 'away', 'dnd', 'offline'] as const;
export type Presence = (typeof PRESENCES)[number];
export const ABSENT_RULES = ['mobile', 'department', 'voicemail'] as const;
export type AbsentRule = (typeof ABSENT_RULES)[number];

export const users = pgTable(
  'users',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    login: text().notNull().unique(),
    name: text().notNull(),
    passwordHash: text().notNull(),
    role: text({ enum: ROLES }).notNull(),
    departmentId: integer().references(() => departments.id, { onDelete: 'set null' }),
    /** For an assistant: the manager they work for. */
    managerId: integer().references((): AnyPgColumn => users.id, { onDelete: 'set null' }),
    extension: text().unique(),
    mobile: text(),
    absentRule: text({ enum: ABSENT_RULES }).notNull().default('department'),
    /** A new user is reachable from the start (migration 0004): `offline` silently dropped their clients' calls. */
    presence: text({ enum: PRESENCES }).notNull().default('available'),
    presenceChangedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    active: boolean().notNull().default(true),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index().on(t.departmentId), index().on(t.managerId)],
);
