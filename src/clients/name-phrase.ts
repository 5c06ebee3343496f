// The word path for a fragment of several words ('ромашка групп', 'ромашка-ю', typos of them).
// A match is still what it always was: the folded search text holds the fragment (`like`); the
// words only find the candidates. Cut as name_words_of() cuts names, each word of the fragment
// lies inside one word of a matching name — a word between two separators IS that word, the
// first ends it, the last begins it — and two neighbouring words of the fragment are two
// neighbouring words of the name (client_name_pairs, migration 0024). So the clients of the
// rarest word or pair, walked in name order off their btree and each tested with `like`, give
// the page in order. Testing one candidate costs a look-up in clients (~6–9 µs): past WALK_CAP
// candidates the trigram index answers instead (undefined to the caller); two common words are
// merged off their two lists first. Before, a two-word search went to the trigram path: 80 ms for
// `ромашка групп` (8,333 matches), 0.5 s for `групп ооо` (none; BENCHMARKS.md).
import { and, like, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { Tx } from './clients.service.js';
import { clientNamePairs, clientNameWords, nameWords } from './name-words.table.js';
import { MAX_WORDS, wordsCloseTo } from './name-words.js';

type Conn = Db | Tx;

/** As name_words_of() splits the folded text: anything but these separates words. */
const SEPARATORS = /([^0-9a-zа-я]+)/;
const LETTER = /[a-zа-я]/;

/**
 * Candidates tested at most before the trigram path answers instead: 5–9 ms of look-ups. A word
 * held by no more clients than this is walked to its end, so its answer is always exact.
 */
export const WALK_CAP = 1_000;

/** Words of the fragment whose name words are looked up to find candidates (a 200-character fragment of one-letter words would cost a query each). */
const MAX_DRIVERS = 8;
/** Pairs of name words two neighbouring words of the fragment can be, at most, for one list. */
const MAX_PAIRS = 16;

/** One word of the fragment and where it sits: the pattern of the name words that can hold it. */
interface Token {
  text: string;
  /** Its place in `parts`: neighbours are two apart. */
  at: number;
  /** A separator before it in the fragment: the name's word begins with it. */
  start: boolean;
  /** A separator after it: the name's word ends with it. */
  end: boolean;
}

export interface Phrase {
  /** Words and separators alternating, a word first (empty when the fragment starts with a separator). */
  parts: string[];
  tokens: Token[];
}


/** The folded fragment cut into words; undefined when no word has a letter (digits-only words are not stored). */
export function phraseOf(folded: string): Phrase | undefined {
  const parts = folded.split(SEPARATORS);
  const tokens: Token[] = [];
  for (let i = 0; i < parts.length; i += 2) {
    if (parts[i] !== '') tokens.push({ text: parts[i]!, at: i, start: i > 0, end: i < parts.length - 1 });
  }
  return tokens.some((t) => LETTER.test(t.text)) ? { parts, tokens } : undefined;
}

const patternOf = (t: Token): string => `${t.start ? '' : '%'}${t.text}${t.end ? '' : '%'}`;

/** Name words matching any of the `like` patterns (letters and digits: nothing to escape); undefined past MAX_WORDS. */
async function wordsLike(conn: Conn, patterns: string[]): Promise<string[] | undefined> {
  const rows = await conn
    .selectDistinct({ word: nameWords.word })
    .from(nameWords)
    // OR of `like`s, not `like any(…)`: the trigram index serves each one (a BitmapOr), not the array.
    .where(or(...patterns.map((p) => like(nameWords.word, p))))
    .limit(MAX_WORDS + 1);
  return rows.length > MAX_WORDS ? undefined : rows.map((r) => r.word);
}

type After = { key: SQL; id: number } | undefined;

/** A name word (client_name_words) or two neighbouring ones and their separator (client_name_pairs, migration 0024). */
type Key = string | readonly [string, string, string];
/** Longer separators are not stored with the pairs (migration 0024). */
const SEP_MAX = 20;
/** The keys one word, or two neighbouring words, of the fragment can be: their clients are the candidates. */
type List = Key[];

const keyRows = (key: Key, afterCursor: SQL, tail: SQL): SQL =>
  typeof key === 'string'
    ? sql`(select c.name, c.client_id from ${clientNameWords} c where c.word = ${key} ${afterCursor} ${tail})`
    : sql`(select c.name, c.client_id from ${clientNamePairs} c where c.first = ${key[0]} and c.sep = ${key[1]} and c.second = ${key[2]} ${afterCursor} ${tail})`;

/** The (name, client_id) of the keys' clients in name order after the cursor, at most `cap`, each client once. */
function candidates(words: List, after: After, cap: number): SQL {
  const afterCursor = after === undefined ? sql`` : sql`and (c.name, c.client_id) > (${after.key}, ${after.id})`;
  const one = (key: Key) => keyRows(key, afterCursor, sql`order by c.name, c.client_id limit ${cap}`);
  if (words.length === 1) return one(words[0]!);
  // Each word's list comes in order off the index: merged (Merge Append) and de-duplicated
  // (a client holding two of the words) without sorting, so the walk stops at the page.
  return sql`(select distinct u.name, u.client_id from (${sql.join(words.map(one), sql` union all `)}) u order by u.name, u.client_id limit ${cap})`;
}

/** How many clients hold one of the keys, counted up to `cap + 1`: one figure per list. */
async function clientCounts(conn: Conn, lists: List[], cap: number): Promise<number[]> {
  const counts = lists.map((keys, i) => {
    const rows = sql.join(keys.map((key) => keyRows(key, sql``, sql`limit ${cap + 1}`)), sql` union all `);
    return sql`(select count(*)::int from (select 1 from (${rows}) u limit ${cap + 1}) x) as ${sql.identifier(`n${i}`)}`;
  });
  const rows = await conn.execute<Record<string, number>>(sql`select ${sql.join(counts, sql`, `)}`);
  return lists.map((_, i) => Number(rows.rows[0]![`n${i}`]));
}

/**
 * The first `n` clients after the cursor, in name order, among the clients of `words` whose
 * folded search text passes `test`; undefined when WALK_CAP candidates did not settle it.
 */
async function walk(conn: Conn, words: List, holders: number, test: SQL, after: After, n: number): Promise<number[] | undefined> {
  // The test is a subquery per candidate on purpose: as a join, the planner sends the `like` to
  // the trigram index and collects every match (55 ms for 8,406) instead of stopping at the page.
  const rows = await conn.execute<{ client_id: number }>(sql`
    select m.client_id from ${candidates(words, after, WALK_CAP)} m
    where (select ${test} from clients where clients.id = m.client_id)
    order by m.name, m.client_id limit ${n}`);
  const ids = rows.rows.map((r) => Number(r.client_id));
  if (ids.length === n || holders <= WALK_CAP) return ids;
  // Fewer than a page: exact only if the walk reached the end of the list before the cap.
  const left = await conn.execute<{ n: number }>(sql`select count(*)::int n from ${candidates(words, after, WALK_CAP + 1)} m`);
  return Number(left.rows[0]!.n) <= WALK_CAP ? ids : undefined;
}

const searchText = sql`client_search_text(clients.name, clients.legal_name, clients.company)`;
const literal = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** A separator as a regular expression matching itself alone. */
const regexLiteral = (sep: string): string => [...sep].map((c) => (/[!-/:-@[-`{-~]/.test(c) ? `\\${c}` : `[${c}]`)).join('');

/** Any run of characters that are not letters or digits: a separator of name words. */
const ANY_SEPARATOR = '[^0-9a-zа-я]+';

/**
 * The typo rule for several words (the same for every path): when no client holds the fragment,
 * each of its words that no name holds where it stands is replaced by the name words close to it
 * (pg_trgm's recipe, as for one word); a client matches when its text holds the fragment so
 * corrected. When every word is held where it stands, what differs is the separators: then any
 * separator between two words matches any other stored one, and those at the fragment's edges
 * are dropped, so `ооо лотос`, `ООО «Лотос»` and `"лотос"` find `ООО “Лотос”` — company names
 * come with every kind of quotes; `pairs` is then the word path's pair lists (a loose fragment's
 * pairs are not the typed ones listsOf makes). As a POSIX regular expression (the trigram index
 * serves `~` too). `none`: nothing can match (a word has nothing close to it, or a gap nothing
 * after its first word).
 */
export async function correctedPhrase(
  conn: Conn,
  phrase: Phrase,
): Promise<{ regex: string; words: Placed[]; pairs?: List[] } | 'none'> {
  const pieces: string[] = [];
  const words: Placed[] = [];
  let corrections = 0;
  for (let i = 0; i < phrase.parts.length; i++) {
    const part = phrase.parts[i]!;
    if (i % 2 === 1) {
      pieces.push(regexLiteral(part));
      continue;
    }
    if (part === '') continue;
    if (!LETTER.test(part)) {
      pieces.push(part);
      continue;
    }
    const held = await wordsLike(conn, [patternOf({ text: part, at: i, start: i > 0, end: i < phrase.parts.length - 1 })]);
    if (held === undefined || (held.length > 0 && (await anyHolder(conn, held)))) {
      pieces.push(part);
      words.push({ at: i, list: held });
      continue;
    }
    const close = await wordsCloseTo(conn, part);
    if (close.length === 0) return 'none';
    corrections++;
    pieces.push(`(${close.join('|')})`);
    // The text holds a close word: its clients are those of the words holding one.
    words.push({ at: i, list: await wordsLike(conn, close.map((w) => `%${w}%`)) });
  }
  if (corrections > 0) return { regex: pieces.join(''), words };
  // Every word held where it stands, and no client holds the fragment: its separators differ.
  // `pairs`: the lists of pairs with any stored separator (each gap's `pairs`), for the word path.
  let regex = '';
  const pairs: List[] = [];
  let previous: number | undefined;
  for (let i = 0; i < phrase.parts.length; i += 2) {
    if (phrase.parts[i] === '') continue;
    if (previous !== undefined) {
      const gap = await gapBetween(conn, words, previous, i);
      if (gap === 'none') return 'none';
      regex += gap.regex;
      if (gap.pairs !== undefined) pairs.push(gap.pairs);
    }
    regex += phrase.parts[i];
    previous = i;
  }
  return { regex, words, pairs };
}

/**
 * What may stand between two neighbouring words of a loose fragment, from the separators
 * client_name_pairs holds after the first word's name words:
 * - `regex`: those separators as an alternation, so that the trigram index keeps the trigrams
 *   across the gap as it does for the fragment itself; any run of non-letters when the pairs
 *   cannot say (a word of digits, too many name words or separators);
 * - `pairs`: the pairs (first, separator, second) themselves, a list for the word path, when
 *   there are few enough (LOOSE_PAIRS_MAX);
 * `none` when no name has any word after the first word's. Separators longer than SEP_MAX are
 * not stored with the pairs, so a name holding one is not matched loosely across that gap.
 */
async function gapBetween(conn: Conn, placed: Placed[], first: number, second: number): Promise<{ regex: string; pairs?: Key[] } | 'none'> {
  const any = { regex: ANY_SEPARATOR };
  const a = placed.find((p) => p.at === first)?.list;
  const b = placed.find((p) => p.at === second);
  if (a === undefined || b === undefined || a.length > MAX_PAIRS) return any;
  const seps = new Set<string>();
  const pairs: Key[] = [];
  for (const x of a) {
    const after = await separatorsAfter(conn, x);
    for (const sep of after) {
      seps.add(sep);
      for (const y of b.list ?? []) pairs.push([x, sep, y] as const);
    }
    if (after.length > SEPS_MAX || seps.size > SEPS_MAX) return any;
  }
  if (seps.size === 0) return 'none';
  const listed = b.list !== undefined && pairs.length <= LOOSE_PAIRS_MAX;
  return { regex: `(?:${[...seps].map(regexLiteral).join('|')})`, pairs: listed ? pairs : undefined };
}

/** A word of the fragment (its place in `parts`) and the name words it can be; undefined: too many. */
type Placed = { at: number; list: string[] | undefined };

/**
 * The lists to find candidates in: each word's name words, and for two neighbouring words the
 * pairs of name words they can be (client_name_pairs), when there are few such pairs. A pair's
 * list is never longer than either word's: 'групп ооо' has none at all.
 */
function listsOf(parts: string[], placed: Placed[]): List[] {
  const words = placed.slice(0, MAX_DRIVERS);
  const lists = wordLists(words);
  for (let i = 0; i + 1 < words.length; i++) {
    const [a, b] = [words[i]!.list, words[i + 1]!.list];
    const sep = parts[words[i]!.at + 1]!;
    if (words[i + 1]!.at !== words[i]!.at + 2 || a === undefined || b === undefined || a.length * b.length > MAX_PAIRS || sep.length > SEP_MAX) continue;
    lists.push(a.flatMap((x) => b.map((y) => [x, sep, y] as const)));
  }
  return lists;
}

/** Each word's list of name words (those not too many), the first MAX_DRIVERS words. */
const wordLists = (placed: Placed[]): List[] => placed.slice(0, MAX_DRIVERS).flatMap((w) => (w.list === undefined ? [] : [w.list]));

/** Separators stored after a name word, at most this many looked up (each one index probe). */
const SEPS_MAX = 16;
/** Pairs of a loose gap that still make one list for the word path (a union of that many index scans). */
const LOOSE_PAIRS_MAX = 64;

/**
 * The separators client_name_pairs holds after `first`, up to SEPS_MAX + 1 (more: too many):
 * one index probe each (a loose index scan; PostgreSQL 17 has no skip scan), not a read of every
 * pair of a common word.
 */
async function separatorsAfter(conn: Conn, first: string): Promise<string[]> {
  const rows = await conn.execute<{ sep: string }>(sql`
    with recursive s(sep, n) as (
      (select p.sep, 1 from ${clientNamePairs} p where p.first = ${first} order by p.sep limit 1)
      union all
      select (select p.sep from ${clientNamePairs} p where p.first = ${first} and p.sep > s.sep order by p.sep limit 1), s.n + 1
        from s where s.sep is not null and s.n < ${SEPS_MAX + 1}
    )
    select sep from s where sep is not null`);
  return rows.rows.map((r) => r.sep);
}

async function anyHolder(conn: Conn, words: string[]): Promise<boolean> {
  const rows = await conn.execute(sql`select 1 from ${clientNameWords} where word = any(${sql.param(words)}::text[]) limit 1`);
  return rows.rows.length > 0;
}

/** The planner's estimate of a word's clients (its statistics of client_name_words): no rows read. */
async function estimate(conn: Conn, word: string): Promise<number> {
  const rows = await conn.execute<{ 'QUERY PLAN': Array<{ Plan: { 'Plan Rows': number } }> }>(
    sql`explain (format json) select 1 from ${clientNameWords} where word = ${word}`,
  );
  return rows.rows[0]!['QUERY PLAN'][0]!.Plan['Plan Rows'];
}

/**
 * Clients holding both words, in name order, tested, the first `n`: the two lists come in the
 * same order off the index, so a merge join reads each once, index only, and the test looks up
 * only the clients holding both. Bounded by the lists' length (MERGE_MAX), not by where the
 * matches sit: `зеленый ромашка` (625 matches, all after 17,000 of the 'зеленый' list).
 */
async function merge(conn: Conn, a: string, b: string, test: SQL, after: After, n: number): Promise<number[]> {
  const afterCursor = after === undefined ? sql`` : sql`and (c.name, c.client_id) > (${after.key}, ${after.id})`;
  const list = (word: string) => sql`(select c.name, c.client_id from ${clientNameWords} c where c.word = ${word} ${afterCursor} order by c.name, c.client_id)`;
  // `offset 0` keeps the test above the join: pushed into a list, it would test every client of it.
  const rows = await conn.execute<{ client_id: number }>(sql`
    select j.client_id from (
      select x.name, x.client_id from ${list(a)} x join ${list(b)} y on x.name = y.name and x.client_id = y.client_id
      order by x.name, x.client_id offset 0
    ) j
    where (select ${test} from clients where clients.id = j.client_id)
    limit ${n}`);
  return rows.rows.map((r) => Number(r.client_id));
}

/** Both lists of a merge together at most this long (planner's estimate): ~10 ms read index only. */
export const MERGE_MAX = 80_000;

/**
 * The page among the clients holding a word of every list (a list: the name words one word of
 * the fragment can be), each tested; undefined when the trigram path must answer.
 */
async function pageOfLists(conn: Conn, lists: List[], test: SQL, after: After, n: number, onlyShort: boolean): Promise<number[] | undefined> {
  const counts = await clientCounts(conn, lists, WALK_CAP);
  let best = 0;
  // Equal counts (both past the cap): a pair's list, which holds only clients with both words.
  for (let i = 1; i < lists.length; i++) if (counts[i]! < counts[best]! || (counts[i] === counts[best] && typeof lists[i]![0] !== 'string')) best = i;
  // A list short enough: walked to its end, always exact.
  if (counts[best]! <= WALK_CAP) return walk(conn, lists[best]!, counts[best]!, test, after, n);
  if (onlyShort) return undefined;
  // Two common words: merged, when each is one name word and both lists together are short enough.
  const single = lists.filter((l) => l.length === 1 && typeof l[0] === 'string').map((l) => l[0] as string);
  if (single.length >= 2) {
    // One after the other: `conn` may be a transaction, one connection, where node-postgres
    // would queue them anyway (and deprecates being asked to, pg@9 refuses it).
    const sized: { word: string; rows: number }[] = [];
    for (const word of single) sized.push({ word, rows: await estimate(conn, word) });
    sized.sort((x, y) => x.rows - y.rows);
    if (sized[0]!.rows + sized[1]!.rows <= MERGE_MAX) return merge(conn, sized[0]!.word, sized[1]!.word, test, after, n);
  }
  // Else the walk finds a page when the words often come together; when not, the trigram path.
  return walk(conn, lists[best]!, counts[best]!, test, after, n);
}

/**
 * The page's client ids for a fragment of several words by the word path, or undefined when
 * the trigram path must answer (a word held by too many name words, or WALK_CAP reached).
 */
export async function pageByPhrase(
  conn: Conn,
  folded: string,
  phrase: Phrase,
  { typos, others, after, n, notHeld }: { typos: boolean; others: SQL | undefined; after: After; n: number; notHeld?: { regex?: string } },
): Promise<number[] | undefined> {
  // With other conditions (a manager's visibility, a filter) most candidates fail them, and a
  // number in the fragment ('ромашка-5000') is what the trigram index finds best: only a list
  // walked to its end is cheaper then (the trigram path answers otherwise, as it always did).
  const onlyShort = others !== undefined || phrase.tokens.some((t) => !LETTER.test(t.text) && t.text.length >= 3);
  const placed: Placed[] = [];
  for (const t of phrase.tokens.filter((t) => LETTER.test(t.text)).slice(0, MAX_DRIVERS)) placed.push({ at: t.at, list: await wordsLike(conn, [patternOf(t)]) });
  const exact = and(sql`${searchText} like ${literal(folded)}`, others)!;
  // A word no name word can be: no client holds the fragment.
  if (!placed.some((p) => p.list?.length === 0)) {
    const lists = listsOf(phrase.parts, placed);
    if (lists.length === 0) return undefined;
    const ids = await pageOfLists(conn, lists, exact, after, n, onlyShort);
    if (!typos || ids === undefined || ids.length > 0) return ids;
    // Nothing after the cursor: typo or not is decided on the whole list, as on the first page.
    if (after !== undefined) {
      const first = await pageOfLists(conn, lists, exact, undefined, 1, onlyShort);
      if (first === undefined || first.length > 0) return first === undefined ? undefined : [];
    }
  }
  if (!typos) return [];
  const corrected = await correctedPhrase(conn, phrase);
  if (corrected === 'none') return [];
  if (corrected.words.some((p) => p.list?.length === 0)) return [];
  const lists = corrected.pairs === undefined ? listsOf(phrase.parts, corrected.words) : [...wordLists(corrected.words), ...corrected.pairs];
  const ids = lists.length === 0 ? undefined : await pageOfLists(conn, lists, and(sql`${searchText} ~ ${corrected.regex}`, others)!, after, n, onlyShort);
  // Left to the trigram path, which need not ask again whether any client holds the fragment.
  if (ids === undefined && notHeld !== undefined) notHeld.regex = corrected.regex;
  return ids;
}
