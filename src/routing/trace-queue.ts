/**
 * The routing trace's waiting rows, kept as COPY text in one growing Buffer with a few plain
 * arrays beside it, not as an object and a string per row.
 *
 * Why: a row waits 50 ms or more (and minutes in an outage, up to 20,000 of them), long enough
 * to outlive a young-generation GC. Kept as a JS string and an object, every waiting row is
 * copied by each scavenge and then promoted to the old generation. A Buffer's bytes live outside
 * the JS heap, and arrays of small integers and of strings that already exist (the linkedid, the
 * reason and action literals) are cheap to scan. At the route benchmark's rate this alone moved
 * the CPU per answer by less than the VM's noise (BENCHMARKS.md, route webhook); it is kept for
 * the outage, when the queue is long and the heap would carry it.
 *
 * Rows leave from the head (`take`, `dropOldest`) and come back to the head (`putBack`) when
 * the database could not take them; the bytes of gone rows are reclaimed when they are most of
 * the Buffer, so each row is moved a bounded number of times.
 */

/** What the call pipeline needs to know of a decision not stored yet. */
export interface PendingRow {
  step: number;
  reason: string;
  action: string;
  clientId: number | null;
}

/** A row's facts as it is queued: a trace row has them (its client id may be left out). */
export interface RowMeta extends Omit<PendingRow, 'clientId'> {
  linkedid: string;
  clientId?: number | null;
}

/** Rows' facts, one array per field (no object per row); a client id of -1 is none. */
interface Columns {
  linkedids: string[];
  steps: number[];
  reasons: string[];
  actions: string[];
  clientIds: number[];
}

/** Rows taken off the queue: their COPY text and what the call pipeline may ask about them. */
export interface RowBatch extends Columns {
  bytes: Buffer;
  /** End of each row in `bytes`. */
  ends: number[];
}

const INITIAL_BYTES = 64 * 1024;

const emptyColumns = (): Columns => ({ linkedids: [], steps: [], reasons: [], actions: [], clientIds: [] });

function sliceColumns(c: Columns, from: number, to?: number): Columns {
  return {
    linkedids: c.linkedids.slice(from, to),
    steps: c.steps.slice(from, to),
    reasons: c.reasons.slice(from, to),
    actions: c.actions.slice(from, to),
    clientIds: c.clientIds.slice(from, to),
  };
}

/** The facts of the rows of one call among `c`'s rows from `from` on. */
export function pendingIn(c: Columns, linkedid: string, into: PendingRow[], from = 0): void {
  for (let at = from; at < c.linkedids.length; at++) {
    if (c.linkedids[at] !== linkedid) continue;
    const clientId = c.clientIds[at]!;
    into.push({ step: c.steps[at]!, reason: c.reasons[at]!, action: c.actions[at]!, clientId: clientId < 0 ? null : clientId });
  }
}

export class TraceQueue {
  private bytes = Buffer.allocUnsafe(INITIAL_BYTES);
  /** Byte offset of the first waiting row and of the end of the last one. */
  private start = 0;
  private end = 0;
  /** Per row, from index `head` on: its end offset in `bytes`, and its facts. */
  private ends: number[] = [];
  private rows: Columns = emptyColumns();
  private head = 0;

  get length(): number {
    return this.ends.length - this.head;
  }

  push(meta: RowMeta, line: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
    this.reserve(line.length * 3);
    this.end += this.bytes.write(line, this.end);
    this.ends.push(this.end);
    const rows = this.rows;
    rows.linkedids.push(meta.linkedid);
    rows.steps.push(meta.step);
    rows.reasons.push(meta.reason);
    rows.actions.push(meta.action);
    rows.clientIds.push(meta.clientId ?? -1);
  }

  /** The oldest `count` rows (at most), removed from the queue; their bytes are a copy. */
  take(count: number): RowBatch {
    const n = Math.min(count, this.length);
    const from = this.start;
    const to = n === 0 ? from : this.ends[this.head + n - 1]!;
    const ends = new Array<number>(n);
    for (let i = 0; i < n; i++) ends[i] = this.ends[this.head + i]! - from;
    const batch: RowBatch = { bytes: Buffer.from(this.bytes.subarray(from, to)), ends, ...sliceColumns(this.rows, this.head, this.head + n) };
    this.advance(n);
    return batch;
  }

  /** Drops the oldest `count` rows; returns how many went. */
  dropOldest(count: number): number {
    const n = Math.max(0, Math.min(count, this.length));
    this.advance(n);
    return n;
  }

  /** A taken batch's rows from `fromRow` on go back to the head, before everything waiting. */
  putBack(batch: RowBatch, fromRow = 0): void {
    if (fromRow >= batch.ends.length) return;
    const waiting = this.take(this.length);
    this.reset();
    this.append(batch, fromRow);
    this.append(waiting, 0);
  }

  /** The facts of the waiting rows of one call. */
  pendingOf(linkedid: string, into: PendingRow[]): void {
    pendingIn(this.rows, linkedid, into, this.head);
  }

  private append(batch: RowBatch, fromRow: number): void {
    const skip = fromRow === 0 ? 0 : batch.ends[fromRow - 1]!;
    this.reserve(batch.bytes.length - skip);
    const base = this.end - skip;
    this.end += batch.bytes.copy(this.bytes, this.end, skip);
    for (let i = fromRow; i < batch.ends.length; i++) this.ends.push(base + batch.ends[i]!);
    const rows = this.rows;
    for (let i = fromRow; i < batch.ends.length; i++) {
      rows.linkedids.push(batch.linkedids[i]!);
      rows.steps.push(batch.steps[i]!);
      rows.reasons.push(batch.reasons[i]!);
      rows.actions.push(batch.actions[i]!);
      rows.clientIds.push(batch.clientIds[i]!);
    }
  }

  private advance(n: number): void {
    if (n === 0) return;
    this.head += n;
    this.start = this.ends[this.head - 1]!;
    if (this.head === this.ends.length) this.reset();
  }

  private reset(): void {
    this.start = 0;
    this.end = 0;
    this.head = 0;
    this.ends = [];
    this.rows = emptyColumns();
  }

  /** Room for `more` bytes at the end: first by reclaiming gone rows' bytes, else in a larger Buffer. */
  private reserve(more: number): void {
    if (this.end + more <= this.bytes.length) return;
    const live = this.end - this.start;
    const needed = live + more;
    // Buffer.copy moves overlapping ranges correctly (memmove), so the same Buffer can be compacted.
    const bytes = needed * 2 <= this.bytes.length ? this.bytes : Buffer.allocUnsafe(Math.max(this.bytes.length * 2, needed * 2));
    this.bytes.copy(bytes, 0, this.start, this.end);
    this.bytes = bytes;
    const shift = this.start;
    this.ends = this.ends.slice(this.head).map((end) => end - shift);
    this.rows = sliceColumns(this.rows, this.head);
    this.head = 0;
    this.start = 0;
    this.end = live;
  }
}
