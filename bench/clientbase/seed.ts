import type pg from 'pg';

// The client base at scale, made by PostgreSQL itself (generate_series): N clients of M managers
// in D departments, two phones each, a deal for every fifth. Names are two words of small
// vocabularies plus a number, so a word matches ~1/40 of the base and a number a handful; one
// client in 1,000 has a rare word in its legal name ('ИП Ромашка Лукоморье', two words searches).
// Secondary indexes are dropped for the load and rebuilt (one sorted build instead of millions
// of insertions); triggers (history, foreign keys) are off for the load: the data is ours.

export const ADJECTIVES = ['Быстрый', 'Северный', 'Зелёный', 'Новый', 'Старый', 'Южный', 'Западный', 'Восточный', 'Добрый', 'Красный',
  'Синий', 'Белый', 'Чёрный', 'Золотой', 'Серебряный', 'Большой', 'Малый', 'Главный', 'Первый', 'Второй',
  'Тёплый', 'Светлый', 'Тихий', 'Весёлый', 'Умный', 'Честный', 'Прямой', 'Точный', 'Ясный', 'Яркий',
  'Лесной', 'Речной', 'Морской', 'Горный', 'Степной', 'Полевой', 'Городской', 'Сельский', 'Единый', 'Общий'];
export const NOUNS = ['Ромашка', 'Вектор', 'Альянс', 'Берёзка', 'Гранит', 'Дельта', 'Ёлка', 'Заря', 'Импульс', 'Каскад',
  'Лидер', 'Магистраль', 'Нива', 'Орбита', 'Прогресс', 'Радуга', 'Сокол', 'Трейд', 'Урал', 'Феникс',
  'Холдинг', 'Цемент', 'Чайка', 'Шанс', 'Электрон', 'Юпитер', 'Якорь', 'Атлант', 'Бриз', 'Волна',
  'Гамма', 'Днепр', 'Жемчуг', 'Зенит', 'Искра', 'Кедр', 'Луч', 'Меридиан', 'Нептун', 'Олимп'];
export const TAGS = ['wholesale', 'retail', 'vip', 'partner', 'tender', 'export', 'regions', 'moscow', 'spb', 'b2g'];

export interface SeedSize { clients: number; managers: number; departments: number }

