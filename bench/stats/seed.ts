import type pg from 'pg';
import { DEAL_STATUSES } from '../../src/deals/deal-statuses.js';
import { PIPELINE } from '../../src/stats/stats-figures.js';

// A call centre's year, made by PostgreSQL itself (generate_series): D departments in four time
// zones, U users (a director, a curator per department, the rest managers), C clients, N calls
// spread over the last 365 days, two deals per K clients with the status path each went through,
// and R reviews. Every attribute comes from hashtext(g || salt), so runs are the same. Secondary
// indexes are dropped for the load and rebuilt; triggers (history, foreign keys) are off.

export interface SeedSize { departments: number; users: number; clients: number; calls: number; deals: number; reviews: number }

const ZONES = ['Europe/Moscow', 'Asia/Yekaterinburg', 'Asia/Novosibirsk', 'Europe/Kaliningrad'];

export async function seedStats(client: pg.Client, size: SeedSize, step: (name: string) => void): Promise<void> {
  await client.query(`set maintenance_work_mem = '512MB'`);
  await client.query('begin');
  await client.query('set local session_replication_role = replica');
  const tables = ['calls', 'deals', 'deal_status_changes', 'call_reviews', 'clients'];
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
    `insert into departments (name, line_kind, line_target, time_zone)
     select 'Bench ' || d, 'queue', 'q' || d, ($2::text[])[(d - 1) % 4 + 1] from generate_series(1, $1::int) d`,
    [size.departments, ZONES],
  );
  await client.query(
    `with dep as (select array_agg(id order by id) ids from departments where name like 'Bench %')
     insert into users (login, name, password_hash, role, department_id)
     select 'bench-director', 'Director', '!bench-no-login', 'director', null
     union all select 'bench-curator-' || d, 'Curator ' || d, '!bench-no-login', 'curator', dep.ids[d] from generate_series(1, $2::int) d, dep
     union all select 'bench-manager-' || m, 'Manager ' || m, '!bench-no-login', 'manager', dep.ids[(m - 1) % $2::int + 1]
     from generate_series(1, $1::int - 1 - $2::int) m, dep`,
    [size.users, size.departments],
  );
  await client.query(
    `with mgr as (select array_agg(id order by id) ids from users where login like 'bench-manager-%')
     insert into clients (name, owner_id) select 'Client ' || g, mgr.ids[abs(hashtext(g || 'o')) % array_length(mgr.ids, 1) + 1] from generate_series(1, $1::int) g, mgr`,
    [size.clients],
  );
  step('departments, users, clients');

  // 60 % inbound (80 % answered, 15 % missed, 5 % abandoned), 35 % outbound (70 % answered),
  // 5 % internal. External numbers come from a pool of 300,000, so some missed calls are returned.
  await client.query(
    `with mgr as (select array_agg(id order by id) ids from users where login like 'bench-manager-%')
     insert into calls (system_name, linkedid, direction, external_number, owner_id, initiated_by_id, answered_by_id,
                        started_at, answered_at, ended_at, talk_seconds, disposition, recording_uniqueid)
     select 'default', 'b.' || g, x.dir, '+7999' || lpad((abs(hashtext(g || 'n')) % 300000)::text, 7, '0'),
            x.m, case when x.dir <> 'inbound' then x.m end, case when x.disp = 'answered' and x.dir <> 'outbound' then x.m end,
            x.st, case when x.disp = 'answered' then x.st + make_interval(secs => abs(hashtext(g || 'a')) % 40) end,
            x.st + make_interval(secs => 40 + x.talk), case when x.disp = 'answered' then x.talk end, x.disp,
            case when x.disp = 'answered' then 'b.' || g end
     from generate_series(1, $1::int) g, mgr,
     lateral (select y.*, case
                when y.dir = 'inbound' then case when y.h < 80 then 'answered' when y.h < 95 then 'missed' else 'abandoned' end
                when y.dir = 'outbound' then case when y.h < 70 then 'answered' else 'missed' end
                else 'answered' end as disp
              from (select mgr.ids[abs(hashtext(g || 'm')) % array_length(mgr.ids, 1) + 1] m,
                           case when abs(hashtext(g || 'd')) % 100 < 60 then 'inbound' when abs(hashtext(g || 'd')) % 100 < 95 then 'outbound' else 'internal' end dir,
                           abs(hashtext(g || 'h')) % 100 h,
                           abs(hashtext(g || 'k')) % 600 talk,
                           now() - make_interval(secs => abs(hashtext(g || 't')) % (365 * 86400)) st) y) x`,
    [size.calls],
  );
  step('calls');

  // Deals: status weighted towards the start of the pipeline; created in the last year.
  await client.query(
    `insert into deals (client_id, title, status, owner_id, amount, created_at, updated_at)
     select c, 'Deal ' || g, ($2::text[])[abs(hashtext(g || 's')) % array_length($2::text[], 1) + 1], cl.owner_id,
            (abs(hashtext(g || 'a')) % 1000000) + 0.5, now() - make_interval(secs => abs(hashtext(g || 'c')) % (365 * 86400)), now()
     from generate_series(1, $1::int) g, lateral (select (g - 1) % $3::int + 1 c) k join clients cl on cl.id = k.c`,
    [size.deals, DEAL_STATUS_WEIGHTED, size.clients],
  );
  // The path of each deal: every pipeline stage up to its own, a day apart; a refused deal went
  // up to a stage of its own and then to the refusal.
  await client.query(
    `insert into deal_status_changes (deal_id, from_status, to_status, changed_by_id, changed_at)
     select d.id, case when k > 0 then ($1::text[])[k] end, ($1::text[])[k + 1], d.owner_id, d.created_at + make_interval(days => k)
     from deals d, lateral (select coalesce(array_position($1::text[], d.status) - 1, d.id % 3) top) t, generate_series(0, t.top) k
     union all
     select d.id, ($1::text[])[d.id % 3 + 1], d.status, d.owner_id, d.created_at + make_interval(days => d.id % 3 + 1)
     from deals d where array_position($1::text[], d.status) is null`,
    [PIPELINE],
  );
  step('deals, status changes');

  await client.query(`insert into scorecards (name) values ('Bench')`);
  await client.query(`insert into scorecard_versions (scorecard_id, version, criteria) select id, 1, '[{"key":"ok","label":"ok","weight":1,"kind":"scale","max":10}]' from scorecards`);
  await client.query(
    `insert into call_reviews (call_id, scorecard_version_id, reviewer_id, manager_id, answers, total, created_at)
     select c.id, (select id from scorecard_versions limit 1), null, coalesce(c.answered_by_id, c.initiated_by_id, c.owner_id),
            '{}'::jsonb, abs(hashtext(c.id || 'r')) % 101, c.started_at + interval '1 day'
     from calls c where c.disposition = 'answered' and c.id % $2::int = 0 limit $1::int`,
    [size.reviews, Math.max(1, Math.floor((size.calls * 0.7) / size.reviews))],
  );
  step('reviews');
  for (const i of indexes) await client.query(i.def);
  step(`${indexes.length} indexes rebuilt`);
  // The trigger that keeps the call rollup current was off with the others: count it once.
  await client.query('select call_stats_rebuild()');
  step('call rollup');
  await client.query('commit');
  // Index-only scans need the visibility map: a table the service has run on for a while has it.
  await client.query('vacuum analyze');
  step('vacuum analyze');
}

const DEAL_STATUS_WEIGHTED: string[] = [
  ...Array<string>(30).fill('new'), ...Array<string>(20).fill('collecting_info'), ...Array<string>(15).fill('proposal_sent'),
  ...Array<string>(10).fill('interest'), ...Array<string>(5).fill('contract_approval'), ...Array<string>(4).fill('contract_signed'),
  ...Array<string>(3).fill('contract_paid'), ...Array<string>(5).fill('in_progress'), ...Array<string>(6).fill('completed'),
  ...DEAL_STATUSES.filter((s) => s.startsWith('refused_')),
];
