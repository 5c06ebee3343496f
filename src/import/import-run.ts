import { createWriteStream, type WriteStream } from 'node:fs';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import type { CountryCode } from '../phones/normalize.js';
import { guessMapping, mappingError, type ColumnMapping } from './import-fields.js';
import { changesFor, isNoChange, listKey, loadExisting, loadLists, loadOwners, lookupKeys, pendingOf } from './import-match.js';
import { HashIntMap } from './hash-map.js';
import { readRows, withHeader, type FileShape } from './read-rows.js';
import { matchKeys, REASONS, rowFate, type ImportRow, type Problem, type RowContext } from './row-fate.js';

export interface ImportEnv {
  db: Db;
  region: CountryCode;
  utcOffset: string;
  /** Rows per transaction of the real run (default 5000, REAL_BATCH) and per base lookup of the dry run (default 2000). */
  batchSize?: number;
}

export interface FileRef {
  path: string;
  shape: FileShape;
  sheet: string | null;
}

export const BATCH = 2000;
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
  // Keyed by a 53-bit hash of the match key, not the key: a cell's text is a slice of the parser's
  // 64 KiB chunk, and keeping it as a Map key kept every chunk of the file alive (1 GB of RSS for
  // a million rows). A collision (about 1 in 10^10 pairs) would count two rows as one here only;
  // the real run matches on the keys themselves.
  const seen = new HashIntMap();
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

  // The base is asked about a batch while the next one is parsed (PostgreSQL works on the other
  // core); the answers are applied in file order, so `seen` decides exactly as without.
  type Asked = { rows: typeof batch; answer: Promise<{ base: Map<string, number>; existing: Awaited<ReturnType<typeof loadExisting>> }> };
  let asked: Asked | null = null;
  const ask = (rows: typeof batch): Asked => {
    const answer = (async () => {
      const base = await lookupKeys(db, rows.map((r) => r.ok));
      return { base, existing: await loadExisting(db, viewer, [...new Set(base.values())]) };
    })();
    answer.catch(() => {}); // awaited in apply(); this only keeps an early failure from being "unhandled"
    return { rows, answer };
  };
  const flush = async () => {
    const previous = asked;
    asked = batch.length ? ask(batch) : null;
    batch = [];
    if (previous) await apply(previous);
  };
  const apply = async ({ rows, answer }: Asked) => {
    const { base, existing } = await answer;
    const firstMatch = (keys: string[]) => {
      for (const k of keys) {
        const hit = seen.get(hash53(k)) ?? base.get(k);
        if (hit !== undefined) return hit;
      }
      return undefined;
    };
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
      for (const k of keys) {
        const h = hash53(k);
        if (!seen.has(h)) seen.set(h, target);
      }
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
    await flush();
    await flush();
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

/** cyrb53: a fast 53-bit string hash (two 32-bit multiply-xor lanes). */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
