// `npx tsx bench/route/explain.ts` — where the route's time goes in PostgreSQL: EXPLAIN ANALYZE
// of the route-facts query (the exact text the service sends, read from
// src/routing/load-route-input.ts) for a known, a shared, a "switchboard" and an unknown caller,
// and the time of N sequential executions through `pg` as the service runs them.
//
// Uses the same embedded PostgreSQL and seed as `npm run bench:route`, with a data folder kept
// under .data/bench/explain (seeded once; delete the folder to reseed). DATABASE_URL is ignored.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDatabase } from '../../src/db/client.js';
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js';
import { runMigrations } from '../../src/db/migrate.js';
import { freePort } from '../../src/infra/ports.js';
import { createLogger } from '../../src/logger.js';
import { loadRouteFactsBatch } from '../../src/routing/load-route-input.js';
import { seed } from './seed.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dataDir = path.join(ROOT, '.data/bench/explain');
const N = Number(process.env.EXPLAIN_N ?? 2000);

const logger = createLogger('warn');
const fresh = !existsSync(path.join(dataDir, 'postgres', 'PG_VERSION'));
const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), database: 'switchboard', logger });
try {
  const database = createDatabase(server.url, { max: 1 });
  await runMigrations(database.db);
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  const seeded = (await client.query('select count(*)::int as n from clients')).rows[0].n > 0;
  if (fresh || !seeded) {
    const report = await seed(client);
    console.log(`seeded in ${(report.ms / 1000).toFixed(1)} s`);
  }
  // Some trace rows, as after a while of traffic.
  const traced = (await client.query('select count(*)::int as n from route_decisions')).rows[0].n;
  if (traced < 200_000) {
    await client.query(
      `insert into route_decisions (linkedid, uniqueid, step, last_status, caller_raw, caller, did, action, reason, answer, candidates, latency_ms)
       select 'x-' || g, 'x-' || g, 1, '', '79160000000', '+79160000000', '+74951110011', 'dial', 'owner', '{}', '[]', 1
       from generate_series(1, 200000 - $1::int) g`,
      [traced],
    );
    await client.query('vacuum analyze route_decisions');
  }

  const source = (await import('node:fs/promises')).readFile(path.join(ROOT, 'src/routing/load-route-input.ts'), 'utf8');
  const sql = /text: `([\s\S]*?)`,/.exec(await source)?.[1];
  if (!sql) throw new Error('could not find ROUTE_FACTS_SQL in load-route-input.ts');

  const known = (await client.query("select phone from client_phones where phone like '+791%' limit 1")).rows[0].phone as string;
  const cases: Array<[string, string | null]> = [
    ['known caller', known],
    ['shared number (5 clients)', '+79990000001'],
    ['switchboard number (300 clients)', '+79990009999'],
    ['unknown caller', '+79950000000'],
  ];
  const did = '+74951110011';
  for (const [name, caller] of cases) {
    const { rows } = await client.query(`explain (analyze, buffers, costs off, summary on) ${sql}`, [[caller], [did], ['none-such'], [1], 'Bench 1']);
    console.log(`\n=== ${name} (${caller})\n${rows.map((r) => r['QUERY PLAN']).join('\n')}`);
  }

  const phones = (await client.query('select phone from client_phones order by md5(id::text) limit $1', [N])).rows.map((r) => r.phone as string);
  for (const [label, pick] of [
    ['known callers', (i: number) => phones[i % phones.length]!],
    ['unknown callers', (i: number) => `+7995${String(i).padStart(7, '0')}`],
  ] as const) {
    // Through the service's own function and a pool like the service's.
    for (let i = 0; i < 200; i++) await loadRouteFactsBatch(database.pool, 'Bench 1', [{ caller: pick(i), did, linkedid: `warm-${i}`, step: 1 }]);
    const times: number[] = [];
    for (let i = 0; i < N; i++) {
      const t = performance.now();
      await loadRouteFactsBatch(database.pool, 'Bench 1', [{ caller: pick(i), did, linkedid: `seq-${i}`, step: 1 }]);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const q = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)]!.toFixed(3);
    console.log(`\nloadRouteFactsBatch (one request), ${label}, ${N} sequential: p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms`);
  }
  await client.end();
  await database.close();
} finally {
  await server.stop();
}
