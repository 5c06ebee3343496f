import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import Papa from 'papaparse';
import type { Row } from 'exceljs';
import iconv from 'iconv-lite';
import { looksLikeHeader } from './import-fields.js';

// The rows of an uploaded file, streamed: CSV through papaparse (after iconv-lite for cp1251),
// XLSX through exceljs's streaming WorkbookReader. Neither holds the file in memory. papaparse
// rather than csv-parse: 2–3× the rows per second on the same file (bench/import), and like
// Excel it reads a stray quote as text instead of failing the file.

export type FileFormat = 'csv' | 'xlsx';
export type Encoding = 'utf-8' | 'windows-1251';
export type Delimiter = ',' | ';' | '\t';

export interface FileShape {
  format: FileFormat;
  encoding: Encoding | null;
  delimiter: Delimiter | null;
}

/** One data row: `row` is the number the spreadsheet shows (1 = the first line of the file). */
export interface FileRow {
  row: number;
  cells: string[];
}

const SAMPLE_BYTES = 64 * 1024;

/** Format, encoding and delimiter, from the first 64 KiB. */
export async function sniffFile(path: string): Promise<FileShape> {
  const handle = await open(path, 'r');
  let sample: Buffer;
  try {
    const buffer = Buffer.alloc(SAMPLE_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, SAMPLE_BYTES, 0);
    sample = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  // A zip (PK\3\4): an .xlsx whatever the name says.
  if (sample.length >= 4 && sample.readUInt32BE(0) === 0x504b0304) return { format: 'xlsx', encoding: null, delimiter: null };
  const encoding = detectEncoding(sample);
  const text = encoding === 'utf-8' ? sample.toString('utf8') : iconv.decode(sample, 'win1251');
  return { format: 'csv', encoding, delimiter: detectDelimiter(text) };
}

/**
 * UTF-8 (with or without BOM) when the bytes are valid UTF-8, else Windows-1251: cp1251 Russian
 * text is almost never valid UTF-8 (a lower-case letter byte 0xE0–0xFF must be followed by two
 * continuation bytes 0x80–0xBF, which are upper-case letters).
 */
export function detectEncoding(sample: Buffer): Encoding {
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return 'utf-8';
  // The sample may end inside a character: drop up to 3 bytes of an unfinished sequence.
  let end = sample.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const byte = sample[end - back]!;
    if (byte >= 0xc0) {
      end -= back;
      break;
    }
    if (byte < 0x80) break;
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, end));
    return 'utf-8';
  } catch {
    return 'windows-1251';
  }
}

/** The candidate that splits the first lines into the same number of columns most often. */
export function detectDelimiter(text: string): Delimiter {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '').slice(0, 30);
  let best: Delimiter = ',';
  let bestScore = -1;
  for (const d of [';', ',', '\t'] as const) {
    const counts = lines.map((line) => countOutsideQuotes(line, d)).filter((n) => n > 0);
    if (counts.length === 0) continue;
    const tally = new Map<number, number>();
    for (const n of counts) tally.set(n, (tally.get(n) ?? 0) + 1);
    const [mode, times] = [...tally.entries()].sort((a, b) => b[1] - a[1] || b[0] - a[0])[0]!;
    const score = times * 1000 + mode;
    if (score > bestScore) [best, bestScore] = [d, score];
  }
  return best;
}

function countOutsideQuotes(line: string, d: string): number {
  let n = 0;
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (c === d && !quoted) n++;
  }
  return n;
}

export interface ReadOptions {
  shape: FileShape;
  /** XLSX: the sheet to read (default the first). */
  sheet?: string | null;
}

/** Every row of the file with its number, the header included; blank rows are skipped. */
export async function* readRows(path: string, opts: ReadOptions): AsyncGenerator<FileRow> {
  try {
    if (opts.shape.format === 'xlsx') yield* xlsxRows(path, opts.sheet ?? null);
    else yield* csvRows(path, opts.shape);
  } catch (err) {
    if (err instanceof SheetNotFound) throw err;
    // A broken zip or quote is the file's fault: the user is told so (400), not a 500.
    throw new FileUnreadable(`the file cannot be read as ${opts.shape.format.toUpperCase()}: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}`);
  }
}

export class FileUnreadable extends Error {}

