import fc from 'fast-check';
import { expect, it } from 'vitest';
import { HashIntMap } from '../../src/import/hash-map.js';
import { hash53 } from '../../src/import/import-run.js';

it('behaves like a Map of hashes through growth and collisions of the low bits', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.string({ maxLength: 6 }), fc.integer({ min: -1000, max: 1000 }).filter((v) => v !== 0)), { maxLength: 400 }), (ops) => {
      const map = new HashIntMap(4);
      const ref = new Map<number, number>();
      for (const [text, value] of ops) {
        const key = hash53(text);
        if (!ref.has(key)) ref.set(key, value);
        if (!map.has(key)) map.set(key, value);
      }
      expect(map.size).toBe(ref.size);
      for (const [key, value] of ref) expect(map.get(key)).toBe(value);
      expect(map.get(hash53('never-inserted-key-xyz'))).toBe(ref.get(hash53('never-inserted-key-xyz')));
    }),
  );
  // Keys equal in their low 32 bits but not above: both kept.
  const m = new HashIntMap(4);
  m.set(2 ** 40 + 5, 1);
  m.set(2 ** 41 + 5, 2);
  expect([m.get(2 ** 40 + 5), m.get(2 ** 41 + 5), m.size]).toEqual([1, 2, 2]);
});
