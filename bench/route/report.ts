import os from 'node:os';
import type { CpuShares } from './cpu.js';
import { perRequest, type ThroughputFigures, type TraceFigures } from './measure.js';
import type { OutageResult } from './outage.js';
import type { PacedResult } from './paced.js';

// The markdown table printed at the end of `npm run bench:route` (the figures BENCHMARKS.md quotes).

export const describeCpu = (c: CpuShares) =>
  `load generator ${c.loadgen}, service ${c.service}, bare ${c.bare}, postgres ${c.postgres}, redis ${c.redis}, other processes ${c.other}, host steal ${c.steal} (machine ${c.cores} of ${os.cpus().length})`;

const cpuCell = (f: ThroughputFigures) => {
  const p = perRequest(f);
  return p ? `${p.server} / ${p.postgres} / ${p.loadgen}` : '–';
};
const ms = (v: number | null | undefined, digits = 2) => (v === null || v === undefined || Number.isNaN(v) ? '–' : `${v.toFixed(digits)} ms`);
const int = (v: number) => Math.round(v).toLocaleString('en');

export function table(r: {
  machine: { cpu: string; cores: number; memoryGiB: number; node: string };
  seed: { seconds: number };
  throughput: {
    connections: number;
    durationS: number;
    rounds: Array<{ bareRps: number; routeRps: number; ratio: number; cpuNormalisedRatio: number | null }>;
    bare: ThroughputFigures;
    bareWithOneQuery: ThroughputFigures;
    route: ThroughputFigures;
    ratio: number;
    ratioBareWithOneQuery: number;
    cpuNormalisedRatio: number | null;
    serverSide: TraceFigures;
  };
  fixedRate: { rate: number; durationS: number; connections: number; paced: PacedResult & { cpu: CpuShares | null }; pacedServerSide: TraceFigures; autocannonOverallRate: ThroughputFigures & { serverSide: TraceFigures } };
  outage: (OutageResult & { cpu: CpuShares | null }) | null;
  targets: { ratio: { met: boolean }; cpuRatio: { met: boolean }; p99AtRate: { met: boolean }; outage: { met: boolean } | null };
}): string {
  const t = r.throughput;
  const f = r.fixedRate;
  const p = f.paced;
  const ac = f.autocannonOverallRate;
  const yes = (b: boolean) => (b ? 'met' : '**missed**');
  return [
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}`,
    '',
    '| figure | value |',
    '|---|---|',
    `| seed (100,000 clients, 200,000 numbers, 20,000 contacts with a number each, indexes, vacuum analyze) | ${r.seed.seconds.toFixed(1)} s |`,
    `| rounds of bare and route (alternating order), ${t.connections} conn × ${t.durationS} s each: req/s bare → route (ratio) | ${t.rounds.map((x) => `${int(x.bareRps)} → ${int(x.routeRps)} (${x.ratio.toFixed(3)})`).join('; ')} |`,
    `| bare Fastify route, median round | ${int(t.bare.rps)} req/s (p50 ${t.bare.latencyMs.p50} ms, p99 ${t.bare.latencyMs.p99} ms) |`,
    `| /pbx/route, same load | ${int(t.route.rps)} req/s (p50 ${t.route.latencyMs.p50} ms, p99 ${t.route.latencyMs.p99} ms) |`,
    `| **ratio route ÷ bare**, median round (target ≥ 0.7) | **${t.ratio.toFixed(3)}** — ${yes(r.targets.ratio.met)} |`,
    `| **CPU ratio** (CPU per request, bare ÷ route, same round; target ≥ 0.7) | **${t.cpuNormalisedRatio?.toFixed(3) ?? '–'}** — ${yes(r.targets.cpuRatio.met)} |`,
    `| CPU ratio per round | ${t.rounds.map((x) => x.cpuNormalisedRatio?.toFixed(3) ?? '–').join(', ')} |`,
    `| non-2xx / errors / timeouts (bare; route) | ${t.bare.non2xx} / ${t.bare.errors} / ${t.bare.timeouts}; ${t.route.non2xx} / ${t.route.errors} / ${t.route.timeouts} |`,
    `| CPU per request, µs (server / PostgreSQL / load generator): bare; route | ${cpuCell(t.bare)}; ${cpuCell(t.route)} |`,
    `| ceiling: bare + 1 PostgreSQL round trip (\`select $1\`), same load | ${int(t.bareWithOneQuery.rps)} req/s, ratio ${t.ratioBareWithOneQuery.toFixed(3)}; CPU/request ${cpuCell(t.bareWithOneQuery)} |`,
    `| server-side decision time under max load, p50 / p99 | ${ms(t.serverSide.p50)} / ${ms(t.serverSide.p99)} |`,
    `| **${int(f.rate)} rps paced** (open loop, ${f.connections} conn, ${f.durationS} s): p50 / p90 / p99 / max | ${ms(p.latency.p50)} / ${ms(p.latency.p90)} / **${ms(p.latency.p99)}** / ${ms(p.latency.max, 1)} — p99 target ≤ 5 ms ${yes(r.targets.p99AtRate.met)} |`,
    `| paced: achieved rate; non-2xx / errors / timeouts / unanswered | ${int(p.achievedRps)} req/s; ${p.non2xx} / ${p.errors} / ${p.timeouts} / ${p.unfinished} |`,
    `| paced: server-side (route_decisions.latency_ms) p50 / p99 | ${ms(f.pacedServerSide.p50)} / ${ms(f.pacedServerSide.p99)} |`,
    `| autocannon overallRate ${int(f.rate)} (${f.connections} conn, 1-s bursts): p50 / p90 / p99 / max | ${ac.latencyMs.p50} / ${ac.latencyMs.p90} / ${ac.latencyMs.p99} / ${ac.latencyMs.max} ms (${int(ac.rps)} req/s) |`,
    `| autocannon overallRate: server-side p50 / p99 | ${ms(ac.serverSide.p50)} / ${ms(ac.serverSide.p99)} |`,
    `| cores used, bare phase | ${t.bare.cpu ? describeCpu(t.bare.cpu) : '–'} |`,
    `| cores used, route phase | ${t.route.cpu ? describeCpu(t.route.cpu) : '–'} |`,
    `| cores used, paced phase | ${p.cpu ? describeCpu(p.cpu) : '–'} |`,
    `| stale answers (throughput; paced) | ${t.serverSide.stale}; ${f.pacedServerSide.stale} |`,
    ...(r.outage ? outageRows(r.outage, r.targets.outage?.met ?? false) : ['| outage phase | skipped |']),
  ].join('\n');
}

