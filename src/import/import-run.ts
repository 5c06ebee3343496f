import { createWriteStream, type WriteStream } from 'node:fs';
import { eq, sql } from 'drizzle-orm';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { withActor, type Tx } from '../history/with-actor.js';
import type { CountryCode } from '../phones/normalize.js';
import { guessMapping, mappingError, type ColumnMapping } from './import-fields.js';
import {
  absorb, applyChange, changesFor, createClients, ensureLists, isNoChange, listKey, loadExisting, loadLists, loadOwners, lookupKeys, pendingOf, type Pending,
} from './import-match.js';
import { importJobs } from './import-jobs.table.js';
import { readRows, withHeader, type FileShape, type FileRow } from './read-rows.js';
import { matchKeys, REASONS, rowFate, type ImportRow, type Problem, type RowContext } from './row-fate.js';

export interface ImportEnv {
  db: Db;
  region: CountryCode;
  utcOffset: string;
  /** Rows per transaction of the real run and per base lookup of the dry run (default 2000). */
  batchSize?: number;
}

export interface FileRef {
  path: string;
  shape: FileShape;
  sheet: string | null;
}

const BATCH = 2000;
const LIST_CAP = 200;

export interface DryRunReport {
  rowsRead: number;
  rowsRejected: number;
  clientsToCreate: number;
  clientsToUpdate: number;
  clientsUnchanged: number;
  duplicatesInFile: number;
  matchedInBase: number;
  badPhones: { total: number; items: Problem[] };
  problems: { total: number; items: Problem[] };
  unknownOwners: { value: string; rows: number }[];
  newSegments: string[];
  newSources: string[];
  sample: { row: number; fate: 'create' | 'update' | 'unchanged' | 'duplicate' | 'rejected'; clientId: number | null; client: SampleClient | null; reasons: string[] }[];
}
type SampleClient = Pick<ImportRow, 'name' | 'inn' | 'emails' | 'contact' | 'position' | 'ownerId' | 'status' | 'segment' | 'source' | 'website' | 'address'> & { phones: string[]; nextContactAt: string | null };

const sampleOf = (r: ImportRow): SampleClient => ({
  name: r.name, inn: r.inn, emails: r.emails, contact: r.contact, position: r.position, ownerId: r.ownerId, status: r.status, segment: r.segment,
  source: r.source, website: r.website, address: r.address, phones: r.phones.map((p) => p.phone), nextContactAt: r.nextContactAt?.toISOString() ?? null,
});

