import type pg from 'pg';

// Set-based seed for the route benchmark: a few statements over generate_series, no per-row
// round trips. Deterministic (no random()), so two runs route the same callers the same way.
//
//   5 departments   queue and dial lines; 3 always open, one office hours Mon–Fri 09–18 Moscow,
//                   one 24/7 schedule; one without a voicemail box; 2 DIDs each
//   5 curators + 60 managers   extensions 1001…1060; presence 50 % available, 20 % away,
//                   15 % dnd, 15 % offline; absence rules mobile / department / voicemail in
//                   turn; every 7th without a mobile; 2 inactive (their clients have no owner
//                   the route can load)
//   100,000 clients owners spread over the managers, last_activity_at over the past year,
//                   10 % never active (null)
//   200,000 phones  two per client, E.164 Russian mobiles `+79…`:
//                   189,700 unique numbers `+791…`–`+798…`,
//                   10,000 rows on 2,000 numbers `+7999000xxxx` shared by 5 clients each (ties),
//                   300 rows on one number `+79990009999`, a "company switchboard" number typed
//                   into 300 cards (the LIMIT 20 of the route query).
//   20,000 contacts one on every 5th client, each with a number of its own `+7997…` (rows of
//                   client_phones with contact_id set): a call from one routes to the client's
//                   owner (issue 11); ~9 % of the known callers the load draws are contacts.
// Unknown callers for the load are drawn from `+7995…`, which the seed never uses.

export const SEED = {
  departments: 5,
  didsPerDepartment: 2,
  curators: 5,
  managers: 60,
  clients: 100_000,
  phones: 200_000,
  contacts: 20_000,
} as const;

export interface SeedReport {
  ms: number;
  counts: Record<string, number>;
}

const HOURS_OFFICE = {
  mon: [['09:00', '18:00']], tue: [['09:00', '18:00']], wed: [['09:00', '18:00']], thu: [['09:00', '18:00']], fri: [['09:00', '18:00']],
};
const HOURS_ALWAYS = Object.fromEntries(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [['00:00', '24:00']]]));