async function* csvRows(path: string, shape: FileShape): AsyncGenerator<FileRow> {
  // 64 KiB reads, not 256: papaparse turns each into one string and slices every cell out of it,
  // so the chunk size sets how much text is alive and promoted at once. A 1M-row CSV: peak RSS of
  // the plain parse 211 -> 123 MiB, of the dry run 297 -> ~260 MiB, at about the same rows/s.
  const file = createReadStream(path, { highWaterMark: 64 * 1024 });
  const text: NodeJS.ReadWriteStream | NodeJS.ReadableStream = shape.encoding === 'windows-1251' ? file.pipe(iconv.decodeStream('win1251')) : file.setEncoding('utf8');
  const parser = text.pipe(Papa.parse(Papa.NODE_STREAM_INPUT, { delimiter: shape.delimiter ?? ',', quoteChar: '"' }));
  file.on('error', (err) => parser.destroy(err));
  // Records are taken with read() as they come, not through the stream's async iterator: that
  // costs a promise and several event hops per record, a quarter of the parse (bench/import).
  let ended = false;
  let failed: Error | null = null;
  let wake: (() => void) | null = null;
  const nudge = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  parser.on('readable', nudge);
  parser.on('end', () => ((ended = true), nudge()));
  parser.on('error', (err) => ((failed = err), nudge()));
  let row = 0;
  try {
    for (;;) {
      let cells: string[] | null;
      while ((cells = parser.read() as string[] | null) !== null) {
        row++;
        if (row === 1 && cells[0]?.startsWith('\ufeff')) cells[0] = cells[0].slice(1);
        if (cells.length === 1 && cells[0]!.trim() === '') continue;
        yield { row, cells };
      }
      if (failed) throw failed;
      if (ended) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (!ended) file.destroy();
  }
}

export class SheetNotFound extends Error {}

async function* xlsxRows(path: string, sheet: string | null): AsyncGenerator<FileRow> {
  // Loaded on the first XLSX only: exceljs and its dependencies are ~15 MiB of a CSV run's RSS.
  const { default: ExcelJS } = await import('./exceljs.js');
  // styles: 'cache' is what lets exceljs tell a date cell from a number.
  const workbook = new ExcelJS.stream.xlsx.WorkbookReader(path, { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit', entries: 'emit' });
  let found = false;
  for await (const worksheet of workbook) {
    const ws = worksheet as unknown as AsyncIterable<Row> & { name?: string };
    const wanted = !found && (sheet === null || ws.name === sheet);
    for await (const r of ws) {
      if (!wanted) continue;
      const values = r.values as unknown[];
      const cells: string[] = [];
      for (let i = 1; i < values.length; i++) cells.push(cellText(values[i]));
      if (cells.every((c) => c.trim() === '')) continue;
      yield { row: r.number, cells };
    }
    if (wanted) found = true;
  }
  if (!found) throw new SheetNotFound(`sheet "${sheet}" is not in the workbook`);
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A cell as text, the way the user sees it: integers without `.0`, dates as wall-clock time. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isInteger(value) ? value.toFixed(0) : String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  // Excel keeps no time zone: exceljs gives the wall-clock time as if it were UTC.
  if (value instanceof Date) {
    const d = value;
    const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    if (d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0) return date;
    return `${date} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${d.getUTCSeconds() === 0 ? '' : `:${pad(d.getUTCSeconds())}`}`;
  }
  if (typeof value === 'object') {
    const v = value as { richText?: { text: string }[]; text?: unknown; result?: unknown; error?: string };
    if (v.richText) return v.richText.map((p) => p.text).join('');
    if (v.text !== undefined) return cellText(v.text);
    if ('result' in v) return cellText(v.result);
    if (v.error) return '';
  }
  return String(value);
}

/** The header row and the rows after it; title rows above the header are skipped. */
export async function* withHeader(rows: AsyncIterable<FileRow>): AsyncGenerator<{ header: FileRow } | { data: FileRow }> {
  let header: FileRow | null = null;
  const before: FileRow[] = [];
  for await (const r of rows) {
    if (header !== null) {
      yield { data: r };
      continue;
    }
    if (looksLikeHeader(r.cells)) {
      header = r;
      yield { header: r };
      continue;
    }
    before.push(r);
    // No header in the first 10 rows: the first row is the header (the user maps by hand).
    if (before.length === 10) {
      header = before[0]!;
      yield { header };
      for (const b of before.slice(1)) yield { data: b };
    }
  }
  if (header === null && before.length > 0) {
    yield { header: before[0]! };
    for (const b of before.slice(1)) yield { data: b };
  }
}
