import { describe, expect, it } from 'vitest';
import { contentRange, parseRange, unsatisfiedRange, type RangeResult } from '../../src/recordings/range.js';

const full: RangeResult = { kind: 'full' };
const none: RangeResult = { kind: 'unsatisfiable' };
const part = (start: number, end: number): RangeResult => ({ kind: 'partial', start, end });

describe('parseRange (RFC 9110 §14) against a 1000-byte file', () => {
  const cases: Array<[string | undefined, RangeResult]> = [
    // no header
    [undefined, full],
    // int-range
    ['bytes=0-99', part(0, 99)],
    ['bytes=0-0', part(0, 0)],
    ['bytes=999-999', part(999, 999)],
    ['bytes=500-2000', part(500, 999)],
    ['bytes=0-99999999999999999999999', part(0, 999)],
    ['BYTES=10-19', part(10, 19)],
    ['bytes=007-009', part(7, 9)],
    // open-ended: what <audio> sends first and on every seek
    ['bytes=0-', part(0, 999)],
    ['bytes=100-', part(100, 999)],
    ['bytes=999-', part(999, 999)],
    // suffix
    ['bytes=-100', part(900, 999)],
    ['bytes=-1', part(999, 999)],
    ['bytes=-1000', part(0, 999)],
    ['bytes=-5000', part(0, 999)],
    // list syntax: whitespace and empty elements around a single range
    ['bytes= 0-9 ', part(0, 9)],
    ['bytes=,0-9,', part(0, 9)],
    // several ranges: we send the whole file (decision, see range.ts)
    ['bytes=0-9,20-29', full],
    ['bytes=0-9, -5', full],
    ['bytes=5000-6000,7000-8000', full],
    // unsatisfiable → 416
    ['bytes=1000-', none],
    ['bytes=1000-1001', none],
    ['bytes=5000-', none],
    ['bytes=-0', none],
    // malformed or another unit → ignored, 200 with the whole file
    ['bytes=100-50', full],
    ['bytes=-', full],
    ['bytes=', full],
    ['bytes=abc-def', full],
    ['bytes=1-2-3', full],
    ['bytes=+1-2', full],
    ['bytes=1.5-2', full],
    ['bytes 0-99', full],
    ['bytes:0-99', full],
    ['items=0-99', full],
    ['0-99', full],
    ['', full],
    [`bytes=${'0'.repeat(300)}-1`, full],
  ];

  it.each(cases)('%j → %j', (header, expected) => {
    expect(parseRange(header, 1000)).toEqual(expected);
  });
});

describe('parseRange at the edges of size', () => {
  it('an empty file: first-byte ranges are unsatisfiable, a suffix gets the (empty) whole file', () => {
    expect(parseRange('bytes=0-', 0)).toEqual(none);
    expect(parseRange('bytes=0-0', 0)).toEqual(none);
    expect(parseRange('bytes=-10', 0)).toEqual(full);
  });

  it('a one-byte file', () => {
    expect(parseRange('bytes=0-', 1)).toEqual(part(0, 0));
    expect(parseRange('bytes=-5', 1)).toEqual(part(0, 0));
    expect(parseRange('bytes=1-', 1)).toEqual(none);
  });

  it('formats Content-Range', () => {
    expect(contentRange(0, 99, 1000)).toBe('bytes 0-99/1000');
    expect(unsatisfiedRange(1000)).toBe('bytes */1000');
  });
});
