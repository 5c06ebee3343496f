import { eq, sql } from 'drizzle-orm';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { withActor, type Tx } from '../history/with-actor.js';
import {
  absorb, applyChanges, changesFor, type Change, createClients, ensureLists, isNoChange, listKey, loadExisting, loadLists, loadOwners, lookupKeys, pendingOf, type Pending,
} from './import-match.js';
import { type FileRef, type ImportEnv } from './import-run.js';
import { importJobs } from './import-jobs.table.js';
import { readRows, withHeader } from './read-rows.js';
import { matchKeys, rowFate, type ImportRow, type RowContext } from './row-fate.js';

// The real run: what the BullMQ worker (import.module.ts) calls for one import.

/**
 * withActor for an import: the history also records the import's id (migration 0013), and is
 * written set-wise, one INSERT … SELECT per statement instead of a trigger call per row
 * (history_bulk, migration 0019: same change_history rows).
 *
 * A batch's commit does not wait for its WAL to reach the disk (synchronous_commit off, for this
 * transaction only; ~10 ms a batch on this VM). Resuming stays exact: a crash can only lose the
 * last batches as a whole, `last_row` with them, and they are read again; the job's final status
 * is committed as usual, which flushes every batch before it.
 */
export function withImport<T>(db: Db, actor: { id: number }, importId: number, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return withActor(db, actor, 'import', fn, { 'switchboard.import_id': String(importId), 'switchboard.history_bulk': 'on', synchronous_commit: 'off' });
}

export interface RunHooks {
  /** After each committed batch; returns true to stop (cancel requested). */
  afterBatch(progress: { rowsDone: number; lastRow: number }): Promise<boolean> | boolean;
}

/**
 * Rows per transaction unless the environment says otherwise: a batch costs ~15 round trips and
 * a few statements whose planning and trigger setup do not depend on its size, each a scheduling
 * delay on a busy machine (~7 ms measured at load 5 on 2 cores).
 */
export const REAL_BATCH = 5000;
const YIELD_EVERY = 500;

export type RunOutcome = 'done' | 'cancelled';

/**
 * The real run. Batches of file rows are applied in one transaction each, which also moves the
 * job's `last_row`: after a restart the rows up to it are skipped, so none is applied twice.
 */
