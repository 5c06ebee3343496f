// Search over the whole client base (issue 11 item 5): every filter is one SQL condition backed
// by an index (migration 0012), pages are keyset (a cursor, never an offset: page 5,000 of a
// million rows costs what page 1 costs), and there is no total — counting a million matches
// would cost more than the page itself.
import { and, arrayContains, eq, exists, getTableColumns, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Viewer } from '../auth/viewer.js';
import { maskPhone, recordAudit, type Actor } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { deals } from '../deals/deals.table.js';
import { AppError } from '../errors.js';
import { parsePhone, type CountryCode } from '../phones/normalize.js';
import type { ClientSearchFilter, ClientView } from './clients.schemas.js';
import { visibleClients, withPhones, type Tx } from './clients.service.js';
import { clientPhones, clients } from './clients.table.js';
import { correctedPhrase, pageByPhrase, phraseOf } from './name-phrase.js';
import { pageByWords, singleWord, wordsCloseTo } from './name-words.js';
import { decodeCursor, encodeCursor, SORTS, type Sort } from './search-cursor.js';

/** `%` and `_` typed by a user are literal characters, not wildcards. */
const contains = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
/** As the index folds it (client_search_text): lower case, ё = е. */
export const foldText = (text: string): string => text.trim().toLowerCase().replaceAll('ё', 'е');

const searchText = sql`client_search_text(${clients.name}, ${clients.legalName}, ${clients.company})`;

/** Up to this many matches are collected and sorted; past it the sort's index is walked. */
const FEW_MATCHES = 2_000;
/** Filters whose own index finds their matches faster than walking the base in the page's order. */
const narrows = (filter: ClientSearchFilter): boolean =>
  filter.q !== undefined || filter.dealStatus !== undefined || filter.phoneContains !== undefined;

/**
 * How `q` matches a name, legal name or company: as a fragment, or — when no client in the
 * search matches the fragment — as a word close to it (a typo). Typo matching only then, because
 * a name that is there should not drown in its neighbours ('зеленый' would bring every
 * 'Зелёный' and also 'Зелень'), and testing closeness row by row is what made a common word
 * slow (BENCHMARKS.md, client base search). A typo of one word is matched by the words close to
 * it (`closeTo`, name-words.ts, pg_trgm's recipe): closeness is computed over the distinct words
 * of all names, not row by row; a typo of several words, each word corrected the same way, is
 * a regular expression (`corrected`, name-phrase.ts), as is a fragment of several words all held
 * but with other separators between them on the card (`ооо лотос` for `ООО “Лотос”`); a fragment
 * without a letter keeps `<%`.
 */
type NameMatch = 'fragment' | 'typo' | { closeTo: string[] } | { corrected: string };
const TYPO_THRESHOLD = 0.4;
// Under three characters there is no trigram to be close with: the fragment alone.
const fuzzy = (q: string | undefined): q is string => q !== undefined && [...foldText(q)].length >= 3;

function nameMatches(q: string, how: NameMatch): SQL {
  const folded = foldText(q);
  if (how === 'typo') return sql`${folded} <% ${searchText}`;
  if (how === 'fragment') return sql`${searchText} like ${contains(folded)}`;
  if ('corrected' in how) return sql`${searchText} ~ ${how.corrected}`;
  return or(...how.closeTo.map((word) => sql`${searchText} like ${contains(word)}`)) ?? sql`false`;
}

/** Digits of a phone as typed; a Russian trunk 8 is the country's 7 in E.164. */
export function phoneFragment(text: string): string {
  const digits = text.replace(/\D/g, '');
  return digits.length === 11 && digits.startsWith('8') ? `7${digits.slice(1)}` : digits;
}

