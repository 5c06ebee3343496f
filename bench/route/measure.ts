import autocannon, { type Result as AutocannonResult } from 'autocannon';
import type pg from 'pg';
import type { CpuShares } from './cpu.js';

// Figures of one phase: autocannon's result, the CPU each process group used, and the service's
// own view of the same requests from its routing trace.

export interface ThroughputFigures {
  /** Average cores used during the measured phase, per process group (Linux). */
  cpu?: CpuShares | null;
  rps: number;
  rpsMeanPerSecond: number;
  requests2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
}

export function figures(r: AutocannonResult): ThroughputFigures {
  return {
    rps: r['2xx'] / r.duration,
    rpsMeanPerSecond: r.requests.average,
    requests2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.average },
  };
}

export async function cannon(url: string, nextPath: () => string, opts: { connections: number; duration: number; overallRate?: number }) {
  const result = await autocannon({
    url,
    connections: opts.connections,
    pipelining: 1,
    duration: opts.duration,
    timeout: 10,
    ...(opts.overallRate ? { overallRate: opts.overallRate, ignoreCoordinatedOmission: true } : {}),
    requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: nextPath() }) }],
  });
  return result;
}

/** CPU time per answered request, µs, by process group (Linux). */
export function perRequest(f: ThroughputFigures) {
  if (!f.cpu || f.rps <= 0) return null;
  const us = (cores: number) => Math.round((cores / f.rps) * 1e6);
  const c = f.cpu;
  return { loadgen: us(c.loadgen), server: us(c.service + c.bare), postgres: us(c.postgres), total: us(c.loadgen + c.service + c.bare + c.postgres + c.redis) };
}

/**
 * The throughput ratio if both phases had had the same CPU: bare's CPU per request (load
 * generator included) ÷ the route's (service, PostgreSQL and load generator). Insensitive to
 * other work on the machine, which the plain ratio is not.
 */
export function cpuRatio(bare: ThroughputFigures, route: ThroughputFigures): number | null {
  const b = perRequest(bare);
  const r = perRequest(route);
  return b && r && r.total > 0 ? Math.round((b.total / r.total) * 1000) / 1000 : null;
}

export interface TraceFigures {
  decisions: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
  reasons: Record<string, number>;
  fallbackError: number;
  /** Answers from a directory not shown current within ROUTE_FRESH_MS. */
  stale: number;
}

export async function trace(pool: pg.Pool, prefix: string): Promise<TraceFigures> {
  // The trace is written in batches every 50 ms; give the last batch time to land.
  await new Promise((r) => setTimeout(r, 500));
  const { rows } = await pool.query<{ n: string; p: number[] | null; max: number | null; stale: string }>(
    `select count(*) as n, percentile_cont(array[0.5, 0.9, 0.99]) within group (order by latency_ms) as p, max(latency_ms) as max,
            count(*) filter (where stale) as stale
     from route_decisions where linkedid like $1`,
    [`${prefix}-%`],
  );
  const reasons = await pool.query<{ reason: string; n: string }>(
    'select reason, count(*) as n from route_decisions where linkedid like $1 group by reason order by 2 desc',
    [`${prefix}-%`],
  );
  const row = rows[0]!;
  const mix = Object.fromEntries(reasons.rows.map((r) => [r.reason, Number(r.n)]));
  return {
    decisions: Number(row.n),
    p50: row.p?.[0] ?? null,
    p90: row.p?.[1] ?? null,
    p99: row.p?.[2] ?? null,
    max: row.max,
    reasons: mix,
    fallbackError: mix.fallback_error ?? 0,
    stale: Number(row.stale),
  };
}
