// `npx tsx bench/route/cpuprofile-summary.ts <file.cpuprofile> [top] [from-to]` — where a V8 CPU
// profile (from `BENCH_CPU_PROF=1 npm run bench:route`) spent its time: self time by function and
// by package/file, and inclusive time of the functions that matter for the route.
// The profile covers the service's whole life (start-up, seed checks, every phase). `from-to`
// (seconds since the profile started, e.g. `31-39`) keeps only the samples of one phase; the
// busy-fraction timeline printed first shows where the phases are.
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const file = process.argv[2];
const top = Number(process.argv[3] ?? 30);
const window = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(process.argv[4] ?? '');
if (!file) {
  process.stderr.write('usage: cpuprofile-summary.ts <file.cpuprofile> [top]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Self time per node from samples × time deltas (µs), within the window when one is given.
const idleId = profile.nodes.find((n) => n.callFrame.functionName === '(idle)')?.id;
const self = new Map<number, number>();
const busyPerSecond: number[] = [];
let at = 0;
profile.samples.forEach((id, i) => {
  const delta = profile.timeDeltas[i] ?? 0;
  at += delta;
  const second = Math.floor(at / 1e6);
  if (id !== idleId) busyPerSecond[second] = (busyPerSecond[second] ?? 0) + delta;
  if (window && (at < Number(window[1]) * 1e6 || at > Number(window[2]) * 1e6)) return;
  self.set(id, (self.get(id) ?? 0) + delta);
});
console.log('busy fraction per second since the profile started:');
console.log(Array.from(busyPerSecond, (us, s) => `${s}:${((us ?? 0) / 1e6).toFixed(2)}`).join(' '));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const where = (url: string) => {
  if (url === '') return '(native/VM)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1]!;
  if (url.startsWith('node:')) return url;
  const s = /\/work\/main\/(.*)$/.exec(url);
  return s ? s[1]! : url;
};
const label = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)} %`;

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
const selfByFn = new Map<string, number>();
const selfByPkg = new Map<string, number>();
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  const n = byId.get(id)!;
  add(selfByFn, label(n), us);
  add(selfByPkg, where(n.callFrame.url) === '(native/VM)' ? n.callFrame.functionName || '(native/VM)' : where(n.callFrame.url), us);
  // Inclusive: every distinct function on the stack of this sample.
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (!seen.has(l)) {
      seen.add(l);
      add(inclusive, l, us);
    }
  }
}
const print = (title: string, m: Map<string, number>, n = top) => {
  console.log(`\n== ${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(v)}  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled`);
print('self time by package / file', selfByPkg);
print('self time by function', selfByFn);
print('inclusive time by function', inclusive, top * 2);