export function searchConditions(db: Db, viewer: Viewer, filter: ClientSearchFilter, region: CountryCode, names: NameMatch = 'fragment'): SQL | undefined {
  let phone: string | undefined;
  if (filter.phone !== undefined) {
    const parsed = parsePhone(filter.phone, region);
    if (!parsed.ok) throw new AppError('INVALID_PHONE', `phone: ${parsed.error}`);
    phone = parsed.e164;
  }
  let digits: string | undefined;
  if (filter.phoneContains !== undefined) {
    digits = phoneFragment(filter.phoneContains);
    if (digits.length < 3) throw new AppError('VALIDATION', 'phoneContains: at least 3 digits');
  }
  const phoneExists = (condition: SQL) =>
    exists(db.select({ one: sql`1` }).from(clientPhones).where(and(eq(clientPhones.clientId, clients.id), condition)));
  return and(
    visibleClients(db, viewer),
    filter.ownerId !== undefined ? eq(clients.ownerId, filter.ownerId) : undefined,
    filter.status !== undefined ? eq(clients.status, filter.status) : undefined,
    filter.temperature !== undefined ? eq(clients.temperature, filter.temperature) : undefined,
    filter.important !== undefined ? eq(clients.important, filter.important) : undefined,
    filter.tag !== undefined ? arrayContains(clients.tags, [filter.tag.trim()]) : undefined,
    filter.q !== undefined ? nameMatches(filter.q, names) : undefined,
    filter.email !== undefined ? sql`client_emails_text(${clients.emails}) like ${contains(filter.email.trim().toLowerCase())}` : undefined,
    filter.inn !== undefined ? sql`${clients.inn} like ${`${filter.inn.replace(/\D/g, '')}%`}` : undefined,
    phone !== undefined ? phoneExists(eq(clientPhones.phone, phone)) : undefined,
    digits !== undefined ? phoneExists(sql`${clientPhones.phone} like ${`%${digits}%`}`) : undefined,
    filter.dealStatus !== undefined
      ? exists(db.select({ one: sql`1` }).from(deals).where(and(eq(deals.clientId, clients.id), eq(deals.status, filter.dealStatus))))
      : undefined,
    // Date conditions are written on the sort keys (search-cursor.ts) so they are index ranges of
    // the keyset indexes: `last_contact_at is null or < x` made the planner read half the base.
    filter.nextContactFrom !== undefined
      ? sql`(${SORTS.nextContact.key} >= ${filter.nextContactFrom} and ${clients.nextContactAt} is not null)`
      : undefined,
    filter.nextContactTo !== undefined ? sql`${SORTS.nextContact.key} < ${filter.nextContactTo}` : undefined,
    filter.stale !== undefined ? sql`${SORTS.lastContact.key} < now() - make_interval(days => ${filter.stale})` : undefined,
    filter.nextContactOverdue === true ? sql`${clients.nextContactAt} < now()` : undefined,
  );
}

