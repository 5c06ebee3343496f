import { execFile } from 'node:child_process';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { eq } from 'drizzle-orm';
import { createDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import { importJobs } from '../../src/import/import-jobs.table.js';
import { dryRun, type ImportEnv } from '../../src/import/import-run.js';
import { realRun } from '../../src/import/real-run.js';
import { readRows, sniffFile, type FileShape } from '../../src/import/read-rows.js';
import { createLogger } from '../../src/logger.js';
import { users } from '../../src/users/users.table.js';
import { freshDataDir, startDatabase } from '../shared/infra.js';
import { benchLog, cleanupRegistry, runBenchmark } from '../shared/lifecycle.js';
import { machine } from '../shared/machine.js';
import { makeCsv, makeXlsx, OWNERS } from './make-files.js';

// bench/import: the client import over generated dirty files (make-files.ts) in an embedded
// PostgreSQL of its own. For each 100k-row file: the plain parse (decode + CSV/XLSX parser, the
// limit), the dry run (parse + mapping + phone cleaning + matching against the base + report +
// rejected-rows file), each as rows/s and as a share of the plain parse. Then the real run of
// the UTF-8 CSV into an empty base, and its re-import (every row matched, nothing changes). Last,
// the dry run of a 1M-row CSV in a child process, for its peak RSS (and the plain parse's).
//
//   npm run bench:import -- [--rows 100000] [--big 1000000] [--out bench/results/import.json]
// DATABASE_URL for a running server instead of the embedded one.

const { values: args } = parseArgs({ options: { rows: { type: 'string' }, big: { type: 'string' }, out: { type: 'string' } } });
const rowsN = Number(args.rows ?? 100_000);
const bigN = Number(args.big ?? 1_000_000);
const ROOT = path.resolve(import.meta.dirname, '../..');
const out = args.out ?? path.join(ROOT, 'bench/results/import.json');
const TARGETS = { csvDry: 50_000, csvReal: 20_000, xlsxDry: 20_000, bigRssMiB: 300 };

const log = benchLog('import');
const cleanups = cleanupRegistry(log);
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');
const run = promisify(execFile);
const rate = (rows: number, seconds: number) => Math.round(rows / seconds);

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, (performance.now() - started) / 1000];
}

async function plainParse(file: string, shape: FileShape): Promise<number> {
  let n = 0;
  for await (const _ of readRows(file, { shape })) n++;
  return n;
}

async function child(url: string, file: string, mode: 'dry' | 'parse') {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'dry-child.ts'), url, file, mode], { maxBuffer: 1 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as { rows: number; seconds: number; peakRssMiB: number };
}

