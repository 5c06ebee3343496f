// The word path of the name search (migration 0020): a fragment of letters and digits lies inside
// one word of a name, so its matches are the clients of the words that hold it, and those come
// off the btree (word, name, client_id) already in the page's order. This is what made a common
// word cheap wherever it sits in the alphabet: `зеленый` walked 300,000 name-index entries to
// its first match, and collecting its 25,000 matches on the trigram index read 17,000 table
// pages (BENCHMARKS.md, client base search). Typos are pg_trgm's own recipe: the words close to
// the typed one, then the clients of those words.
import { inArray, like, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Tx } from './clients.service.js';
import { clientNameWords, nameWords } from './name-words.table.js';

/** The letters of a word as name_words_of() splits the folded text: anything else separates words. */
const WORD = /^[0-9a-zа-я]+$/;
const LETTER = /[a-zа-я]/;

/**
 * The folded fragment if the word path can answer it exactly: letters and digits only (so it
 * cannot span two words) and at least one letter (words of digits only are not stored).
 */
export const singleWord = (folded: string): string | undefined => (WORD.test(folded) && LETTER.test(folded) ? folded : undefined);

/**
 * More words than this hold the fragment ('а', 'ов'): merging that many lists costs more than the
 * trigram path, which answers instead. A typo takes its closest words up to this many.
 */
export const MAX_WORDS = 64;

type Conn = Db | Tx;

/** The distinct words holding the fragment; undefined when there are too many. */
async function wordsHolding(conn: Conn, fragment: string): Promise<string[] | undefined> {
  // `fragment` has letters and digits only: no `%` or `_` to escape.
  const rows = await conn.selectDistinct({ word: nameWords.word }).from(nameWords).where(like(nameWords.word, `%${fragment}%`)).limit(MAX_WORDS + 1);
  return rows.length > MAX_WORDS ? undefined : rows.map((r) => r.word);
}

/** Words whose closeness to the typed one passes pg_trgm.word_similarity_threshold (`<%`), closest first. */
export async function wordsCloseTo(conn: Conn, typed: string): Promise<string[]> {
  const rows = await conn
    .select({ word: nameWords.word })
    .from(nameWords)
    .where(sql`${typed} <% ${nameWords.word}`)
    .groupBy(nameWords.word)
    .orderBy(sql`word_similarity(${typed}, ${nameWords.word}) desc`, nameWords.word)
    .limit(MAX_WORDS);
  return rows.map((r) => r.word);
}

/** Whether any client holds one of the words (a word outlives its last client in name_words). */
async function anyClientOf(conn: Conn, words: string[]): Promise<boolean> {
  const rows = await conn.select({ one: sql`1` }).from(clientNameWords).where(inArray(clientNameWords.word, words)).limit(1);
  return rows.length > 0;
}

/**
 * The ids of the first `n` clients holding any of the words, in name order, after the cursor.
 * Each word's list gives its first `n` off the index; a client among the first `n` of all of them
 * is among the first `n` of each list it is in, so the merge of those is exact.
 */
async function clientsOf(conn: Conn, words: string[], after: { key: SQL; id: number } | undefined, n: number): Promise<number[]> {
  const afterCursor = after === undefined ? sql`` : sql`and (c.name, c.client_id) > (${after.key}, ${after.id})`;
  const rows = await conn.execute<{ client_id: number }>(sql`
    select m.client_id from unnest(${sql.param(words)}::text[]) as w(word)
      cross join lateral (
        select c.client_id, c.name from ${clientNameWords} c where c.word = w.word ${afterCursor}
        order by c.name, c.client_id limit ${n}
      ) m
    group by m.name, m.client_id order by m.name, m.client_id limit ${n}`);
  return rows.rows.map((r) => Number(r.client_id));
}

/**
 * The page's client ids by the word path, or undefined when the fragment is held by too many
 * words (the caller takes the trigram path). With `typos`, a fragment no client holds is
 * matched by the words close to it — the same rule as the trigram path (client-search.ts).
 */
export async function pageByWords(conn: Conn, fragment: string, typos: boolean, after: { key: SQL; id: number } | undefined, n: number): Promise<number[] | undefined> {
  let words = await wordsHolding(conn, fragment);
  if (words === undefined) return undefined;
  // Decided without the cursor: every page of one search takes the same branch.
  if (typos && (words.length === 0 || !(await anyClientOf(conn, words)))) words = await wordsCloseTo(conn, fragment);
  return words.length === 0 ? [] : clientsOf(conn, words, after, n);
}
