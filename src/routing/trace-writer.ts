import { finished } from 'node:stream/promises';
import type { Logger } from 'pino';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { routeDecisions } from './route-decisions.table.js';
import { pendingIn, TraceQueue, type PendingRow, type RowBatch } from './trace-queue.js';

/** A trace row as the route writes it: the text forms of the answer and the plan (migration 0025). */
export type RouteDecisionRow = Omit<typeof routeDecisions.$inferInsert, 'id' | 'createdAt' | 'answer' | 'candidates' | 'answerBody' | 'candidateList'> & {
  answerBody: string;
  candidateList: string;
};

export type PendingDecision = PendingRow;

export interface TraceWriter {
  /** Queues a decision; never throws and never waits for the database. */
  write(row: RouteDecisionRow): void;
  /** Decisions of a call not yet in the database: the call pipeline settling the call's client
   *  must still see them. */
  pending(linkedid: string): PendingDecision[];
  /** Tries to write what is queued now (tests, shutdown); rows it cannot write stay queued. */
  flush(): Promise<void>;
  /** Rows waiting, and rows dropped since start because more than `maxQueued` were waiting. */
  stats(): { queued: number; dropped: number };
  close(): Promise<void>;
}

export interface TraceWriterOptions {
  flushEveryMs?: number;
  /** Rows kept while the database cannot take them; the oldest go first past this. */
  maxQueued?: number;
  /** First wait after a failed batch; it doubles up to RETRY_MAX_MS. */
  retryMinMs?: number;
  /** A COPY that takes longer is abandoned and its connection closed (default 10 s). */
  copyTimeoutMs?: number;
}

const FLUSH_EVERY_MS = 50;
// One COPY a flush at up to 100,000 answers a second. Each batch costs PostgreSQL a transaction
// and a COPY start, so fewer, larger batches are cheaper per row; at the route benchmark's ~20,000
// answers a second a 50 ms flush holds ~1,000 rows, which the earlier limit of 500 split in two.
const MAX_BATCH = 5_000;
// ~40 minutes of an outage at 10 answers a second; a row's COPY line is ~350 bytes, so ~7 MB.
const MAX_QUEUED = 20_000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5_000;
// A COPY of 500 rows takes milliseconds; one that hangs this long is on a server that stopped
// (SIGSTOP, a dead host with the TCP connection still open) and would hold the batch forever.
const COPY_TIMEOUT_MS = 10_000;

