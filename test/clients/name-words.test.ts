import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

// The word path of the name search (migration 0020, src/clients/name-words.ts): the triggers that
// keep the words in step with clients, and its answers checked against the plain definition of a
// match — the folded search text holds the fragment (`client_search_text(…) like '%…%'`), in
// name order, id breaking ties — which PostgreSQL computes here without any index trick.

type U = { id: number; token: string };
let t: TestApp;
let director: U;
let manager: U;
let other: U;

beforeAll(async () => {
  t = await createTestApp();
  director = await createUser(t, { role: 'director' });
  manager = await createUser(t, { role: 'manager' });
  other = await createUser(t, { role: 'manager' });
});
afterAll(() => t.close());

let seq = 0;
const create = async (token: string, fields: Record<string, unknown>) => {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/clients',
    headers: bearer(token),
    payload: { phones: [`+7 903 ${String(6000000 + ++seq)}`], ...fields },
  });
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: number }).id;
};
const search = async (token: string, query: string) => {
  const res = await t.app.inject({ method: 'GET', url: `/api/clients/search?${query}`, headers: bearer(token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: Array<{ id: number; name: string }>; nextCursor: string | null };
};
/** Every page of a search, in order. */
const allPages = async (token: string, q: string, limit: number) => {
  const seen: number[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof search>> = await search(token, `q=${encodeURIComponent(q)}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...page.items.map((c) => c.id));
    cursor = page.nextCursor;
  } while (cursor !== null);
  return seen;
};
/** The definition of a match, straight from the table: what every path must return. */
const truth = async (q: string, ownerId?: number) =>
  (
    await t.database.pool.query<{ id: number }>(
      `select id from clients where client_search_text(name, legal_name, company) like '%' || $1 || '%'
         and ($2::int is null or owner_id = $2) order by name, id`,
      [q.trim().toLowerCase().replaceAll('ё', 'е'), ownerId ?? null],
    )
  ).rows.map((r) => r.id);
const wordsOf = async (clientId: number) =>
  (await t.database.pool.query<{ word: string; name: string }>(`select word, name from client_name_words where client_id = $1 order by word`, [clientId])).rows;

describe('words kept in step with clients', () => {
  it('splits name, legal name and company into folded words, digits-only words left out', async () => {
    const id = await create(manager.token, { name: 'Зелёный Гранит 17', legalName: 'ООО «Гранит-Опт»', company: 'Гранит Групп' });
    expect((await wordsOf(id)).map((w) => w.word)).toEqual(['гранит', 'групп', 'зеленый', 'ооо', 'опт']);
    expect(new Set((await wordsOf(id)).map((w) => w.name))).toEqual(new Set(['Зелёный Гранит 17']));
  });

  it('follows a rename, a new legal name and a delete', async () => {
    const id = await create(manager.token, { name: 'Пихта Север' });
    expect(await truth('пихта')).toEqual([id]);
    expect((await search(director.token, 'q=пихта')).items.map((c) => c.id)).toEqual([id]);
    const patch = await t.app.inject({ method: 'PATCH', url: `/api/clients/${id}`, headers: bearer(manager.token), payload: { name: 'Кедр Север', legalName: 'ИП Лиственница' } });
    expect(patch.statusCode, patch.body).toBe(200);
    expect((await wordsOf(id)).map((w) => w.word)).toEqual(['ип', 'кедр', 'лиственница', 'север']);
    expect((await wordsOf(id)).every((w) => w.name === 'Кедр Север')).toBe(true);
    expect((await search(director.token, 'q=пихта')).items).toEqual([]);
    expect((await search(director.token, 'q=листвен')).items.map((c) => c.id)).toEqual([id]);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/clients/${id}`, headers: bearer(director.token) });
    expect(del.statusCode, del.body).toBe(204);
    expect(await wordsOf(id)).toEqual([]);
  });

  it('writes a bulk insert and a bulk update set-wise, as the import does', async () => {
    const inserted = await t.database.pool.query<{ id: number }>(
      `insert into clients (name, legal_name, owner_id) select 'Бульк ' || g, case when g % 2 = 0 then 'АО Навал' end, $1 from generate_series(1, 300) g returning id`,
      [other.id],
    );
    const ids = inserted.rows.map((r) => r.id);
    const count = async (word: string) => Number((await t.database.pool.query(`select count(*) from client_name_words where word = $1 and client_id = any($2)`, [word, ids])).rows[0].count);
    expect(await count('бульк')).toBe(300);
    expect(await count('навал')).toBe(150);
    await t.database.pool.query(`update clients set name = 'Балк ' || id where id = any($1) and id % 3 = 0`, [ids]);
    expect(await count('бульк')).toBe(ids.filter((id) => id % 3 !== 0).length);
    expect(await count('балк')).toBe(ids.filter((id) => id % 3 === 0).length);
    // Other columns do not touch the words (the trigger names the three columns).
    await t.database.pool.query(`update clients set last_activity_at = now() where id = any($1)`, [ids]);
    expect(await count('бульк') + (await count('балк'))).toBe(300);
    expect(await truth('бульк')).toEqual(await allPages(director.token, 'бульк', 40));
    await t.database.pool.query(`delete from clients where id = any($1)`, [ids]);
    expect(await count('бульк') + (await count('балк')) + (await count('навал'))).toBe(0);
  });
});

