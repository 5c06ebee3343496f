import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { e164OfDigits, normalizePhone, russianDigits } from '../../src/phones/normalize.js';

// `russianDigits` answers the plain Russian forms without libphonenumber (a routing answer for a
// new caller, an import row). Whatever it answers must be what libphonenumber answers.

const digit = fc.constantFrom(...'0123456789');
const digits = (min: number, max: number) => fc.array(digit, { minLength: min, maxLength: max }).map((d) => d.join(''));
// The forms it takes (7/8 + ten digits, ten digits) and their neighbours, with every first digit.
const number = fc.oneof(
  fc.tuple(fc.constantFrom('7', '8'), digits(10, 10)).map(([p, d]) => p + d),
  digits(10, 10),
  digits(9, 12),
);

describe('russianDigits', () => {
  it('agrees with libphonenumber wherever it answers', () => {
    let answered = 0;
    fc.assert(
      fc.property(number, fc.boolean(), (d, plus) => {
        const fast = russianDigits(d, plus);
        if (fast === null) return;
        answered++;
        expect(fast).toBe(e164OfDigits(d, plus, 'RU'));
      }),
      { numRuns: 20_000 },
    );
    // The generator must reach the forms it answers, or the property says nothing.
    expect(answered).toBeGreaterThan(2_000);
  });

  it('leaves to libphonenumber what it does not decide, so the result does not change', () => {
    // Ten digits after an 8 may be a trunk 8 and nine digits; a mobile range that is not valid.
    for (const raw of ['8123456789', '+89161234567', '71234567890', '89161234567', '9161234567', '+79161234567', '4951112233']) {
      const plus = raw.startsWith('+');
      const d = raw.replace('+', '');
      expect(normalizePhone(raw, 'RU')).toBe(e164OfDigits(d, plus, 'RU'));
    }
  });
});