export async function seedClientBase(client: pg.Client | pg.PoolClient, size: SeedSize, step: (name: string) => void): Promise<void> {
  await client.query(`set maintenance_work_mem = '1GB'`);
  await client.query('set max_parallel_maintenance_workers = 2');
  await client.query('begin');
  await client.query('set local session_replication_role = replica');
  const tables = ['clients', 'client_phones', 'deals', 'client_name_words', 'name_words', 'client_name_pairs'];
  const indexes = (
    await client.query<{ name: string; def: string }>(
      `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
       from pg_index i where i.indrelid = any($1::regclass[]) and not i.indisprimary
         and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`,
      [tables],
    )
  ).rows;
  for (const i of indexes) await client.query(`drop index ${i.name}`);
  await client.query(
    `insert into departments (name, line_kind, line_target) select 'Bench ' || d, 'queue', 'q' || d from generate_series(1, $1::int) d`,
    [size.departments],
  );
  await client.query(
    `with dep as (select array_agg(id order by id) ids from departments where name like 'Bench %')
     insert into users (login, name, password_hash, role, department_id)
     select 'bench-manager-' || m, 'Manager ' || m, '!bench-no-login', 'manager', dep.ids[(m - 1) % array_length(dep.ids, 1) + 1]
     from generate_series(1, $1::int) m, dep
     union all select 'bench-director', 'Director', '!bench-no-login', 'director', null`,
    [size.managers],
  );
  step('departments, users');
  // hashtext(g || salt) spreads every attribute independently of the others.
  await client.query(
    `with mgr as (select array_agg(id order by id) ids from users where login like 'bench-manager-%')
     insert into clients (name, legal_name, company, inn, emails, status, temperature, important, tags, owner_id,
                          next_contact_at, last_contact_at, last_activity_at)
     select a.w || ' ' || n.w || ' ' || g,
            case when g % 2 = 0 then 'ООО «' || n.w || '-' || g || '»' when g % 1000 = 1 then 'ИП ' || n.w || ' Лукоморье' end,
            case when g % 3 = 0 then n.w || ' Групп' end,
            case when g % 4 <> 0 then lpad((abs(hashtext(g || 'inn')) % 10000000000)::text, 10, '0') end,
            case when g % 5 = 0 then '{}'::text[] else array['info' || g || '@' || lower(translit) || '.example'] end,
            (array['potential', 'current', 'former'])[abs(hashtext(g || 's')) % 3 + 1],
            (array['cold', 'warm', 'hot', null])[abs(hashtext(g || 't')) % 4 + 1],
            abs(hashtext(g || 'i')) % 50 = 0,
            case when g % 3 = 0 then array[($2::text[])[abs(hashtext(g || 'tag')) % 10 + 1]] else '{}' end,
            mgr.ids[abs(hashtext(g || 'o')) % array_length(mgr.ids, 1) + 1],
            case when g % 10 < 7 then now() + make_interval(secs => ((abs(hashtext(g || 'n')) % (400 * 86400)) - 200 * 86400)::double precision) end,
            case when g % 10 < 8 then now() - make_interval(secs => (abs(hashtext(g || 'l')) % (730 * 86400) + (g % 1000) / 1000.0)::double precision) end,
            now()
     from generate_series(1, $1::int) g, mgr,
          lateral (select ($3::text[])[abs(hashtext(g || 'a')) % 40 + 1] w) a,
          lateral (select ($4::text[])[abs(hashtext(g || 'b')) % 40 + 1] w, 'firm' || (abs(hashtext(g || 'b')) % 40) translit) n`,
    [size.clients, TAGS, ADJECTIVES, NOUNS],
  );
  step('clients');
  // What the triggers of migrations 0020 and 0024 write for an insert (they are off for the load).
  await client.query(`insert into client_name_words (word, name, client_id) select w, c.name, c.id from clients c, name_words_of(c.name, c.legal_name, c.company) w`);
  await client.query(`insert into name_words (word) select distinct word from client_name_words`);
  await client.query(`insert into client_name_pairs (first, sep, second, name, client_id) select p.first, p.sep, p.second, c.name, c.id from clients c, name_pairs_of(c.name, c.legal_name, c.company) p`);
  step('name words');
  // Two mobile numbers per client; digits from a hash, so fragments hit like real numbers do.
  await client.query(
    `insert into client_phones (client_id, phone, raw)
     select c.id, p.phone, p.phone from clients c,
       lateral (select '+79' || lpad((abs(hashtext(c.id || 'p' || k)) % 1000000000)::text, 9, '0') phone from generate_series(1, 2) k) p
     on conflict do nothing`,
  );
  step('phones');
  await client.query(
    `insert into deals (client_id, title, status, owner_id)
     select c.id, 'Deal ' || c.id, ($1::text[])[abs(hashtext(c.id || 'd')) % array_length($1::text[], 1) + 1], c.owner_id
     from clients c where c.id % 5 = 0`,
    [DEAL_STATUS_WEIGHTED],
  );
  step('deals');
  for (const i of indexes) await client.query(i.def);
  step(`${indexes.length} indexes rebuilt`);
  await client.query('commit');
  await client.query('vacuum analyze clients, client_phones, deals, users, client_name_words, name_words, client_name_pairs');
  step('vacuum analyze');
}

// Open deals dominate, a refusal reason is rarer: 'contract_paid' is ~1 in 100 deals.
const DEAL_STATUS_WEIGHTED = [
  ...Array<string>(30).fill('new'), ...Array<string>(20).fill('collecting_info'), ...Array<string>(15).fill('proposal_sent'),
  ...Array<string>(10).fill('interest'), ...Array<string>(5).fill('contract_approval'), ...Array<string>(4).fill('contract_signed'),
  'contract_paid', ...Array<string>(5).fill('in_progress'), ...Array<string>(6).fill('completed'), ...Array<string>(4).fill('refused_price'),
];