describe('answers of the word path', () => {
  beforeAll(async () => {
    // Several words holding 'ромаш' in one client (no repeat), equal names (the id breaks the
    // tie), ё in the name, a match only in the legal name or the company, and names before and
    // after them in the alphabet that do not match.
    const names: Array<[string, string | null, string | null]> = [];
    for (let i = 0; i < 150; i++) {
      names.push([
        `${['Альфа', 'Зелёный', 'Яшма', 'Ромашковый'][i % 4]} ${i % 7 === 0 ? 'Ромашка' : 'Кедр'} ${i % 10}`,
        i % 5 === 0 ? 'ООО «Ромашка-Юг»' : null,
        i % 9 === 0 ? 'Ромашкино Групп' : null,
      ]);
    }
    await t.database.pool.query(
      `insert into clients (name, legal_name, company, owner_id) select * , $4 from unnest($1::text[], $2::text[], $3::text[])`,
      [names.map((n) => n[0]), names.map((n) => n[1]), names.map((n) => n[2]), manager.id],
    );
  });

  for (const q of ['ромаш', 'РОМАШКА', 'омашк', 'зеленый', 'ЗЕЛЁНЫЙ', 'кедр', 'юг', 'групп']) {
    it(`pages through '${q}' in name order without a gap or a repeat, as the director and as the owner`, async () => {
      const expected = await truth(q);
      expect(expected.length).toBeGreaterThan(10);
      expect(await allPages(director.token, q, 7)).toEqual(expected);
      expect(await allPages(manager.token, q, 7)).toEqual(await truth(q, manager.id));
    });
  }

  it('answers fragments across words and of digits by the trigram path, the same way', async () => {
    for (const q of ['ромашка-ю', 'кедр 3', 'ый кедр', '3']) {
      const expected = await truth(q);
      expect(expected.length, q).toBeGreaterThan(0);
      expect(await allPages(director.token, q, 9), q).toEqual(expected);
    }
  });

  it('answers a fragment held by very many words by the trigram path', async () => {
    // 70 distinct words hold 'щщв': more than the word path merges (MAX_WORDS).
    const letters = 'абвгдежзийклмнопрстуфхцчшъыьэюя';
    const names = Array.from({ length: 70 }, (_, i) => `Щщв${letters[i % letters.length]}${letters[Math.floor(i / letters.length)]} Узел`);
    await t.database.pool.query(`insert into clients (name, owner_id) select n, $2 from unnest($1::text[]) n`, [names, other.id]);
    const distinct = await t.database.pool.query(`select count(distinct word)::int n from name_words where word like '%щщв%'`);
    expect(distinct.rows[0].n).toBe(70);
    expect(await allPages(director.token, 'щщв', 25)).toEqual(await truth('щщв'));
  });

  it('matches a typo by the words close to it, for the director and within a manager’s own clients', async () => {
    const theirs = await create(other.token, { name: 'Незабудка Восток' });
    const mine = await create(manager.token, { name: 'Незабудка Запад' });
    expect(await truth('незобудка')).toEqual([]);
    expect((await search(director.token, `q=${encodeURIComponent('Незобудка')}`)).items.map((c) => c.id).sort()).toEqual([theirs, mine].sort());
    expect((await search(manager.token, `q=${encodeURIComponent('Незобудка')}`)).items.map((c) => c.id)).toEqual([mine]);
    // A word that is there is not drowned by its close neighbours.
    expect((await search(director.token, 'q=незабудка')).items.map((c) => c.id).sort()).toEqual([theirs, mine].sort());
    expect((await search(director.token, `q=${encodeURIComponent('Ъъъъъъ')}`)).items).toEqual([]);
  });

  it('empties the words with the clients (TRUNCATE)', async () => {
    await t.database.pool.query('truncate clients cascade');
    expect(Number((await t.database.pool.query('select count(*) from client_name_words')).rows[0].count)).toBe(0);
    expect((await search(director.token, 'q=ромаш')).items).toEqual([]);
  });
});
