import { finished } from 'node:stream/promises';
import type { Logger } from 'pino';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { routeDecisions } from './route-decisions.table.js';

export type RouteDecisionRow = typeof routeDecisions.$inferInsert;

export interface PendingDecision {
  step: number;
  reason: string;
  action: string;
  clientId: number | null;
}

export interface TraceWriter {
  /** Queues a decision; never throws and never waits for the database. */
  write(row: RouteDecisionRow): void;
  /** Decisions of a call not yet in the database: a quick next step, and the call pipeline
   *  settling the call's client, must still see them. */
  pending(linkedid: string): PendingDecision[];
  /** Writes what is queued now (tests, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const FLUSH_EVERY_MS = 50;
const MAX_BATCH = 500;
const MAX_QUEUED = 20_000;

// Batches go in with COPY (pg-copy-streams speaks node-postgres' copy sub-protocol): PostgreSQL
// spends ~20 µs of CPU on a trace row this way, against ~45 µs for the previous
// `INSERT … SELECT FROM json_to_recordset($1)` (measured with both on this project's VM; the
// rest of the difference is the json instead of jsonb columns, migration 0002). At the route
// benchmark's rate the trace was most of PostgreSQL's CPU, on the cores the route shares with it.
const COPY_SQL = `copy route_decisions
  (linkedid, uniqueid, step, last_status, caller_raw, caller, did, action, reason, answer, candidates, client_id, manager_id, latency_ms, tie, tie_clients)
  from stdin`;

// COPY's text format: a tab between columns, a newline after each row, \N for null, and a
// backslash before a backslash, tab, newline or carriage return inside a value. NUL cannot be
// stored in text at all: it becomes U+FFFD rather than failing the whole batch.
const COPY_SPECIAL = /[\\\t\n\r\0]/;
const COPY_SPECIAL_ALL = /[\\\t\n\r\0]/g;
const COPY_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\ufffd' };

function copyText(value: string | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]!) : value;
}

const copyNumber = (value: number | null | undefined): string => (value === null || value === undefined ? '\\N' : String(value));

// JSON text has no raw tab, newline or carriage return (JSON.stringify escapes them), so only its
// backslashes need doubling; indexOf is cheaper than a regex over a long non-Latin string.
function copyJson(value: unknown): string {
  const json = JSON.stringify(value);
  return json.includes('\\') ? json.replace(/\\/g, '\\\\') : json;
}

/** One row of COPY text, in COPY_SQL's column order. */
export function copyLine(r: RouteDecisionRow): string {
  return (
    `${copyText(r.linkedid)}\t${copyText(r.uniqueid)}\t${copyNumber(r.step)}\t${copyText(r.lastStatus)}\t` +
    `${copyText(r.callerRaw)}\t${copyText(r.caller)}\t${copyText(r.did)}\t${copyText(r.action)}\t${copyText(r.reason)}\t` +
    `${copyJson(r.answer)}\t${copyJson(r.candidates)}\t` +
    `${copyNumber(r.clientId)}\t${copyNumber(r.managerId)}\t${copyNumber(r.latencyMs)}\t` +
    `${r.tie === true ? 't' : 'f'}\t${r.tieClients ? copyJson(r.tieClients) : '\\N'}\n`
  );
}

async function copyBatch(pool: pg.Pool, lines: string): Promise<void> {
  const client = await pool.connect();
  try {
    const stream = client.query(copyFrom(COPY_SQL));
    stream.end(lines);
    await finished(stream);
  } catch (err) {
    // A connection that failed mid-COPY is not handed to anyone else.
    client.release(err as Error);
    throw err;
  }
  client.release();
}

/**
 * A decision waiting to be stored: its COPY line, made when it is queued, and what a next step
 * of the same call needs to know. Queued rows live for up to 50 ms, long enough to survive a
 * young-generation GC; one string instead of the row's ~20 objects is much less to copy.
 */
interface QueuedRow extends PendingDecision {
  linkedid: string;
  line: string;
}

/**
 * The routing trace is written off the hot path: /pbx/route answers first, and decisions are
 * inserted in batches every 50 ms. A database outage must not grow memory without bound, so past
 * MAX_QUEUED the oldest rows are dropped (and counted in the log) — the answer to Asterisk matters
 * more than its trace.
 */
export function createTraceWriter(pool: pg.Pool, logger: Logger, opts: { flushEveryMs?: number } = {}): TraceWriter {
  const flushEveryMs = opts.flushEveryMs ?? FLUSH_EVERY_MS;
  let queue: QueuedRow[] = [];
  // The batch being written: still "pending" for a next step until it is committed.
  let storing: QueuedRow[] = [];
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();
  let dropped = 0;

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    inFlight = inFlight.then(async () => {
      while (queue.length > 0) {
        storing = queue.slice(0, MAX_BATCH);
        queue = queue.slice(storing.length);
        try {
          await copyBatch(pool, storing.map((r) => r.line).join(''));
        } catch (err) {
          logger.error({ err, rows: storing.length }, 'could not store routing trace');
        }
        storing = [];
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
      queue.push({ linkedid: row.linkedid, step: row.step, reason: row.reason, action: row.action, clientId: row.clientId ?? null, line: copyLine(row) });
      if (queue.length > MAX_QUEUED) {
        queue.shift();
        dropped += 1;
      }
      timer ??= setTimeout(() => void flush(), flushEveryMs);
    },
    pending(linkedid) {
      const found: PendingDecision[] = [];
      const take = (r: QueuedRow) => found.push({ step: r.step, reason: r.reason, action: r.action, clientId: r.clientId });
      for (const r of storing) if (r.linkedid === linkedid) take(r);
      for (const r of queue) if (r.linkedid === linkedid) take(r);
      return found;
    },
    flush,
    close: flush,
  };
}