export async function seed(client: pg.Client | pg.PoolClient, onStep: (step: string, ms: number) => void = () => {}): Promise<SeedReport> {
  const started = performance.now();
  let stepStarted = started;
  const step = (name: string) => {
    const now = performance.now();
    onStep(name, now - stepStarted);
    stepStarted = now;
  };
  const { clients: nClients, phones: nPhones } = SEED;
  if (nPhones !== 2 * nClients) throw new Error('seed: two phones per client');

  await client.query('begin');
  try {
    // Bulk-load the two big tables without their foreign keys and secondary indexes, then put
    // them back (one validating join and one sorted index build each, instead of 300,000 FK
    // trigger lookups and index insertions). The definitions are read from the catalog, so the
    // schema after the seed is exactly the migrated one. In the transaction: all or nothing.
    const restore = await dropKeysAndIndexes(client, ['clients', 'client_phones']);
    await client.query(
      `insert into departments (name, line_kind, line_target, voicemail_box, business_hours, time_zone)
       select 'Bench ' || d,
              case when d % 2 = 1 then 'queue' else 'dial' end,
              case when d % 2 = 1 then 'bench-q' || d else 'PJSIP/20' || d end,
              case when d = 5 then null else '90' || d || '@default' end,
              case d when 4 then $1::jsonb when 5 then $2::jsonb else null end,
              'Europe/Moscow'
       from generate_series(1, $3::int) d`,
      [JSON.stringify(HOURS_OFFICE), JSON.stringify(HOURS_ALWAYS), SEED.departments],
    );
    await client.query(
      `insert into department_dids (did, department_id)
       select '+7495111' || lpad((d.rn * 10 + k)::text, 4, '0'), d.id
       from (select id, row_number() over (order by id) as rn from departments where name like 'Bench %') d,
            generate_series(1, $1::int) k`,
      [SEED.didsPerDepartment],
    );
    await client.query(
      `with dep as (select array_agg(id order by id) as ids from departments where name like 'Bench %')
       insert into users (login, name, password_hash, role, department_id, extension, mobile, absent_rule, presence, active)
       select 'bench-curator-' || c, 'Curator ' || c, '!bench-no-login', 'curator', dep.ids[c], null, null, 'department', 'offline', true
       from generate_series(1, $1::int) c, dep
       union all
       select 'bench-manager-' || m, 'Manager ' || m, '!bench-no-login', 'manager',
              dep.ids[(m - 1) % array_length(dep.ids, 1) + 1],
              (1000 + m)::text,
              case when m % 7 = 0 then null else '+7903' || lpad(m::text, 7, '0') end,
              (array['mobile', 'department', 'voicemail'])[m % 3 + 1],
              case when m % 20 < 10 then 'available' when m % 20 < 14 then 'away' when m % 20 < 17 then 'dnd' else 'offline' end,
              m % 30 <> 0
       from generate_series(1, $2::int) m, dep`,
      [SEED.curators, SEED.managers],
    );
    step('departments, DIDs, users');
    await client.query(
      `with mgr as (select array_agg(id order by id) as ids from users where login like 'bench-manager-%')
       insert into clients (name, company, important, owner_id, last_activity_at)
       select 'Client ' || g,
              case when g % 3 = 0 then 'OOO "Company ' || (g % 5000) || '"' end,
              g % 50 = 0,
              mgr.ids[((g::bigint * 2654435761) % array_length(mgr.ids, 1))::int + 1],
              case when g % 10 = 0 then null
                   else now() - make_interval(secs => ((g::bigint * 7919) % 31536000)::double precision) end
       from generate_series(1, $1::int) g, mgr`,
      [nClients],
    );
    step('clients');
    // Row n of 1…2N: client rn = (n - 1) % N + 1 (first phones, then second phones).
    await client.query(
      `with c as (select id, row_number() over (order by id) as rn from clients where name like 'Client %'),
       p as (
         select n, (n - 1) % $1::int + 1 as rn,
                case when n > 2 * $1::int - 10000 then '+7999000' || lpad((n % 2000)::text, 4, '0')
                     when n > 2 * $1::int - 10300 then '+79990009999'
                     else '+79' || (100000000 + (n * 7919) % 800000000)::text end as phone
         from generate_series(1, 2 * $1::bigint) n
       )
       insert into client_phones (client_id, phone, raw)
       select c.id, p.phone,
              case p.n % 3 when 0 then p.phone
                           when 1 then '8 (' || substr(p.phone, 3, 3) || ') ' || substr(p.phone, 6, 3) || '-' || substr(p.phone, 9, 2) || '-' || substr(p.phone, 11, 2)
                           else substr(p.phone, 2) end
       from p join c using (rn)`,
      [nClients],
    );
    step('phones');
    // Every 5th client's contact person, with one number of their own (`+7997` + 7 digits).
    await client.query(
      `with c as (select id, row_number() over (order by id) as rn from clients where name like 'Client %'),
       k as (
         insert into client_contacts (client_id, name, position, decision_maker)
         select c.id, 'Contact ' || c.rn, case when c.rn % 2 = 0 then 'Director' end, c.rn % 2 = 0
         from c where c.rn % 5 = 0 and c.rn <= 5 * $1::int
         returning id, client_id
       )
       insert into client_phones (client_id, contact_id, phone, raw)
       select k.client_id, k.id, '+7997' || lpad(k.id::text, 7, '0'), '8 997 ' || lpad(k.id::text, 7, '0')
       from k`,
      [SEED.contacts],
    );
    step('contacts and their phones');
    await restore();
    step('indexes and foreign keys');
    await client.query('commit');
    step('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
  // Fresh statistics and visibility map, as autovacuum would have them on a live system.
  await client.query('vacuum analyze departments, department_dids, users, clients, client_phones, client_contacts');
  step('vacuum analyze');

  const { rows } = await client.query<Record<string, string>>(
    `select (select count(*) from departments) as departments, (select count(*) from department_dids) as dids,
            (select count(*) from users) as users, (select count(*) from clients) as clients,
            (select count(*) from client_phones) as phones,
            (select count(*) from client_phones where contact_id is not null) as contact_phones,
            (select count(*) from (select phone from client_phones group by phone having count(*) > 1) s) as shared_numbers`,
  );
  const counts = Object.fromEntries(Object.entries(rows[0]!).map(([k, v]) => [k, Number(v)]));
  return { ms: performance.now() - started, counts };
}

async function dropKeysAndIndexes(client: pg.Client | pg.PoolClient, tables: string[]): Promise<() => Promise<void>> {
  const constraints = (
    await client.query<{ name: string; tbl: string; def: string }>(
      `select conname as name, conrelid::regclass::text as tbl, pg_get_constraintdef(oid) as def
       from pg_constraint where conrelid = any($1::regclass[]) and contype in ('f', 'u')`,
      [tables],
    )
  ).rows;
  const indexes = (
    await client.query<{ name: string; def: string }>(
      `select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as def
       from pg_index i where i.indrelid = any($1::regclass[]) and not i.indisprimary
         and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)`,
      [tables],
    )
  ).rows;
  for (const c of constraints) await client.query(`alter table ${c.tbl} drop constraint ${client.escapeIdentifier(c.name)}`);
  for (const i of indexes) await client.query(`drop index ${i.name}`);
  return async () => {
    for (const i of indexes) await client.query(i.def);
    // Unique constraints first: foreign keys may rely on them.
    const ordered = [...constraints].sort((a, b) => Number(a.def.startsWith('FOREIGN')) - Number(b.def.startsWith('FOREIGN')));
    for (const c of ordered) await client.query(`alter table ${c.tbl} add constraint ${client.escapeIdentifier(c.name)} ${c.def}`);
  };
}

/** Everything the load generator needs from the seeded data. */
export async function loadFixtures(client: pg.Client | pg.PoolClient, sampleSize: number) {
  const dids = (await client.query<{ did: string }>('select did from department_dids order by did')).rows.map((r) => r.did);
  // A fixed pseudo-random sample (md5 of the id) of seeded numbers; shared numbers appear in
  // their natural proportion.
  const known = (
    await client.query<{ phone: string }>('select phone from client_phones order by md5(id::text) limit $1', [sampleSize])
  ).rows.map((r) => r.phone);
  const departments = (await client.query<{ name: string }>("select name from departments where name like 'Bench %' order by id")).rows.map((r) => r.name);
  const contact = (
    await client.query<{ phone: string; client_id: number }>('select phone, client_id from client_phones where contact_id is not null order by id limit 1')
  ).rows[0];
  return { dids, known, departments, contact };
}
