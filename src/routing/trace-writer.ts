import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { routeDecisions } from './route-decisions.table.js';

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

/**
 * The routing trace is written off the hot path: /pbx/route answers first, and decisions are
 * inserted in batches every 50 ms. A database outage must not grow memory without bound, so past
 * MAX_QUEUED the oldest rows are dropped (and counted in the log) — the answer to Asterisk matters
 * more than its trace.
 */
export function createTraceWriter(db: Db, logger: Logger): TraceWriter {
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
          await db.insert(routeDecisions).values(batch);
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
