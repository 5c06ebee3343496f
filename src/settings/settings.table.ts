import { boolean, check, integer, pgTable, timestamp } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';

/**
 * The director's switches for protecting the base (migration 0017): one row, id 1. A row that
 * does not exist yet means "as the configuration says" (MASK_PHONES_IN_LISTS, READ_BUDGET_SUSPEND),
 * so a fresh install behaves as documented before anybody opens the settings.
 */
export const settings = pgTable(
  'settings',
  {
    id: integer().primaryKey().default(1),
    maskPhonesInLists: boolean().notNull(),
    suspendOnScraping: boolean().notNull(),
    updatedBy: integer(),
    updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('settings_one_row', sql`${t.id} = 1`)],
);
