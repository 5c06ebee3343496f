import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';

// The words of client names and who holds them (migration 0020). Written only by triggers on
// clients; read by name-words.ts. No foreign key on purpose: see the migration.

/** One row per (word, client): the word's clients come in name order off the btree. */
export const clientNameWords = pgTable(
  'client_name_words',
  {
    word: text().notNull(),
    /** The client's name, copied: the sort key of the page, so the index alone orders the matches. */
    name: text().notNull(),
    clientId: integer().notNull(),
  },
  (t) => [index('client_name_words_word_name_client').on(t.word, t.name, t.clientId)],
);

/** The distinct words of all names (a word may appear twice: concurrent writers never wait). */
export const nameWords = pgTable(
  'name_words',
  {
    word: text().notNull(),
  },
  (t) => [index('name_words_word').on(t.word), index('name_words_word_trgm').using('gin', t.word.op('gin_trgm_ops'))],
);

/** Each pair of neighbouring words of a client's folded text (migration 0024): a fragment's two common words. */
export const clientNamePairs = pgTable(
  'client_name_pairs',
  {
    first: text().notNull(),
    /** What separates the two words in the folded text (' ', ' «', '-'): a fragment's separators are matched as typed. */
    sep: text().notNull(),
    second: text().notNull(),
    /** The client's name, copied, as in client_name_words. */
    name: text().notNull(),
    clientId: integer().notNull(),
  },
  (t) => [index('client_name_pairs_pair_name_client').on(t.first, t.sep, t.second, t.name, t.clientId)],
);