async function main(done: () => void): Promise<void> {
  const started = new Date();
  const dataDir = await freshDataDir(path.join(ROOT, '.data/bench'), 'import', { keep: process.env.BENCH_KEEP_DATA === '1', removeStale: true, cleanups });
  const { url } = await startDatabase({ dataDir, databaseName: `switchboard_bench_import_${process.pid}`, logger, cleanups });
  const database = createDatabase(url, { max: 4 });
  cleanups.push({ name: 'pool', run: () => database.close() });
  await runMigrations(database.db);
  const db = database.db;
  const [director] = await db.insert(users).values({ login: 'bench-director', name: 'Bench Director', passwordHash: 'x', role: 'director' }).returning();
  await db.insert(users).values(OWNERS.map((o) => ({ ...o, passwordHash: 'x', role: 'manager' as const })));
  const viewer = { id: director!.id, login: director!.login, name: director!.name, role: 'director' as const, departmentId: null, managerId: null };
  const env: ImportEnv = { db, region: 'RU', utcOffset: '+03:00' };

  const files = { csv: path.join(dataDir, 'clients-utf8.csv'), cp1251: path.join(dataDir, 'clients-cp1251.csv'), xlsx: path.join(dataDir, 'clients.xlsx'), big: path.join(dataDir, 'clients-1m.csv') };
  log(`making files: ${rowsN} rows (CSV UTF-8 ',', CSV cp1251 ';', XLSX), ${bigN} rows CSV`);
  await makeCsv(files.csv, rowsN, { delimiter: ',', cp1251: false });
  await makeCsv(files.cp1251, rowsN, { delimiter: ';', cp1251: true });
  await makeXlsx(files.xlsx, rowsN);
  if (bigN > 0) await makeCsv(files.big, bigN, { delimiter: ',', cp1251: false });

  const dry: Record<string, unknown> = {};
  for (const [name, file] of [['csv', files.csv], ['csv-cp1251', files.cp1251], ['xlsx', files.xlsx]] as const) {
    const shape = await sniffFile(file);
    const [parsed, parseSeconds] = await timed(() => plainParse(file, shape));
    const [result, drySeconds] = await timed(() => dryRun(env, viewer, { path: file, shape, sheet: null }, null, `${file}.rejected.csv`));
    const r = result.report;
    dry[name] = {
      bytes: (await stat(file)).size, shape, rows: r.rowsRead,
      parseRowsPerSecond: rate(parsed, parseSeconds), dryRowsPerSecond: rate(r.rowsRead, drySeconds), shareOfParse: Math.round((parseSeconds / drySeconds) * 100) / 100,
      report: { rejected: r.rowsRejected, toCreate: r.clientsToCreate, duplicatesInFile: r.duplicatesInFile, badPhones: r.badPhones.total, unknownOwners: r.unknownOwners.length },
    };
    log(`${name}: parse ${rate(parsed, parseSeconds)} rows/s, dry run ${rate(r.rowsRead, drySeconds)} rows/s (${r.clientsToCreate} to create, ${r.rowsRejected} rejected)`);
  }

  // The real run, as the worker calls it (no BullMQ round trips: one job is one call).
  const real: Record<string, unknown> = {};
  for (const pass of ['first', 'reimport'] as const) {
    const shape = await sniffFile(files.csv);
    const check = await dryRun(env, viewer, { path: files.csv, shape, sheet: null }, null, `${files.csv}.rejected.csv`);
    const [job] = await db.insert(importJobs).values({ createdBy: viewer.id, fileName: 'bench.csv', format: 'csv', encoding: shape.encoding, delimiter: shape.delimiter, mapping: check.mapping, defaultOwnerId: viewer.id, rowsTotal: check.report.rowsRead, status: 'running' }).returning();
    const [, seconds] = await timed(() => realRun(env, viewer, job!, { path: files.csv, shape, sheet: null }, { afterBatch: () => false }));
    const [after] = await db.select().from(importJobs).where(eq(importJobs.id, job!.id));
    real[pass] = { rows: after!.rowsDone, rowsPerSecond: rate(after!.rowsDone, seconds), seconds: Math.round(seconds * 10) / 10, created: after!.createdCount, updated: after!.updatedCount, unchanged: after!.unchangedCount, rejected: after!.rejectedCount };
    log(`real run (${pass}): ${rate(after!.rowsDone, seconds)} rows/s, created ${after!.createdCount}, updated ${after!.updatedCount}, unchanged ${after!.unchangedCount}`);
  }

  let big: Record<string, unknown> | null = null;
  if (bigN > 0) {
    // Against the base the real run just filled: every batch asks it, as a re-import would.
    const parse = await child(url, files.big, 'parse');
    const dryBig = await child(url, files.big, 'dry');
    big = { rows: dryBig.rows, bytes: (await stat(files.big)).size, parse, dry: dryBig };
    log(`1M CSV: dry run ${rate(dryBig.rows, dryBig.seconds)} rows/s, peak RSS ${dryBig.peakRssMiB} MiB (plain parse ${parse.peakRssMiB} MiB)`);
  }

  const results = {
    benchmark: 'import', startedAt: started.toISOString(), finishedAt: new Date().toISOString(), rows: rowsN,
    machine: { ...machine(), loadAvg: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    targets: TARGETS, dry, real, big,
  };
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, JSON.stringify(results, null, 2) + '\n');
  log(`written ${path.relative(ROOT, out)}`);
  done();
}

runBenchmark(main, { log, cleanups, watchdogMs: 30 * 60_000 });
