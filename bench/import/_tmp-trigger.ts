import path from 'node:path';
import pg from 'pg';
import { createDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { createLogger } from '../../src/logger.js';
import { freshDataDir, startDatabase } from '../shared/infra.js';
import { benchLog, cleanupRegistry, runBenchmark } from '../shared/lifecycle.js';
const log = benchLog('trg'); const cleanups = cleanupRegistry(log);
runBenchmark(async (done) => {
  const dataDir = await freshDataDir(path.join(process.cwd(), '.data/bench'), 'trg', { keep: false, removeStale: true, cleanups });
  const { url } = await startDatabase({ dataDir, databaseName: 'x', logger: createLogger('warn'), cleanups });
  const database = createDatabase(url); cleanups.push({ name: 'pool', run: () => database.close() });
  await runMigrations(database.db);
  const c = new pg.Client({ connectionString: url }); await c.connect(); cleanups.push({ name: 'c', run: () => c.end() });
  await c.query(`insert into users (login, name, password_hash, role) values ('d','d','x','director')`);
  const ins = async (tag: string) => {
    for (let k = 0; k < 3; k++) {
      const t = performance.now();
      await c.query(`insert into clients (name, emails, owner_id) select 'ООО "Компания ' || g || '"', array['info' || g || '@firm.example'], 1 from generate_series(1, 5000) g`);
      const t2 = performance.now();
      await c.query(`insert into client_phones (client_id, phone, raw) select id, '+7916' || lpad(id::text, 7, '0'), 'x' from clients where id > (select max(client_id) from client_phones union all select 0 order by 1 desc limit 1)`);
      log(`${tag}: 5000 clients ${Math.round(t2 - t)} ms, phones ${Math.round(performance.now() - t2)} ms`);
    }
  };
  await ins('with history trigger');
  await c.query('alter table clients disable trigger history; alter table client_phones disable trigger history');
  await ins('without history trigger');
  done();
}, { log, cleanups, watchdogMs: 300_000 });
