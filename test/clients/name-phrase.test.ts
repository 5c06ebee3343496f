import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WALK_CAP } from '../../src/clients/name-phrase.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

// Fragments of several words (src/clients/name-phrase.ts): every answer, page by page, checked
// against the plain definition computed by PostgreSQL here without the words tables' help —
// the folded search text holds the fragment (`like`), in name order, id breaking ties — and, when
// no client holds it, the typo rule: each word that no name holds where it stands replaced by
// the name words whose word_similarity to it passes 0.4, the corrected fragments matched with
// `like any`. As the director (the word path) and as a manager (the visibility path).

type U = { id: number; token: string };
let t: TestApp;
let director: U;
let manager: U;
let other: U;

const ADJECTIVES = ['Зелёный', 'Альфа', 'Яшма', 'Тихий', 'Быстрый'];
const NOUNS = ['Ромашка', 'Кедр', 'Лотос', 'Пион', 'Вектор', 'Ёлка', 'Гранит'];

beforeAll(async () => {
  t = await createTestApp();
  director = await createUser(t, { role: 'director' });
  manager = await createUser(t, { role: 'manager' });
  other = await createUser(t, { role: 'manager' });
  // Words together in the name, across name / legal name / company, equal names (the id breaks
  // the tie), ё, and pairs that never stand side by side.
  const rows = Array.from({ length: 240 }, (_, i) => {
    const noun = NOUNS[i % NOUNS.length]!;
    return {
      name: `${ADJECTIVES[i % ADJECTIVES.length]} ${noun} ${i % 30}`,
      legal: i % 4 === 0 ? `ООО «${noun}-${i % 3}»` : null,
      company: i % 3 === 0 ? `${noun} Групп` : null,
      owner: i % 2 === 0 ? manager.id : other.id,
    };
  });
  await t.database.pool.query(
    `insert into clients (name, legal_name, company, owner_id) select * from unnest($1::text[], $2::text[], $3::text[], $4::int[])`,
    [rows.map((r) => r.name), rows.map((r) => r.legal), rows.map((r) => r.company), rows.map((r) => r.owner)],
  );
});
afterAll(() => t.close());

