// `npx tsx bench/route/hot-path.ts` — the route's per-answer pieces timed alone, in a loop, with
// the process's CPU time: the figures quoted in src/phones/normalize.ts, src/routing/decide-route.ts
// and BENCHMARKS.md ("Route webhook"). Each is run three times; the last (warm) run is printed.
// No database: these are the in-process steps of an answer.
//
// 1. libphonenumber on caller IDs never seen before: the default bundle against the `core` entry
//    points with the metadata passed in (what normalize.ts uses).
// 2. A memo miss: one Map trimmed from its oldest end (`keys().next()` + `delete`, the previous
//    memo) against parsePhone's two-generation memo, both at 10,000 entries, on new caller IDs.
//    The first includes its own parse, so the difference to (1) is the memo's cost.
// 3. decideRoute for a known client whose owner is available (the plan of four targets).
// 4. One routing-trace row turned into its COPY line.
// 5. A whole answer without HTTP (issue 16): `routeService.route()` against a directory of 20,000
//    clients, new linkedids, the benchmark's caller mix, the trace row made (COPY line) but not
//    sent. What the service spends per answer beyond this is Fastify, Node's HTTP and GC.
import { parsePhoneNumberFromString as parseDefault } from 'libphonenumber-js';
import { parsePhoneNumberFromString as parseCore } from 'libphonenumber-js/core';
import metadata from 'libphonenumber-js/min/metadata';
import { loadConfig } from '../../src/config.js';
import { normalizePhone } from '../../src/phones/normalize.js';
import { encodeHashBody } from '../../src/routing/answer-format.js';
import { decideRoute } from '../../src/routing/decide-route.js';
import { createLogger } from '../../src/logger.js';
import { RoutingDirectory } from '../../src/routing/directory/routing-directory.js';
import { createRouteService, routeConfigFrom } from '../../src/routing/route-service.js';
import { encodeCandidates } from '../../src/routing/trace-encoding.js';
import { copyLine, type RouteDecisionRow } from '../../src/routing/trace-writer.js';
import type { RouteInput } from '../../src/routing/types.js';

const N = 60_000;
let seq = 0;
/** A caller ID not seen before, in the trunk formats of the route benchmark. */
const newCaller = () => {
  seq += 1;
  const national = String(9_000_000_000 + ((seq * 7_919) % 999_999_999));
  return seq % 3 === 0 ? `7${national}` : seq % 3 === 1 ? `+7${national}` : `8${national}`;
};

function time(name: string, run: (i: number) => unknown): void {
  let perCall = 0;
  for (let round = 0; round < 3; round++) {
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) run(i);
    const used = process.cpuUsage(before);
    perCall = (used.user + used.system) / N;
  }
  console.log(`${name.padEnd(62)} ${perCall.toFixed(2).padStart(6)} µs CPU each`);
}

// 1.
time('libphonenumber, default bundle, new caller ID', () =>
  parseDefault(newCaller(), { defaultCountry: 'RU', extract: false })?.isValid(),
);
time('libphonenumber, core entry points + min metadata, new caller ID', () =>
  parseCore(newCaller(), { defaultCountry: 'RU', extract: false }, metadata)?.isValid(),
);

// 2.
const trimmed = new Map<string, string | null>();
time('memo miss: one Map trimmed from its oldest end (+ parse)', () => {
  const input = newCaller();
  const found = trimmed.get(input);
  if (found !== undefined) return found;
  const parsed = parseCore(input, { defaultCountry: 'RU', extract: false }, metadata);
  const e164 = parsed?.isValid() ? parsed.number : null;
  if (trimmed.size >= 10_000) {
    const oldest = trimmed.keys().next();
    if (oldest.done !== true) trimmed.delete(oldest.value);
  }
  trimmed.set(input, e164);
  return e164;
});
time('memo miss: normalizePhone, two generations (+ parse)', () => normalizePhone(newCaller(), 'RU'));

// 3.
const config = routeConfigFrom(loadConfig({ PBX_TOKEN: 'x'.repeat(32), DOTENV_CONFIG_PATH: '/nonexistent' }));
const department = { id: 1, name: 'Sales', line: { kind: 'queue' as const, queue: 'sales' }, voicemailBox: '500@default', businessHours: null, timeZone: 'Europe/Moscow' };
const owner = { id: 17, name: 'Anna', extension: '1017', mobile: '+79031234567', presence: 'available' as const, absentRule: 'mobile' as const, departmentId: 1 };
const now = new Date();
const input: RouteInput = {
  step: 1, lastStatus: '', caller: '+79161234567', did: '+74951110001', now,
  clients: [{ id: 5, name: 'ООО Ромашка', ownerId: 17, lastActivityAt: now }],
  owners: [owner], didDepartment: department, ownerDepartments: [department], alreadyTried: [], config,
};
time('decideRoute, known client, owner available (4 targets)', () => decideRoute(input));

// 4.
const decision = decideRoute(input);
const row = (i: number): RouteDecisionRow => ({
  linkedid: `1712345678.${i}`, uniqueid: `1712345678.${i}`, step: 1, lastStatus: '', callerRaw: '79161234567',
  caller: '+79161234567', did: '+74951110001', action: decision.action, reason: decision.reason,
  answerBody: encodeHashBody({ action: 'dial', dial: 'PJSIP/1017', timeout: '20', queue: '', mailbox: '', step: '1', reason: 'owner',
    client_id: '5', client_name: 'ООО Ромашка', manager_id: '17', call_id: `1712345678.${i}`, tried: '1o' }),
  candidateList: encodeCandidates(decision.candidates), clientId: 5, managerId: 17, latencyMs: 0.52,
});
time('trace row (hash body, plan) → COPY line', (i) => copyLine(row(i)));

// 5.
const directory = new RoutingDirectory();
directory.setDepartment(1, { ...department, dids: ['+74951110001'] });
for (let u = 1; u <= 60; u++) directory.setUser(u, { ...owner, id: u, extension: String(1000 + u), presence: u % 4 === 0 ? 'away' : 'available', active: true });
const known: string[] = [];
for (let c = 1; c <= 20_000; c++) {
  const phone = `+7916${String(c).padStart(7, '0')}`;
  known.push(phone);
  directory.setClient(c, { id: c, name: `Client ${c}`, ownerId: (c % 60) + 1, lastActivityAt: c % 10 === 0 ? null : Date.now() - c * 1000, phones: [phone] });
}
const service = createRouteService({
  directory: { directory, asOf: Date.now(), loaded: true },
  config: loadConfig({ PBX_TOKEN: 'x'.repeat(32), DOTENV_CONFIG_PATH: '/nonexistent', DEFAULT_DEPARTMENT: 'Sales' }),
  traceWriter: { write: (r) => void copyLine(r) },
  logger: createLogger('silent'),
  clock: () => now.getTime(),
});
time('routeService.route(), step 1, 80 % known callers, trace line made', (i) => {
  const e164 = known[(i * 7_919) % known.length]!;
  const f = i % 10;
  const caller = f >= 8 ? `7995${String(i).padStart(7, '0')}` : f < 4 ? e164.slice(1) : f < 6 ? e164 : `8${e164.slice(2)}`;
  const id = `hp-${seq}.${i}`;
  return service.route({ caller, did: '74951110001', uniqueid: id, linkedid: id, step: 1, lastStatus: '' });
});
