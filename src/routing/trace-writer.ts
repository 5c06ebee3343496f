import type { Logger } from 'pino';
import type pg from 'pg';
import type { routeDecisions } from './route-decisions.table.js';

export type RouteDecisionRow = typeof routeDecisions.$inferInsert;

export interface TraceWriter {
  /** Queues a decision; never throws and never waits for the database. */
  write(row: RouteDecisionRow): void;
  /** Decisions of a call not yet in the database: a quick next step must still see them. */
  pending(linkedid: string): Array<{ step: number; reason: string; action: string }>;
  /** Writes what is queued now (tests, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const FLUSH_EVERY_MS = 50;
const MAX_BATCH = 500;
const MAX_QUEUED = 20_000;

// One INSERT … SELECT FROM json_to_recordset($1) per batch, as a named statement: the whole batch
// is one JSON parameter, made by one native JSON.stringify. Drizzle's `insert().values(batch)`
// builds 14 parameters per row in JavaScript and PostgreSQL parses and plans each statement
// anew; fourteen array parameters (the previous version) cost pg's array-literal escaping per
// element, ~20 µs of the service's CPU per answer on the route benchmark.
const INSERT_SQL = {
  name: 'switchboard-route-trace-insert',
  text: `insert into route_decisions
  (linkedid, uniqueid, step, last_status, caller_raw, caller, did, action, reason, answer, candidates, client_id, manager_id, latency_ms)
select linkedid, uniqueid, step, last_status, caller_raw, caller, did, action, reason, answer, candidates, client_id, manager_id, latency_ms
from json_to_recordset($1::json) as r(linkedid text, uniqueid text, step int2, last_status text, caller_raw text, caller text,
  did text, action text, reason text, answer jsonb, candidates jsonb, client_id int4, manager_id int4, latency_ms float4)`,
};

function toJsonRows(batch: RouteDecisionRow[]): string {
  return JSON.stringify(
    batch.map((r) => ({
      linkedid: r.linkedid,
      uniqueid: r.uniqueid,
      step: r.step,
      last_status: r.lastStatus,
      caller_raw: r.callerRaw,
      caller: r.caller ?? null,
      did: r.did,
      action: r.action,
      reason: r.reason,
      answer: r.answer,
      candidates: r.candidates,
      client_id: r.clientId ?? null,
      manager_id: r.managerId ?? null,
      latency_ms: r.latencyMs,
    })),
  );
}

/**
 * The routing trace is written off the hot path: /pbx/route answers first, and decisions are
 * inserted in batches every 50 ms. A database outage must not grow memory without bound, so past
 * MAX_QUEUED the oldest rows are dropped (and counted in the log) — the answer to Asterisk matters
 * more than its trace.
 */
export function createTraceWriter(pool: pg.Pool, logger: Logger): TraceWriter {
  let queue: RouteDecisionRow[] = [];
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();
  let dropped = 0;

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    inFlight = inFlight.then(async () => {
      while (queue.length > 0) {
        const batch = queue.slice(0, MAX_BATCH);
        queue = queue.slice(batch.length);
        try {
          await pool.query({ ...INSERT_SQL, values: [toJsonRows(batch)] });
        } catch (err) {
          logger.error({ err, rows: batch.length }, 'could not store routing trace');
        }
      }
      if (dropped > 0) {
        logger.warn({ dropped }, 'routing trace rows dropped while the database was slow');
        dropped = 0;
      }
    });
    return inFlight;
  };

  return {
    write(row) {
      queue.push(row);
      if (queue.length > MAX_QUEUED) {
        queue.shift();
        dropped += 1;
      }
      timer ??= setTimeout(() => void flush(), FLUSH_EVERY_MS);
    },
    pending(linkedid) {
      return queue.filter((r) => r.linkedid === linkedid).map((r) => ({ step: r.step, reason: r.reason, action: r.action }));
    },
    flush,
    close: flush,
  };
}