export async function searchClientBase(
  db: Db,
  actor: Actor,
  viewer: Viewer,
  filter: ClientSearchFilter,
  region: CountryCode,
  /** GET /api/clients matches `q` as a fragment only, as it always did; the search also tolerates a typo. */
  { typos = true }: { typos?: boolean } = {},
): Promise<{ items: ClientView[]; nextCursor: string | null }> {
  const sort: Sort = filter.sort ?? 'name';
  const tolerant = typos && fuzzy(filter.q);
  const order = SORTS[sort];
  const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor, sort);
  const afterCursor = after === undefined ? undefined : sql`(${order.key}, ${clients.id}) ${sql.raw(order.after)} (${after.key}, ${after.id})`;
  const orderBy = [sql`${order.key} ${sql.raw(order.direction)}`, sql`${clients.id} ${sql.raw(order.direction)}`];
  // One row more than asked says whether there is a next page without counting.
  // The key comes back as PostgreSQL wrote it: a JS Date would drop the microseconds and skip rows.
  const pageOf = (conn: Db | Tx, condition: SQL | undefined) =>
    conn
      .select({ ...getTableColumns(clients), cursorKey: sql<string>`(${order.key})::text` })
      .from(clients)
      .where(condition)
      .orderBy(...orderBy)
      .limit(filter.limit + 1);
  const idsWhere = async (conn: Db | Tx, condition: SQL | undefined, limit: number, ordered: boolean) => {
    const query = conn.select({ id: clients.id }).from(clients).where(condition).limit(limit);
    return (await (ordered ? query.orderBy(...orderBy) : query)).map((r) => r.id);
  };
  // One word as the only condition (no other filter, a viewer who sees the whole base), sorted by
  // name: the word path (name-words.ts) finds the page off one index in name order. With anything
  // else to test per client, the paths below are cheaper.
  const others = filter.q === undefined ? undefined : searchConditions(db, viewer, { ...filter, q: undefined }, region);
  const word = sort === 'name' && filter.q !== undefined && others === undefined ? singleWord(foldText(filter.q)) : undefined;
  // Several words ('ромашка групп', 'ромашка-ю'): the clients of the rarest word or pair, each
  // tested, a manager's visibility and the filters included (name-phrase.ts).
  const phrase = sort === 'name' && filter.q !== undefined && singleWord(foldText(filter.q)) === undefined ? phraseOf(foldText(filter.q)) : undefined;
  const select = async (conn: Db | Tx) => {
    // Set by the phrase path when it found that no client holds the fragment and left the
    // corrected one (a typo, or other separators) to the trigram path.
    const notHeld: { regex?: string } = {};
    if (word !== undefined || phrase !== undefined) {
      const ids =
        word !== undefined
          ? await pageByWords(conn, word, tolerant, after, filter.limit + 1)
          : await pageByPhrase(conn, foldText(filter.q!), phrase!, { typos: tolerant, others, after, n: filter.limit + 1, notHeld });
      // The phrase path tested the visibility rule and the filters already; tested again on the page's rows all the same.
      if (ids !== undefined) return ids.length === 0 ? [] : pageOf(conn, and(inArray(clients.id, ids), others));
    }
    // The same answer for every page of one search: it does not depend on the cursor.
    let names: NameMatch = 'fragment';
    // On the first page the fragment's own matches (collected below anyway) say whether any
    // client holds it: a second query for that cost as much again (a tag + a word: 12 ms).
    let matched: number[] | undefined;
    if (notHeld.regex !== undefined) names = { corrected: notHeld.regex };
    else if (tolerant && fuzzy(filter.q)) {
      const held =
        after === undefined
          ? (matched = await idsWhere(conn, searchConditions(db, viewer, filter, region), FEW_MATCHES + 1, false))
          : await idsWhere(conn, searchConditions(db, viewer, filter, region), 1, false);
      if (held.length === 0) {
        const typed = singleWord(foldText(filter.q));
        const words = typed === undefined ? phraseOf(foldText(filter.q)) : undefined;
        if (typed !== undefined) names = { closeTo: await wordsCloseTo(conn, typed) };
        else if (words !== undefined) {
          const corrected = await correctedPhrase(conn, words);
          if (corrected === 'none') return [];
          names = { corrected: corrected.regex };
        } else names = 'typo';
        if (typeof names === 'object' && 'closeTo' in names && names.closeTo.length === 0) return [];
        matched = undefined;
      }
    }
    const where = and(searchConditions(db, viewer, filter, region, names), afterCursor);
    if (!narrows(filter)) return pageOf(conn, where);
    // A name, a phone fragment or a deal status matching a few clients scattered through the sort order made the
    // walk along the sort's index test row after row: 17,000–200,000 pages for one page of a
    // million clients (BENCHMARKS.md). Their own indexes find every match in a few hundred
    // pages, and a few thousand matches sort in no time.
    matched ??= await idsWhere(conn, where, FEW_MATCHES + 1, false);
    if (matched.length === 0) return [];
    if (matched.length <= FEW_MATCHES) return pageOf(conn, inArray(clients.id, matched));
    // Many matches: they are dense in any order, so the walk finds a page soon. It asks for ids
    // only, so that on the name indexes (which include the searched columns, migration 0016)
    // it reads no table page for a row that does not match.
    return pageOf(conn, inArray(clients.id, await idsWhere(conn, where, filter.limit + 1, true)));
  };
  const rows = tolerant
    ? await db.transaction(async (tx) => {
        // pg_trgm's default (0.6) misses one wrong letter in the middle of a seven-letter name
        // ('Ромошка' is 0.45 from 'Ромашка'); the operator, not the function, is what the index
        // serves, so the threshold is set for this transaction only.
        await tx.execute(sql`select set_config('pg_trgm.word_similarity_threshold', ${String(TYPO_THRESHOLD)}, true)`);
        return select(tx);
      })
    : await select(db);
  const page = rows.slice(0, filter.limit).map(({ cursorKey, ...row }) => ({ row, cursorKey }));
  const last = page.at(-1);
  const nextCursor = rows.length > filter.limit && last ? encodeCursor(sort, last.cursorKey, last.row.id) : null;
  // Searching the base is personal-data access too; numbers and e-mails are kept recognisable, not readable.
  await recordAudit(db, {
    ...actor,
    action: 'client.search',
    entity: 'client',
    entityId: null,
    details: {
      // Picked one by one: the query string may carry other things (a `?token=`).
      q: filter.q,
      ownerId: filter.ownerId,
      status: filter.status,
      temperature: filter.temperature,
      dealStatus: filter.dealStatus,
      tag: filter.tag,
      important: filter.important,
      stale: filter.stale,
      nextContactOverdue: filter.nextContactOverdue,
      nextContactFrom: filter.nextContactFrom,
      nextContactTo: filter.nextContactTo,
      inn: filter.inn,
      email: filter.email === undefined ? undefined : maskEmail(filter.email),
      // As stored (E.164), so the kept last digits are the number's, whatever spelling was typed.
      phone: filter.phone === undefined ? undefined : maskPhone(e164Of(filter.phone, region)),
      phoneContains: filter.phoneContains === undefined ? undefined : filter.phoneContains.replace(/\d(?=\d{2})/g, '•'),
      sort,
      paged: filter.cursor !== undefined,
      limit: filter.limit,
      returned: page.length,
    },
  });
  return { items: await withPhones(db, page.map((p) => p.row)), nextCursor };
}

const e164Of = (phone: string, region: CountryCode): string => {
  const parsed = parsePhone(phone, region);
  return parsed.ok ? parsed.e164 : phone;
};
const maskEmail = (email: string): string => email.replace(/^(.).*(@|$)/, (_m, first: string, at: string) => `${first}…${at}`);