const fold = (q: string) => q.trim().toLowerCase().replaceAll('ё', 'е');
const search = async (token: string, query: string) => {
  const res = await t.app.inject({ method: 'GET', url: `/api/clients/search?${query}`, headers: bearer(token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: Array<{ id: number; name: string }>; nextCursor: string | null };
};
/** Every page of a search, in order. */
const allPages = async (token: string, q: string, limit: number, extra = '') => {
  const seen: number[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof search>> = await search(token, `q=${encodeURIComponent(q)}&limit=${limit}${extra}${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...page.items.map((c) => c.id));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return seen;
};
const matching = async (patterns: string[], ownerId?: number) =>
  (
    await t.database.pool.query<{ id: number }>(
      `select id from clients where client_search_text(name, legal_name, company) like any($1::text[])
         and ($2::int is null or owner_id = $2) order by name, id`,
      [patterns, ownerId ?? null],
    )
  ).rows.map((r) => r.id);
const escape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
/** The definition of a match for `q`, typos included: what every path must return. */
const expected = async (q: string, ownerId?: number): Promise<number[]> => {
  const exact = await matching([`%${escape(fold(q))}%`], ownerId);
  if (exact.length > 0) return exact;
  const parts = fold(q).split(/([^0-9a-zа-я]+)/);
  let variants = [''];
  let corrections = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    let choices = [part];
    if (i % 2 === 0 && /[a-zа-я]/.test(part)) {
      const pattern = `${i > 0 ? '' : '%'}${part}${i < parts.length - 1 ? '' : '%'}`;
      const held = await t.database.pool.query(`select 1 from client_name_words where word like $1 limit 1`, [pattern]);
      if (held.rows.length === 0) {
        const close = await t.database.pool.query<{ word: string }>(
          `select word from name_words where word_similarity($1, word) >= 0.4 group by word order by max(word_similarity($1, word)) desc, word limit 64`,
          [part],
        );
        choices = close.rows.map((r) => r.word);
        corrections++;
      }
    }
    variants = variants.flatMap((v) => choices.map((c) => v + escape(c)));
  }
  if (corrections > 0) return matching(variants.map((v) => `%${v}%`), ownerId);
  // Every word held where it stands: the words in order, any separator between two of them.
  const loose = parts.filter((part, i) => i % 2 === 0 && part !== '').join('[^0-9a-zа-я]+');
  return (
    await t.database.pool.query<{ id: number }>(
      `select id from clients where client_search_text(name, legal_name, company) ~ $1
         and ($2::int is null or owner_id = $2) order by name, id`,
      [loose, ownerId ?? null],
    )
  ).rows.map((r) => r.id);
};

/**
 * `q`, held by no client as typed, pages through what the definition says as the director, as
 * the owner, and through a filter (the trigram index and a regular expression, not the word path).
 */
async function pagesAsDefinedWhenNotHeld(q: string, limit: number) {
  expect(await matching([`%${escape(fold(q))}%`]), q).toEqual([]);
  const all = await expected(q);
  expect(all.length, q).toBeGreaterThan(1);
  expect(await allPages(director.token, q, limit)).toEqual(all);
  expect(await allPages(manager.token, q, limit)).toEqual(await expected(q, manager.id));
  expect(await allPages(director.token, q, limit, '&status=potential')).toEqual(all);
}

describe('fragments of several words', () => {
  const fragments = ['ромашка групп', 'зеленый ромашка', 'ЗЕЛЁНЫЙ РОМАШКА 1', 'ромашка-1', 'ооо «ромашка', 'ка гру', 'ый кедр 2', 'елка групп', ' пион групп '];
  for (const q of fragments) {
    it(`pages through '${q}' in name order without a gap or a repeat, as the director and as the owner`, async () => {
      const all = await expected(q);
      expect(all.length, q).toBeGreaterThan(1);
      expect(all).toEqual(await matching([`%${escape(fold(q))}%`])); // held as typed: not a typo
      expect(await allPages(director.token, q, 4)).toEqual(all);
      expect(await allPages(manager.token, q, 4)).toEqual(await expected(q, manager.id));
    });
  }

  it('finds nothing for words that never stand side by side', async () => {
    for (const q of ['ромашка кедр', 'групп ооо', 'ромашка зеленый', 'кедр групп ооо']) {
      expect(await expected(q), q).toEqual([]);
      expect((await search(director.token, `q=${encodeURIComponent(q)}`)).items, q).toEqual([]);
      expect((await search(manager.token, `q=${encodeURIComponent(q)}`)).items, q).toEqual([]);
    }
  });

  // Names come with every kind of quotes and dashes: when no client holds the fragment as typed
  // but every word is held, the separators between the words do not matter.
  for (const q of ['ооо ромашка', 'ООО "Ромашка', 'пион   групп', 'ромашка_групп', '«ромашка групп»', 'зеленый, кедр']) {
    it(`'${q}': any separator between the words when none matches as typed, page by page`, async () => {
      await pagesAsDefinedWhenNotHeld(q, 4);
    });
  }

  it('answers the same with another filter (the trigram path) as without (the word path)', async () => {
    const q = 'ромашка групп';
    const withFilter = await allPages(director.token, q, 5, '&status=potential');
    expect(withFilter).toEqual(await expected(q));
  });
});

describe('typos of several words', () => {
  for (const q of ['ромошка групп', 'ромашка групв', 'зиленый ромашка', 'зилёный ромошка', 'ромошка-1', 'быстрый пионн 2']) {
    it(`'${q}': each word no name holds is corrected, the same for the director and the owner, page by page`, async () => {
      await pagesAsDefinedWhenNotHeld(q, 3);
    });
  }

  it('keeps a match as typed: no neighbours mixed in', async () => {
    // 'ромашка групп' is held: 'ромашка грипп'-like corrections never apply to it.
    const ids = await allPages(director.token, 'ромашка групп', 50);
    expect(ids).toEqual(await matching(['%ромашка групп%']));
  });

  it('finds nothing when a word has nothing close to it', async () => {
    expect((await search(director.token, `q=${encodeURIComponent('ромашка ъъъъъъ')}`)).items).toEqual([]);
    expect((await search(manager.token, `q=${encodeURIComponent('ромашка ъъъъъъ')}`)).items).toEqual([]);
  });
});

describe('three common words rarely together', () => {
  // More clients than the walk tests hold each word and each pair side by side; the few that
  // hold all three sort after all of them ('Яр …'). Two words are found off their pair.
  beforeAll(async () => {
    await t.database.pool.query(
      `insert into clients (name, owner_id)
       select 'Пчела Улей ' || g, $1::int from generate_series(1, $2::int) g
       union all select 'Улей Мёд ' || g, $1 from generate_series(1, $2) g
       union all select 'Яр Пчела Улей Мёд', $1 from generate_series(1, 3)
       union all select 'Яр Стрела Улей Меч', $1 from generate_series(1, 2)`,
      [other.id, WALK_CAP + 50],
    );
    // The merge is chosen on the planner's estimate of each list: statistics as in production.
    await t.database.pool.query('analyze client_name_words');
  });

  it('merges two words’ lists (one name word each) and pages exactly', async () => {
    const all = await expected('пчела улей мед');
    expect(all).toHaveLength(3);
    expect(await allPages(director.token, 'пчела улей мед', 2)).toEqual(all);
    // And its typo: the typo corrected, the same three.
    expect(await expected('пчела уллей мед')).toEqual(all);
    expect(await allPages(director.token, 'пчела уллей мед', 2)).toEqual(all);
    // Their owner: lists past the walk's cap with the visibility rule, so the trigram index
    // answers, the typo as a regular expression — the same three.
    expect(await allPages(other.token, 'пчела уллей мед', 2)).toEqual(await expected('пчела уллей мед', other.id));
    expect(await expected('пчела уллей мед', other.id)).toEqual(all);
  });

  it(`falls back to the trigram index past ${WALK_CAP} candidates when words can be several name words`, async () => {
    // 'ела' ends 'пчела' and 'стрела', 'ме' begins 'мед' and 'меч': no merge; the walk meets no match within its cap.
    const all = await expected('ела улей ме');
    expect(all).toHaveLength(5);
    expect(await allPages(director.token, 'ела улей ме', 2)).toEqual(all);
  });

  it('finds common words never side by side off their pair, as the director and as a manager', async () => {
    expect(await expected('улей пчела')).toEqual([]);
    expect((await search(director.token, `q=${encodeURIComponent('улей пчела')}`)).items).toEqual([]);
    expect((await search(other.token, `q=${encodeURIComponent('улей пчела')}`)).items).toEqual([]);
  });

  it('finds common words side by side with another separator than typed, off their pairs', async () => {
    // No name holds 'пчела-улей'; 1,053 hold 'пчела улей': the pairs with every separator after
    // 'пчела' are the list walked, so the first page comes at once, for the director and a manager.
    const q = encodeURIComponent('пчела-улей');
    const all = await expected('пчела-улей');
    expect(all.length).toBeGreaterThan(WALK_CAP);
    expect((await search(director.token, `q=${q}&limit=50`)).items.map((c) => c.id)).toEqual(all.slice(0, 50));
    expect((await search(other.token, `q=${q}&limit=50`)).items.map((c) => c.id)).toEqual((await expected('пчела-улей', other.id)).slice(0, 50));
  });
});

describe('pairs kept in step with clients', () => {
  const pairsOf = async (id: number) =>
    (await t.database.pool.query<{ pair: string }>(`select first || sep || second as pair from client_name_pairs where client_id = $1`, [id])).rows.map((r) => r.pair).sort();

  it('pairs neighbouring words with their separator across name, legal name and company; a word of digits breaks a pair', async () => {
    const [row] = (
      await t.database.pool.query<{ id: number }>(
        `insert into clients (name, legal_name, company, owner_id) values ('Зелёный Гранит 17', 'ООО «Гранит-Опт»', 'Гранит Групп', $1) returning id`,
        [manager.id],
      )
    ).rows;
    expect(await pairsOf(row!.id)).toEqual(['гранит групп', 'гранит-опт', 'зеленый гранит', 'ооо «гранит', 'опт» гранит'].sort());
    await t.database.pool.query(`update clients set name = 'Кедр Север', legal_name = null where id = $1`, [row!.id]);
    // No legal name: name and company are two spaces apart in the folded text.
    expect(await pairsOf(row!.id)).toEqual(['гранит групп', 'кедр север', 'север  гранит'].sort());
    await t.database.pool.query(`update clients set last_activity_at = now() where id = $1`, [row!.id]);
    expect(await pairsOf(row!.id)).toEqual(['гранит групп', 'кедр север', 'север  гранит'].sort());
    await t.database.pool.query(`delete from clients where id = $1`, [row!.id]);
    expect(await pairsOf(row!.id)).toEqual([]);
  });
});
