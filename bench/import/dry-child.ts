// One dry run (or plain parse) in a process of its own, so its peak RSS is its own:
//   tsx bench/import/dry-child.ts <databaseUrl> <file> <dry|parse>
import { createDatabase } from '../../src/db/client.js';
import { dryRun } from '../../src/import/import-run.js';
import { readRows, sniffFile } from '../../src/import/read-rows.js';

const [url, file, mode] = process.argv.slice(2) as [string, string, 'dry' | 'parse'];
const database = createDatabase(url, { max: 4 });
const shape = await sniffFile(file);
const started = performance.now();
let rows = 0;
if (mode === 'parse') {
  for await (const _ of readRows(file, { shape })) rows++;
} else {
  const viewer = { id: 1, login: 'bench-director', name: 'bench', role: 'director' as const, departmentId: null, managerId: null };
  const result = await dryRun({ db: database.db, region: 'RU', utcOffset: '+03:00' }, viewer, { path: file, shape, sheet: null }, null, `${file}.rejected.csv`);
  rows = result.report.rowsRead;
}
const seconds = (performance.now() - started) / 1000;
await database.close();
// maxRSS is in KiB on Linux.
process.stdout.write(JSON.stringify({ rows, seconds, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }) + '\n');
