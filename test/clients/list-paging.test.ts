import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { departments } from '../../src/departments/departments.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

// GET /api/clients pages by cursor (issue 11): every sort, walked page by page, gives each
// visible client exactly once, for a director (the whole base) and for a manager (their own).

type U = { id: number; token: string };
type Page = { items: Array<{ id: number; name: string; ownerId: number }>; nextCursor: string | null };
let t: TestApp;
let director: U;
let manager: U;
let other: U;

const MINE = 90;
const THEIRS = 40;
const LIMIT = 17;

beforeAll(async () => {
  t = await createTestApp();
  const [dep] = await t.database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'q' }).returning({ id: departments.id });
  director = await createUser(t, { role: 'director' });
  manager = await createUser(t, { role: 'manager', departmentId: dep!.id });
  other = await createUser(t, { role: 'manager', departmentId: dep!.id });
  // Inserted in SQL: 130 clients through the API take long. Names repeat every 25 rows and
  // dates every few, so each sort has ties that only the id breaks; some dates are empty.
  const insert = (owner: number, count: number, from: number) =>
    t.database.pool.query(
      `insert into clients (name, owner_id, last_contact_at, next_contact_at)
       select 'Paged ' || lpad((g % 25)::text, 3, '0'), $1,
              case when g % 5 = 0 then null else now() - (g % 11) * interval '1 day' end,
              case when g % 4 = 0 then null else now() + (g % 7) * interval '1 day' + (g % 3) * interval '1 microsecond' end
       from generate_series($2::int, $2::int + $3::int - 1) g`,
      [owner, from, count],
    );
  await insert(manager.id, MINE, 1);
  await insert(other.id, THEIRS, 1_000);
});
afterAll(() => t.close());

const list = async (token: string, query: string): Promise<Page> => {
  const res = await t.app.inject({ method: 'GET', url: `/api/clients?${query}`, headers: bearer(token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Page;
};

async function walk(token: string, query: string): Promise<{ ids: number[]; pages: number }> {
  const ids: number[] = [];
  let pages = 0;
  let cursor: string | null = null;
  do {
    const page: Page = await list(token, `${query}&limit=${LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(page.items.length, `page ${pages + 1}`).toBeLessThanOrEqual(LIMIT);
    ids.push(...page.items.map((c) => c.id));
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor !== null && pages < 100);
  return { ids, pages };
}

/** The order PostgreSQL gives the whole set at once: what the pages put together must equal. */
const ORDER = {
  name: 'name asc, id asc',
  lastContact: "coalesce(last_contact_at, '-infinity') desc, id desc",
  nextContact: "coalesce(next_contact_at, 'infinity') asc, id asc",
} as const;
async function expected(sort: keyof typeof ORDER, ownerId?: number): Promise<number[]> {
  const { rows } = await t.database.pool.query<{ id: number }>(
    `select id from clients where name like 'Paged %' ${ownerId ? 'and owner_id = $1' : ''} order by ${ORDER[sort]}`,
    ownerId ? [ownerId] : [],
  );
  return rows.map((r) => r.id);
}

describe('GET /api/clients by cursor', () => {
  for (const sort of ['name', 'lastContact', 'nextContact'] as const) {
    it(`walks every visible client once in ${sort} order (director and manager)`, async () => {
      const whole = await walk(director.token, `q=Paged&sort=${sort}`);
      expect(whole.ids).toEqual(await expected(sort));
      expect(whole.ids).toHaveLength(MINE + THEIRS);
      expect(whole.pages).toBe(Math.ceil((MINE + THEIRS) / LIMIT));

      const own = await walk(manager.token, `q=Paged&sort=${sort}`);
      expect(own.ids).toEqual(await expected(sort, manager.id));
      expect(new Set(own.ids).size).toBe(MINE);
    });
  }

  it('sorts by name when no sort is given', async () => {
    expect((await walk(manager.token, 'q=Paged')).ids).toEqual(await expected('name', manager.id));
  });

  it('keeps the filters on every page', async () => {
    const page = await list(manager.token, `q=Paged&sort=lastContact&limit=${LIMIT}`);
    const next = await list(manager.token, `q=Paged&sort=lastContact&limit=${LIMIT}&ownerId=${manager.id}&cursor=${encodeURIComponent(page.nextCursor!)}`);
    expect(next.items.every((c) => c.ownerId === manager.id)).toBe(true);
    expect(next.items.map((c) => c.id)).toEqual((await expected('lastContact', manager.id)).slice(LIMIT, 2 * LIMIT));
  });

  it('does not repeat a row when a client is added before the page meanwhile', async () => {
    const first = await list(manager.token, `q=Paged&limit=${LIMIT}`);
    // A name that sorts among the rows already read: an offset would now give the 17th again.
    await t.database.pool.query(`insert into clients (name, owner_id) values ('Paged 000 a', $1)`, [manager.id]);
    const second = await list(manager.token, `q=Paged&limit=${LIMIT}&cursor=${encodeURIComponent(first.nextCursor!)}`);
    const seen = new Set(first.items.map((c) => c.id));
    expect(second.items.filter((c) => seen.has(c.id))).toEqual([]);
    expect(second.items.map((c) => c.id)).toEqual((await expected('name', manager.id)).slice(LIMIT + 1, 2 * LIMIT + 1));
  });
});

describe('the old parameters', () => {
  it('answers an offset with a 400 that says to use the cursor', async () => {
    for (const offset of ['0', '50', '-1', 'abc']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/clients?limit=10&offset=${offset}`, headers: bearer(manager.token) });
      expect(res.statusCode, offset).toBe(400);
      expect(res.json()).toMatchObject({ code: 'VALIDATION', message: expect.stringMatching(/^offset: .*cursor/) });
    }
  });

  it('no longer answers with a total', async () => {
    const page = await list(manager.token, 'q=Paged&limit=5');
    expect(page).not.toHaveProperty('total');
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it('refuses a cursor made for another sort, or not made by us', async () => {
    const { nextCursor } = await list(manager.token, 'q=Paged&limit=5&sort=name');
    for (const query of [`sort=lastContact&cursor=${nextCursor}`, 'cursor=garbage']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/clients?${query}`, headers: bearer(manager.token) });
      expect(res.statusCode, query).toBe(400);
      expect(res.json().message).toMatch(/^cursor: /);
    }
  });

  it('matches `q` as a fragment only, as it always did: typos are the search’s', async () => {
    expect((await list(director.token, 'q=Pagde&limit=5')).items).toEqual([]);
    const res = await t.app.inject({ method: 'GET', url: '/api/clients/search?q=Pagde&limit=5', headers: bearer(director.token) });
    expect(res.json().items.length).toBeGreaterThan(0);
  });
});
