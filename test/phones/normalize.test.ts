import { describe, expect, it } from 'vitest';
import { normalizePhone, parsePhone } from '../../src/phones/normalize.js';

describe('normalizePhone (region RU)', () => {
  it.each([
    // What people type.
    ['8 (916) 123-45-67', '+79161234567'],
    ['+7 916 123 45 67', '+79161234567'],
    ['79161234567', '+79161234567'],
    ['9161234567', '+79161234567'],
    ['+7(916)123-45-67', '+79161234567'],
    ['8-916-123-45-67', '+79161234567'],
    [' 7 916 1234567 ', '+79161234567'],
    ['7 (916) 123-45-67', '+79161234567'],
    ['8\u00a0916\u00a0123\u201345\u201367', '+79161234567'], // Excel: NBSP and en dashes
    ['+7.916.123.45.67', '+79161234567'],
    // What trunks send.
    ['89161234567', '+79161234567'],
    ['+79161234567', '+79161234567'],
    ['81079161234567', '+79161234567'], // RU international prefix 810
    ['0079161234567', '+79161234567'], // 00 international prefix
    ['0012025550123', '+12025550123'],
    ['81012025550123', '+12025550123'],
    ['+380501234567', '+380501234567'],
    // Landlines, toll-free, Kazakhstan shares +7.
    ['+7 (495) 111-00-01', '+74951110001'],
    ['4951110001', '+74951110001'],
    ['8 800 555-35-35', '+78005553535'],
    ['77001234567', '+77001234567'],
  ])('%j → %s', (input, expected) => {
    expect(normalizePhone(input, 'RU')).toBe(expected);
  });

  it.each([
    ['', 'empty'],
    ['   ', 'empty'],
    ['()', 'no digits'],
    ['abc', 'unexpected characters'],
    ['+7 916 123 45 67 abc', 'unexpected characters'],
    ['tel:+79161234567', 'unexpected characters'],
    ['+7 916 123 45 67, +7 495 111 00 01', 'unexpected characters'], // two numbers in a cell
    ['101', 'too short'], // internal extension
    ['1001', 'too short'],
    ['8 (916) 12', 'too short'],
    ['891612345678', 'wrong length'],
    ['999999999999999999999', 'too long'],
    ['9'.repeat(100), 'too long'],
    ['0000000000', 'invalid number'], // possible length, impossible leading digit
    ['1234567890', 'invalid number'],
    ['8109161234567', 'invalid number'], // 810 then no country
    ['7+9161234567', 'misplaced +'],
    ['++79161234567', 'misplaced +'],
    ['+8 916 123 45 67', 'unknown country code'],
    // Foreign numbers without a prefix are not guessed (see parsePhone).
    ['380501234567', 'wrong length'],
    ['12025550123', 'wrong length'],
  ])('%j is rejected (%s)', (input, why) => {
    expect(normalizePhone(input, 'RU')).toBeNull();
    const result = parsePhone(input, 'RU');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toContain(`(${why})`);
  });

  it('words the error for a person fixing a spreadsheet', () => {
    expect(parsePhone('8 (916) 12', 'RU')).toEqual({
      ok: false,
      error: '"8 (916) 12" is not a phone number (too short)',
    });
  });

  it('cuts very long input in the message', () => {
    const result = parsePhone('x'.repeat(500), 'RU');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.length).toBeLessThan(120);
  });
});

describe('extensions: the main number is kept, the extension returned apart', () => {
  it.each([
    ['+7 (495) 111-00-01 доб. 12', '12'],
    ['+7 (495) 111-00-01 доб 12', '12'],
    ['+7 (495) 111-00-01 ДОБ.12', '12'],
    ['+7 (495) 111-00-01, доб. 12', '12'],
    ['+7 (495) 111-00-01 (доб. 1234)', '1234'],
    ['+7 (495) 111-00-01 вн. 5', '5'],
    ['8 495 111 00 01 ext. 12', '12'],
    ['8 495 111 00 01 x12', '12'],
    ['8 495 111 00 01 #12', '12'],
  ])('%j', (input, ext) => {
    expect(parsePhone(input, 'RU')).toEqual({ ok: true, e164: '+74951110001', ext });
  });

  it('a marker without digits is not an extension', () => {
    expect(normalizePhone('+7 495 111 00 01 доб.', 'RU')).toBeNull();
  });

  it('no extension is null', () => {
    expect(parsePhone('+74951110001', 'RU')).toEqual({ ok: true, e164: '+74951110001', ext: null });
  });
});

describe('other regions', () => {
  it('reads the national form first, even where a calling code could be meant (DE)', () => {
    // Variable-length numbering: 491701234567 is a valid German national number.
    expect(normalizePhone('491701234567', 'DE')).toBe('+49491701234567');
    expect(normalizePhone('01701234567', 'DE')).toBe('+491701234567');
    expect(normalizePhone('00491701234567', 'DE')).toBe('+491701234567');
  });

  it('retries with + when the digits start with the region calling code', () => {
    // KZ shares +7 with RU; libphonenumber alone reads this as a broken KZ national number.
    expect(normalizePhone('79161234567', 'KZ')).toBe('+79161234567');
    expect(normalizePhone('12025550123', 'US')).toBe('+12025550123');
    expect(normalizePhone('2025550123', 'US')).toBe('+12025550123');
  });

  it('caches per region, not per input only', () => {
    expect(normalizePhone('2025550123', 'US')).toBe('+12025550123');
    expect(normalizePhone('2025550123', 'RU')).toBeNull();
  });
});

describe('the memo of parsed numbers', () => {
  it('gives the same answers after more numbers than it keeps, in both generations and after promotion', () => {
    // 10,000 a generation: 25,000 distinct callers roll it over twice. Every answer, first or
    // remembered, must be the number that was asked for, in every format.
    const national = (i: number) => String(9_160_000_000 + i);
    for (let i = 0; i < 25_000; i++) {
      const form = i % 3 === 0 ? `8${national(i)}` : i % 3 === 1 ? `+7${national(i)}` : `7${national(i)}`;
      expect(normalizePhone(form, 'RU')).toBe(`+7${national(i)}`);
    }
    for (const i of [0, 1, 2, 9_999, 12_345, 19_999, 24_998, 24_999, 12_345]) {
      const form = i % 3 === 0 ? `8${national(i)}` : i % 3 === 1 ? `+7${national(i)}` : `7${national(i)}`;
      expect(normalizePhone(form, 'RU')).toBe(`+7${national(i)}`);
      expect(normalizePhone(national(i), 'US')).toBeNull();
    }
  });
});

describe('E.164 reads back as itself', () => {
  // /pbx/route skips parsing a caller ID that is exactly a number on a client's card (stored
  // as normalizePhone's E.164). That is only right if every E.164 it produces parses to itself,
  // whatever the region: checked on libphonenumber's example mobile and fixed-line numbers of
  // every country.
  it('for the example numbers of every country, from any default region', async () => {
    const { getCountries, getExampleNumber } = await import('libphonenumber-js/core');
    const metadata = (await import('libphonenumber-js/min/metadata')).default;
    const examples = (await import('libphonenumber-js/mobile/examples')).default;
    let checked = 0;
    for (const country of getCountries(metadata)) {
      const example = getExampleNumber(country, examples, metadata);
      if (!example) continue;
      const e164 = normalizePhone(example.nationalNumber, country) ?? normalizePhone(example.number, country);
      if (e164 === null) continue;
      for (const region of ['RU', 'US', 'DE', country] as const) expect(normalizePhone(e164, region)).toBe(e164);
      checked += 1;
    }
    expect(checked).toBeGreaterThan(200);
  });
});
