import { bigint, boolean, index, integer, jsonb, numeric, pgTable, text, timestamp, unique, type AnyPgColumn } from 'drizzle-orm/pg-core';
import { calls } from '../calls/calls.table.js';
import { departments } from '../departments/departments.table.js';
import { users } from '../users/users.table.js';
import type { Answers, Criterion } from './review-score.js';

/** A scorecard is a name; what it asks is in its versions (migration 0014). */
export const scorecards = pgTable('scorecards', {
  id: integer().primaryKey().generatedAlwaysAsIdentity(),
  name: text().notNull(),
  /** null: the company's (every department); else one department's. */
  departmentId: integer().references(() => departments.id, { onDelete: 'cascade' }),
  archived: boolean().notNull().default(false),
  createdById: integer().references(() => users.id, { onDelete: 'set null' }),
  createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
});

/** Never updated: an edit of the scorecard is a new version, so past reviews keep theirs. */
export const scorecardVersions = pgTable(
  'scorecard_versions',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    scorecardId: integer()
      .notNull()
      .references(() => scorecards.id, { onDelete: 'cascade' }),
    version: integer().notNull(),
    criteria: jsonb().$type<Criterion[]>().notNull(),
    createdById: integer().references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique().on(t.scorecardId, t.version)],
);

export const callReviews = pgTable(
  'call_reviews',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    callId: bigint({ mode: 'number' })
      .notNull()
      .references(() => calls.id, { onDelete: 'cascade' }),
    scorecardVersionId: integer()
      .notNull()
      .references(() => scorecardVersions.id, { onDelete: 'restrict' }),
    reviewerId: integer().references(() => users.id, { onDelete: 'set null' }),
    /** Whose call it was, fixed when reviewed (stats/call-manager.ts). */
    managerId: integer().references(() => users.id, { onDelete: 'set null' }),
    answers: jsonb().$type<Answers>().notNull(),
    /** 0..100 (review-score.ts). */
    total: numeric({ precision: 5, scale: 2, mode: 'number' }).notNull(),
    summary: text().notNull().default(''),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('call_reviews_call_id_index').on(t.callId), index('call_reviews_manager_id_created_at_index').on(t.managerId, t.createdAt)],
);

export const reviewComments = pgTable(
  'review_comments',
  {
    id: integer().primaryKey().generatedAlwaysAsIdentity(),
    reviewId: integer()
      .notNull()
      .references(() => callReviews.id, { onDelete: 'cascade' }),
    /** A reply to this comment. */
    parentId: integer().references((): AnyPgColumn => reviewComments.id, { onDelete: 'cascade' }),
    authorId: integer().references(() => users.id, { onDelete: 'set null' }),
    /** The moment of the recording, in seconds; null on replies. */
    atSecond: numeric({ precision: 8, scale: 1, mode: 'number' }),
    toSecond: numeric({ precision: 8, scale: 1, mode: 'number' }),
    body: text().notNull(),
    createdAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('review_comments_review_id_index').on(t.reviewId)],
);