/** A CSV of the rejected rows, as they were, with the reasons in a last column (UTF-8 with BOM, for Excel). */
class RejectedWriter {
  private out: WriteStream;
  constructor(path: string) {
    this.out = createWriteStream(path);
    this.out.write('\ufeff');
  }
  write(cells: readonly string[]): void {
    this.out.write(`${cells.map((c) => (/[";\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(';')}\r\n`);
  }
  close(): Promise<void> {
    return new Promise((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}

export interface DryRunResult {
  header: string[];
  mapping: ColumnMapping[];
  report: DryRunReport;
}

export class MappingError extends Error {}

/**
 * Reads the whole file and tells what the real run would do, writing nothing but the rejected
 * rows file. Rows are matched inside the file and against the base by any phone, then INN, then
 * the exact name; the base is asked once a batch.
 */
export async function dryRun(env: ImportEnv, viewer: Viewer, file: FileRef, mappingIn: ColumnMapping[] | null, rejectedPath: string): Promise<DryRunResult> {
  const { db } = env;
  const [owners, lists] = await Promise.all([loadOwners(db, viewer), loadLists(db)]);
  const listId = (kind: 'segment' | 'source', name: string) => lists.get(listKey(kind, name)) ?? -1;
  const report: DryRunReport = {
    rowsRead: 0, rowsRejected: 0, clientsToCreate: 0, clientsToUpdate: 0, clientsUnchanged: 0, duplicatesInFile: 0, matchedInBase: 0,
    badPhones: { total: 0, items: [] }, problems: { total: 0, items: [] }, unknownOwners: [], newSegments: [], newSources: [], sample: [],
  };
  const unknownOwners = new Map<string, number>();
  const newLists = { segment: new Set<string>(), source: new Set<string>() };
  // Match key → a client of the base (id > 0) or a new client of this file (id < 0).
  const seen = new Map<string, number>();
  let newGroups = 0;
  const touched = new Set<number>();
  const changed = new Set<number>();
  const rejected = new RejectedWriter(rejectedPath);
  let header: string[] = [];
  let mapping: ColumnMapping[] = [];
  let ctx: RowContext | null = null;
  let batch: { ok: ImportRow; cells: string[] }[] = [];

  const reject = (cells: readonly string[], rowNumber: number, problems: Problem[]) => {
    report.rowsRejected++;
    for (const p of problems) {
      const list = p.reason === REASONS.badPhone ? report.badPhones : report.problems;
      list.total++;
      if (list.items.length < LIST_CAP) list.items.push(p);
    }
    rejected.write([...header.map((_, i) => cells[i] ?? ''), ...cells.slice(header.length), problems.map((p) => (p.column ? `${p.column}: ${p.value}: ${p.reason}` : p.reason)).join('; ')]);
    if (report.sample.length < 20) report.sample.push({ row: rowNumber, fate: 'rejected', clientId: null, client: null, reasons: problems.map((p) => p.reason) });
  };

  const flush = async () => {
    const rows = batch;
    batch = [];
    const base = await lookupKeys(db, rows.map((r) => r.ok));
    const firstMatch = (keys: string[]) => {
      for (const k of keys) {
        const hit = seen.get(k) ?? base.get(k);
        if (hit !== undefined) return hit;
      }
      return undefined;
    };
    const targets = rows.map((r) => firstMatch(matchKeys(r.ok)));
    const existing = await loadExisting(db, viewer, [...new Set(targets.filter((t): t is number => t !== undefined && t > 0))]);
    for (const { ok, cells } of rows) {
      const keys = matchKeys(ok);
      let target = firstMatch(keys);
      let fate: DryRunReport['sample'][number]['fate'];
      if (target === undefined) {
        target = -++newGroups;
        fate = 'create';
      } else if (target < 0) {
        report.duplicatesInFile++;
        fate = 'duplicate';
      } else {
        const e = existing.get(target);
        if (!e || !e.visible) {
          reject(cells, ok.row, [{ row: ok.row, column: '', value: '', reason: REASONS.hidden }]);
          continue;
        }
        report.matchedInBase++;
        const change = changesFor(e, pendingOf(ok), listId, !touched.has(target));
        touched.add(target);
        if (!isNoChange(change)) changed.add(target);
        fate = isNoChange(change) ? 'unchanged' : 'update';
      }
      for (const k of keys) if (!seen.has(k)) seen.set(k, target);
      if (ok.segment !== null && !lists.has(listKey('segment', ok.segment))) newLists.segment.add(ok.segment);
      if (ok.source !== null && !lists.has(listKey('source', ok.source))) newLists.source.add(ok.source);
      if (report.sample.length < 20) report.sample.push({ row: ok.row, fate, clientId: target > 0 ? target : null, client: sampleOf(ok), reasons: [] });
    }
  };

  try {
    for await (const item of withHeader(readRows(file.path, { shape: file.shape, sheet: file.sheet }))) {
      if ('header' in item) {
        header = item.header.cells.map((c) => c.trim());
        mapping = mappingIn ?? guessMapping(header);
        const error = mappingError(mapping, Math.max(header.length, ...mapping.map((m) => m.index + 1)));
        if (error) throw new MappingError(error);
        rejected.write([...header, 'Причина / Reason']);
        ctx = { mapping, region: env.region, owners, utcOffset: env.utcOffset };
        continue;
      }
      report.rowsRead++;
      const fate = rowFate(item.data.cells, item.data.row, ctx!);
      if (fate.kind === 'rejected') {
        reject(item.data.cells, fate.row, fate.problems);
        continue;
      }
      if (fate.unknownOwner !== null) unknownOwners.set(fate.unknownOwner, (unknownOwners.get(fate.unknownOwner) ?? 0) + 1);
      batch.push({ ok: fate.row, cells: item.data.cells });
      if (batch.length >= (env.batchSize ?? BATCH)) await flush();
    }
    if (batch.length) await flush();
  } finally {
    await rejected.close();
  }
  if (ctx === null) throw new MappingError('the file has no rows');
  report.clientsToCreate = newGroups;
  report.clientsToUpdate = changed.size;
  report.clientsUnchanged = touched.size - changed.size;
  report.unknownOwners = [...unknownOwners].sort((a, b) => b[1] - a[1]).slice(0, LIST_CAP).map(([value, rows]) => ({ value, rows }));
  report.newSegments = [...newLists.segment].slice(0, LIST_CAP);
  report.newSources = [...newLists.source].slice(0, LIST_CAP);
  return { header, mapping, report };
}

/** withActor for an import: the history also records the import's id (migration 0013). */
export function withImport<T>(db: Db, actor: { id: number }, importId: number, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return withActor(db, actor, 'import', async (tx) => {
    await tx.execute(sql`select set_config('switchboard.import_id', ${String(importId)}, true)`);
    return fn(tx);
  });
}

export interface RunHooks {
  /** After each committed batch; returns true to stop (cancel requested). */
  afterBatch(progress: { rowsDone: number; lastRow: number }): Promise<boolean> | boolean;
}

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
  let rows: FileRow[] = [];
  let lastRow = job.lastRow;
  let rowsDone = job.rowsDone;

  const flush = async (): Promise<boolean> => {
    const chunk = rows;
    rows = [];
    const end = chunk.at(-1)!.row;
    const counts = { created: 0, updated: 0, unchanged: 0, rejected: 0 };
    await withImport(db, viewer, job.id, async (tx) => {
      const ok: ImportRow[] = [];
      for (const r of chunk) {
        const fate = rowFate(r.cells, r.row, ctx);
        if (fate.kind === 'ok') ok.push(fate.row);
        else counts.rejected++;
      }
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
      for (const [id, { pending, scalars }] of updates) {
        const change = changesFor(existing.get(id)!, pending, listId, scalars);
        if (isNoChange(change)) counts.unchanged++;
        else {
          counts.updated++;
          await applyChange(tx, id, change, viewer.id);
        }
      }
      const ids = await createClients(tx, creates, job.defaultOwnerId, listId, viewer.id);
      for (const id of ids) touched.add(id);
      counts.created = ids.length;
      await tx
        .update(importJobs)
        .set({
          lastRow: end,
          rowsDone: sql`${importJobs.rowsDone} + ${chunk.length}`,
          createdCount: sql`${importJobs.createdCount} + ${counts.created}`,
          updatedCount: sql`${importJobs.updatedCount} + ${counts.updated}`,
          unchangedCount: sql`${importJobs.unchangedCount} + ${counts.unchanged}`,
          rejectedCount: sql`${importJobs.rejectedCount} + ${counts.rejected}`,
        })
        .where(eq(importJobs.id, job.id));
    });
    lastRow = end;
    rowsDone += chunk.length;
    return hooks.afterBatch({ rowsDone, lastRow });
  };

  let headerSeen = false;
  for await (const item of withHeader(readRows(file.path, { shape: file.shape, sheet: file.sheet }))) {
    if ('header' in item) {
      headerSeen = true;
      continue;
    }
    if (item.data.row <= lastRow) continue;
    rows.push(item.data);
    if (rows.length >= (env.batchSize ?? BATCH) && (await flush())) return 'cancelled';
  }
  if (headerSeen && rows.length && (await flush())) return 'cancelled';
  return 'done';
}
