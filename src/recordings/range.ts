// HTTP range requests (RFC 9110 §14) for one stored file, as a browser's <audio> element sends
// them: `bytes=0-` first, then `bytes=N-` for every seek.

export type RangeResult =
  /** Send the whole file with 200: no Range, or one we choose to ignore. */
  | { kind: 'full' }
  /** Send bytes start..end (inclusive) with 206. */
  | { kind: 'partial'; start: number; end: number }
  /** 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' };

const FULL: RangeResult = { kind: 'full' };
const UNSATISFIABLE: RangeResult = { kind: 'unsatisfiable' };
// No real client sends more; a longer header is not worth parsing.
const MAX_HEADER = 200;

/**
 * Decides what to send for a `Range` header against a file of `size` bytes.
 *
 * - `bytes=a-b`, `bytes=a-` and the suffix form `bytes=-n` are served as single ranges; an end
 *   past the file is cut to the last byte and a suffix longer than the file means all of it.
 * - A syntactically invalid header, another unit, or `a > b` is ignored (RFC 9110 lets a server
 *   ignore Range; invalid ones it must not answer with 416).
 * - Several ranges are ignored as well and the whole file is sent: media elements never ask for
 *   them, and multipart/byteranges would only serve download tools and range-amplification abuse.
 * - A first byte at or past the end, or `bytes=-0`, is unsatisfiable. An empty file has nothing
 *   to cut, so a suffix range on it gets the (empty) whole file.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (header === undefined || header.length > MAX_HEADER) return FULL;
  const set = /^\s*bytes=(.*)$/i.exec(header);
  if (!set) return FULL;
  // The list syntax (`1#range-spec`) allows empty elements and whitespace around commas.
  const specs = set[1]!.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (specs.length !== 1) return FULL;
  const spec = /^(\d*)-(\d*)$/.exec(specs[0]!);
  if (!spec) return FULL;
  const [, first, last] = spec as unknown as [string, string, string];
  if (first === '' && last === '') return FULL;

  if (first === '') {
    const length = Number(last);
    if (length === 0) return UNSATISFIABLE;
    if (size === 0) return FULL;
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Number(last);
  if (last !== '' && end < start) return FULL;
  if (start >= size) return UNSATISFIABLE;
  return { kind: 'partial', start, end: Math.min(end, size - 1) };
}

export const contentRange = (start: number, end: number, size: number) => `bytes ${start}-${end}/${size}`;
export const unsatisfiedRange = (size: number) => `bytes */${size}`;