function outageRows(o: OutageResult & { cpu: CpuShares | null }, met: boolean): string[] {
  return [
    `| **PostgreSQL stopped (SIGSTOP)**, ${int(o.rate)} rps of known callers × ${o.durationS} s: routed by the owner's plan | **${o.routedByOwner} of ${o.answered} (${(o.routedByOwnerShare * 100).toFixed(2)} %)**, fallback ${o.fallbackError}, over ${o.budgetMs} ms ${o.overBudget} — target ≥ 99 %, none over budget, every trace row written: ${met ? 'met' : '**missed**'} |`,
    `| outage: latency p50 / p99 / max; non-2xx / errors | ${ms(o.latency.p50)} / ${ms(o.latency.p99)} / ${ms(o.latency.max, 1)}; ${o.non2xx} / ${o.errors} |`,
    `| cores used, outage phase (paced load, then the wait for the trace) | ${o.cpu ? describeCpu(o.cpu) : '–'} |`,
    `| outage: trace rows written after SIGCONT (stale; oldest directory) | ${o.traceRows} of ${o.answered} in ${o.traceWrittenAfterS === null ? '> 60' : o.traceWrittenAfterS.toFixed(1)} s (${o.staleRows} stale; ${o.maxDirectoryAgeMs ?? '–'} ms) |`,
  ];
}
