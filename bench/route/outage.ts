import type pg from 'pg';
import { readProcesses } from '../shared/proc.js';
import type { Cleanups, Log } from '../shared/lifecycle.js';
import { pacedLoad, percentiles, type Percentiles } from './paced.js';

// The outage phase of bench:route (issue 16): PostgreSQL is frozen with SIGSTOP (postmaster and
// every backend: a hung server, TCP connections open, nothing answers) during a paced load of
// known callers only, then let go with SIGCONT. What must hold: known callers still reach their
// owner's plan (client found, not the `fallback_error` department line), every answer within
// ROUTE_BUDGET_MS, and the trace rows of the outage written once PostgreSQL is back.

export interface OutageResult {
  rate: number;
  durationS: number;
  answered: number;
  /** Known callers answered with their client (owner's plan), not the department fallback. */
  routedByOwner: number;
  routedByOwnerShare: number;
  fallbackError: number;
  overBudget: number;
  budgetMs: number;
  latency: Percentiles;
  non2xx: number;
  errors: number;
  /** Trace rows of the phase in PostgreSQL after it came back, and how long they took to land. */
  traceRows: number;
  staleRows: number;
  maxDirectoryAgeMs: number | null;
  traceWrittenAfterS: number | null;
}

const field = (body: string, key: string): string => {
  const m = new RegExp(`(?:^|&)${key}=([^&]*)`).exec(body);
  return m ? decodeURIComponent(m[1]!) : '';
};

export async function outagePhase(o: {
  pool: pg.Pool;
  port: number;
  rate: number;
  durationS: number;
  connections: number;
  budgetMs: number;
  nextPath: () => string;
  prefix: string;
  log: Log;
  cleanups: Cleanups;
}): Promise<OutageResult | null> {
  const pids = readProcesses().subtree(process.pid).filter((p) => p.comm === 'postgres').map((p) => p.pid);
  if (pids.length === 0) {
    o.log('outage: no embedded PostgreSQL of ours to stop (DATABASE_URL set?); phase skipped');
    return null;
  }
  const signal = (sig: NodeJS.Signals) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {
        // gone meanwhile
      }
    }
  };
  // Whatever happens, PostgreSQL is not left frozen.
  o.cleanups.push({ name: 'SIGCONT postgres', run: async () => signal('SIGCONT') });

  let answered = 0;
  let routedByOwner = 0;
  let fallbackError = 0;
  let overBudget = 0;
  const latencies: number[] = [];
  o.log(`outage: SIGSTOP to ${pids.length} PostgreSQL processes; ${o.rate} rps of known callers for ${o.durationS} s`);
  signal('SIGSTOP');
  let paced;
  try {
    paced = await pacedLoad({
      host: '127.0.0.1',
      port: o.port,
      rate: o.rate,
      durationS: o.durationS,
      connections: o.connections,
      nextPath: o.nextPath,
      onAnswer: (body, ms) => {
        answered += 1;
        latencies.push(ms);
        if (ms > o.budgetMs) overBudget += 1;
        const reason = field(body, 'reason');
        if (reason === 'fallback_error') fallbackError += 1;
        else if (field(body, 'client_id') !== '') routedByOwner += 1;
      },
    });
  } finally {
    signal('SIGCONT');
  }
  o.log(`outage: SIGCONT; ${routedByOwner} of ${answered} known callers routed by their owner's plan, ${fallbackError} to the fallback, ${overBudget} over ${o.budgetMs} ms`);

  // The trace rows of the outage, written by the service's retry once PostgreSQL answers again.
  const started = performance.now();
  let rows = { n: 0, stale: 0, maxAge: null as number | null };
  let writtenAfterS: number | null = null;
  while (performance.now() - started < 60_000) {
    const { rows: r } = await o.pool.query<{ n: number; stale: number; max_age: number | null }>(
      `select count(*)::int as n, count(*) filter (where stale)::int as stale, max(directory_age_ms) as max_age from route_decisions where linkedid like $1`,
      [`${o.prefix}-%`],
    );
    rows = { n: r[0]!.n, stale: r[0]!.stale, maxAge: r[0]!.max_age };
    if (rows.n >= answered) {
      writtenAfterS = (performance.now() - started) / 1000;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  o.log(`outage: ${rows.n} of ${answered} trace rows written${writtenAfterS === null ? ' (gave up after 60 s)' : ` ${writtenAfterS.toFixed(1)} s after SIGCONT`}, ${rows.stale} marked stale`);
  return {
    rate: o.rate,
    durationS: o.durationS,
    answered,
    routedByOwner,
    routedByOwnerShare: answered > 0 ? routedByOwner / answered : 0,
    fallbackError,
    overBudget,
    budgetMs: o.budgetMs,
    latency: percentiles(latencies),
    non2xx: paced.non2xx,
    errors: paced.errors + paced.timeouts + paced.unfinished,
    traceRows: rows.n,
    staleRows: rows.stale,
    maxDirectoryAgeMs: rows.maxAge,
    traceWrittenAfterS: writtenAfterS,
  };
}
