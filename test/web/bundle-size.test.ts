import { expect, it } from 'vitest';
import { bundleSize, INITIAL_JS_BUDGET_GZIP } from '../../src/console/bundle-size.js';

// The global setup built the console from the current sources (test/support/global-setup.ts).
it('keeps the initial JavaScript of the console within 150 KB gzipped; the heavy parts load later', () => {
  const size = bundleSize();
  console.log(`initial JS gzipped: ${(size.initialGzip / 1024).toFixed(1)} KB (${size.initial.map((f) => f.file).join(', ')}); all chunks: ${(size.allGzip / 1024).toFixed(1)} KB`);
  expect(size.initial.length).toBeGreaterThan(0);
  expect(size.initialGzip).toBeLessThanOrEqual(INITIAL_JS_BUDGET_GZIP);
  // wavesurfer.js is not part of the first load.
  expect(size.initial.map((f) => f.file).join()).not.toMatch(/wavesurfer/);
  expect(size.allGzip).toBeGreaterThan(size.initialGzip);
});
