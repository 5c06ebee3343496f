// `node --expose-gc --import tsx bench/route/directory-memory.ts [clients]` — the heap the
// in-memory routing directory takes (README, "How it is built"), with the benchmark's shape:
// 100,000 clients with two numbers each by default, 60 owners, and how long a full, forced
// mark-compact of that heap takes (V8 normally marks incrementally, so this is the worst case).
import { RoutingDirectory } from '../../src/routing/directory/routing-directory.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('run with node --expose-gc --import tsx bench/route/directory-memory.ts\n');
  process.exit(2);
}
const clients = Number(process.argv[2] ?? 100_000);

gc();
const before = process.memoryUsage().heapUsed;
const directory = new RoutingDirectory();
for (let id = 1; id <= 60; id++) {
  directory.setUser(id, { id, name: `Manager ${id}`, extension: String(100 + id), mobile: null, presence: 'available', absentRule: 'department', departmentId: 1, active: true });
}
for (let id = 1; id <= clients; id++) {
  const n = String(id).padStart(7, '0');
  directory.setClient(id, { id, name: `ООО Клиент ${id}`, ownerId: 1 + (id % 60), lastActivityAt: Date.now() - id * 1000, phones: [`+7916${n}`, `+7903${n}`] });
}
gc();
const heapMiB = (process.memoryUsage().heapUsed - before) / 2 ** 20;
const started = performance.now();
gc();
const gcMs = performance.now() - started;
console.log(`${clients.toLocaleString('en')} clients, ${directory.size.numbers.toLocaleString('en')} numbers: ${heapMiB.toFixed(1)} MiB of heap; a forced full GC ${gcMs.toFixed(0)} ms`);