// Batches go in with COPY (pg-copy-streams speaks node-postgres' copy sub-protocol): PostgreSQL
// spends ~20 µs of CPU on a trace row this way, against ~45 µs for the previous
// `INSERT … SELECT FROM json_to_recordset($1)` (measured with both on this project's VM; the
// rest of the difference is the json instead of jsonb columns, migration 0002). At the route
// benchmark's rate the trace was most of PostgreSQL's CPU, on the cores the route shares with it.
const COPY_SQL = `copy route_decisions
  (linkedid, uniqueid, step, last_status, caller_raw, caller, did, action, reason, answer_body, candidate_list, client_id, manager_id, latency_ms, tie, tie_clients,
   stale, directory_age_ms)
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
    `${copyText(r.answerBody)}\t${copyText(r.candidateList)}\t` +
    `${copyNumber(r.clientId)}\t${copyNumber(r.managerId)}\t${copyNumber(r.latencyMs)}\t` +
    `${r.tie === true ? 't' : 'f'}\t${r.tieClients ? copyJson(r.tieClients) : '\\N'}\t` +
    `${r.stale === true ? 't' : 'f'}\t${copyNumber(r.directoryAgeMs)}\n`
  );
}

async function copyBatch(pool: pg.Pool, lines: Buffer, timeoutMs: number): Promise<void> {
  const client = await pool.connect();
  let timer: NodeJS.Timeout | undefined;
  try {
    const stream = client.query(copyFrom(COPY_SQL));
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`COPY not finished within ${timeoutMs} ms`)), timeoutMs);
    });
    stream.end(lines);
    await Promise.race([finished(stream), timedOut]);
  } catch (err) {
    // A connection that failed or hung mid-COPY is closed, not handed to anyone else.
    client.release(err as Error);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  client.release();
}

// SQLSTATE classes that say the rows themselves were refused (data exception, integrity,
// syntax or undefined column): writing them again cannot help. Anything else (no connection,
// the server shutting down or out of resources, a timeout) is worth trying again later.
const REFUSED_ROWS = /^(22|23|42)/;
const refusesRows = (err: unknown): boolean => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && REFUSED_ROWS.test(code);
};

/**
 * The routing trace is written off the hot path: /pbx/route answers first, and decisions are
 * inserted in batches every 50 ms. A batch the database cannot take now (down, hung, restarting)
 * goes back to the head of the queue and is tried again with a back-off of 100 ms doubling to
 * 5 s, so an outage loses no trace row; only past `maxQueued` are the oldest rows dropped, and
 * counted (`stats`, and the log). A batch the database refuses for its content is written row
 * by row, and only the rows it refuses are dropped.
 */
export function createTraceWriter(pool: pg.Pool, logger: Logger, opts: TraceWriterOptions = {}): TraceWriter {
  const flushEveryMs = opts.flushEveryMs ?? FLUSH_EVERY_MS;
  const maxQueued = opts.maxQueued ?? MAX_QUEUED;
  const retryMinMs = opts.retryMinMs ?? RETRY_MIN_MS;
  const copyTimeoutMs = opts.copyTimeoutMs ?? COPY_TIMEOUT_MS;
  const queue = new TraceQueue();
  // The batch being written: still "pending" for the call pipeline until it is committed.
  let storing: RowBatch | null = null;
  let timer: NodeJS.Timeout | null = null;
  let inFlight: Promise<void> = Promise.resolve();
  let retryDelay = 0;
  let dropped = 0;
  let droppedUnlogged = 0;
  let failingSince: number | null = null;

  const schedule = (ms: number) => {
    if (timer) return;
    timer = setTimeout(() => void flush(), ms);
  };

  const dropOldest = () => {
    const over = queue.dropOldest(queue.length - maxQueued);
    dropped += over;
    droppedUnlogged += over;
  };

  /** Writes a refused batch row by row; false when the database went away meanwhile (rows put back). */
  async function storeOneByOne(batch: RowBatch): Promise<boolean> {
    for (let i = 0; i < batch.ends.length; i++) {
      try {
        await copyBatch(pool, batch.bytes.subarray(i === 0 ? 0 : batch.ends[i - 1], batch.ends[i]), copyTimeoutMs);
      } catch (err) {
        if (!refusesRows(err)) {
          queue.putBack(batch, i);
          return false;
        }
        logger.error({ err, rows: 1, linkedid: batch.linkedids[i] }, 'could not store routing trace');
      }
    }
    return true;
  }

  /** One pass over the queue; stops at the first batch the database cannot take now. */
  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.take(MAX_BATCH);
      storing = batch;
      let ok = true;
      try {
        await copyBatch(pool, batch.bytes, copyTimeoutMs);
      } catch (err) {
        if (refusesRows(err)) {
          ok = await storeOneByOne(batch);
        } else {
          queue.putBack(batch);
          ok = false;
          if (failingSince === null) {
            failingSince = Date.now();
            logger.error({ err, queued: queue.length }, 'could not store routing trace; keeping it queued and trying again');
          }
        }
      }
      storing = null;
      if (!ok) {
        dropOldest();
        retryDelay = Math.min(Math.max(retryMinMs, retryDelay * 2), RETRY_MAX_MS);
        schedule(retryDelay);
        return;
      }
      if (failingSince !== null) {
        logger.info({ failedForMs: Date.now() - failingSince, queued: queue.length }, 'routing trace stored again');
        failingSince = null;
      }
      retryDelay = 0;
    }
  }

  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    inFlight = inFlight.then(drain).then(() => {
      if (droppedUnlogged > 0) {
        logger.warn({ dropped: droppedUnlogged, maxQueued }, 'routing trace rows dropped: more were waiting than the queue keeps');
        droppedUnlogged = 0;
      }
    });
    return inFlight;
  }

  return {
    write(row) {
      queue.push(row, copyLine(row));
      if (queue.length > maxQueued) {
        queue.dropOldest(1);
        dropped += 1;
        droppedUnlogged += 1;
      }
      // While retrying, the back-off timer is already set and decides when the next try is.
      schedule(flushEveryMs);
    },
    pending(linkedid) {
      const found: PendingDecision[] = [];
      if (storing !== null) pendingIn(storing, linkedid, found);
      queue.pendingOf(linkedid, found);
      return found;
    },
    flush,
    stats: () => ({ queued: queue.length + (storing?.ends.length ?? 0), dropped }),
    // One last try; what PostgreSQL still cannot take is lost with the process, and said so.
    async close() {
      await flush();
      if (timer) clearTimeout(timer);
      timer = null;
      if (queue.length > 0) logger.error({ lost: queue.length }, 'routing trace rows not stored at shutdown: the database did not take them');
    },
  };
}