export async function realRun(env: ImportEnv, viewer: Viewer, job: typeof importJobs.$inferSelect, file: FileRef, hooks: RunHooks): Promise<RunOutcome> {
  const { db } = env;
  const [owners, lists] = await Promise.all([loadOwners(db, viewer), loadLists(db)]);
  const listId = (kind: 'segment' | 'source', name: string) => lists.get(listKey(kind, name)) ?? -1;
  const ctx: RowContext = { mapping: job.mapping, region: env.region, owners, utcOffset: env.utcOffset };
  // Clients this run already set the fields of: a later duplicate row only adds to them. Lost on
  // a restart, which matters only for a duplicate whose fields disagree with its first row.
  const touched = new Set<number>();
  // A batch: the fates of its file rows, worked out as they are read, so that the next batch is
  // parsed and checked while PostgreSQL writes the previous one (on the other core).
  type Batch = { ok: ImportRow[]; rejected: number; size: number; end: number };
  const empty = (): Batch => ({ ok: [], rejected: 0, size: 0, end: 0 });
  let batch = empty();
  let lastRow = job.lastRow;
  let rowsDone = job.rowsDone;

  const flush = async ({ ok, rejected, size, end }: Batch): Promise<boolean> => {
    const counts = { created: 0, updated: 0, unchanged: 0, rejected };
    await withImport(db, viewer, job.id, async (tx) => {
      await ensureLists(tx, lists, ok);
      const base = await lookupKeys(tx, ok);
      const local = new Map<string, Pending>();
      const creates: Pending[] = [];
      const updates = new Map<number, { pending: Pending; scalars: boolean }>();
      const existing = await loadExisting(tx, viewer, [...new Set(ok.flatMap((r) => matchKeys(r).map((k) => base.get(k)).filter((x): x is number => x !== undefined)))]);
      for (const r of ok) {
        const keys = matchKeys(r);
        let pending: Pending | undefined;
        let clientId: number | undefined;
        for (const k of keys) {
          pending = local.get(k);
          if (pending) break;
          clientId = base.get(k);
          if (clientId !== undefined) break;
        }
        if (pending) absorb(pending, r);
        else if (clientId !== undefined) {
          const e = existing.get(clientId);
          if (!e?.visible) {
            counts.rejected++;
            continue;
          }
          const had = updates.get(clientId);
          if (had) absorb(had.pending, r);
          else {
            pending = pendingOf(r);
            updates.set(clientId, { pending, scalars: !touched.has(clientId) });
            touched.add(clientId);
          }
          pending = updates.get(clientId)!.pending;
        } else {
          pending = pendingOf(r);
          creates.push(pending);
        }
        for (const k of keys) if (!local.has(k)) local.set(k, pending);
      }
      const changes: { id: number; change: Change }[] = [];
      for (const [id, { pending, scalars }] of updates) {
        const change = changesFor(existing.get(id)!, pending, listId, scalars);
        if (isNoChange(change)) counts.unchanged++;
        else changes.push({ id, change });
      }
      counts.updated = changes.length;
      await applyChanges(tx, changes, viewer.id);
      const ids = await createClients(tx, creates, job.defaultOwnerId, listId, viewer.id);
      for (const id of ids) touched.add(id);
      counts.created = ids.length;
      await tx
        .update(importJobs)
        .set({
          lastRow: end,
          rowsDone: sql`${importJobs.rowsDone} + ${size}`,
          createdCount: sql`${importJobs.createdCount} + ${counts.created}`,
          updatedCount: sql`${importJobs.updatedCount} + ${counts.updated}`,
          unchangedCount: sql`${importJobs.unchangedCount} + ${counts.unchanged}`,
          rejectedCount: sql`${importJobs.rejectedCount} + ${counts.rejected}`,
        })
        .where(eq(importJobs.id, job.id));
    });
    lastRow = end;
    rowsDone += size;
    return hooks.afterBatch({ rowsDone, lastRow });
  };

  // One batch is written at a time, in file order (each sees the clients the one before created);
  // `writing` is the batch in flight while the next is read.
  let writing: Promise<boolean> | null = null;
  const next = async (): Promise<boolean> => {
    const previous = writing;
    writing = null;
    if (previous && (await previous)) return true;
    if (batch.size > 0) {
      writing = flush(batch);
      writing.catch(() => {}); // awaited by the next call; this only keeps it from being "unhandled" meanwhile
      batch = empty();
    }
    return false;
  };

  let headerSeen = false;
  try {
    for await (const item of withHeader(readRows(file.path, { shape: file.shape, sheet: file.sheet }))) {
      if ('header' in item) {
        headerSeen = true;
        continue;
      }
      if (item.data.row <= lastRow) continue;
      // The rows of a chunk already read come through microtasks only; without a turn of the event
      // loop now and then, PostgreSQL's answers to the batch being written wait for a whole chunk.
      if (item.data.row % YIELD_EVERY === 0) await new Promise((resolve) => setImmediate(resolve));
      const fate = rowFate(item.data.cells, item.data.row, ctx);
      if (fate.kind === 'ok') batch.ok.push(fate.row);
      else batch.rejected++;
      batch.size++;
      batch.end = item.data.row;
      if (batch.size >= (env.batchSize ?? REAL_BATCH) && (await next())) return 'cancelled';
    }
    if (!headerSeen) return 'done';
    // The last batch, then what is still in flight.
    if ((await next()) || (await next())) return 'cancelled';
    return 'done';
  } finally {
    // Never return (or fail, and be retried) with a batch still committing behind our back.
    if (writing) await (writing as Promise<boolean>).catch(() => false);
  }
}
