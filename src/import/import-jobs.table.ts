import { sql } from 'drizzle-orm';
import { boolean, check, index, integer, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { users } from '../users/users.table.js';
import type { ColumnMapping } from './import-fields.js';

export const IMPORT_STATUSES = ['checked', 'queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/**
 * One uploaded file from its dry run to the end of its real run (migration 0013). `lastRow` is
 * the last file row whose batch committed, in the same transaction as the batch: a worker
 * restarted mid-file resumes after it, so no row is applied twice.
 */
export const importJobs = pgTable(
  'import_jobs',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    createdBy: integer().notNull().references(() => users.id, { onDelete: 'restrict' }),
    fileName: text().notNull(),
    format: text({ enum: ['csv', 'xlsx'] }).notNull(),
    encoding: text(),
    delimiter: text(),
    sheet: text(),
    mapping: jsonb().$type<ColumnMapping[]>().notNull(),
    defaultOwnerId: integer().notNull().references(() => users.id, { onDelete: 'restrict' }),
    status: text({ enum: IMPORT_STATUSES }).notNull().default('checked'),
    rowsTotal: integer().notNull().default(0),
    lastRow: integer().notNull().default(0),
    rowsDone: integer().notNull().default(0),
    createdCount: integer().notNull().default(0),
    updatedCount: integer().notNull().default(0),
    unchangedCount: integer().notNull().default(0),
    rejectedCount: integer().notNull().default(0),
    report: jsonb().$type<Record<string, unknown>>(),
    error: text(),
    cancelRequested: boolean().notNull().default(false),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp({ withTimezone: true }),
    finishedAt: timestamp({ withTimezone: true }),
  },
  (t) => [
    index().on(t.createdBy),
    check('import_jobs_status_check', sql`${t.status} IN ('checked', 'queued', 'running', 'done', 'failed', 'cancelled')`),
    check('import_jobs_format_check', sql`${t.format} IN ('csv', 'xlsx')`),
  ],
);
