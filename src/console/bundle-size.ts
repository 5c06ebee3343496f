import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DIST_DIR } from './console-build.js';

/** The budget of the script a browser loads before the console can draw (issue 14). */
export const INITIAL_JS_BUDGET_GZIP = 150 * 1024;

export interface BundleSize {
  /** The scripts index.html loads or preloads: what runs before the first screen. */
  initial: Array<{ file: string; bytes: number; gzip: number }>;
  initialGzip: number;
  /** Every chunk, lazy ones included (screens, wavesurfer), gzipped. */
  allGzip: number;
}

/** Sizes of the built console (web/dist), gzipped at level 9 as a server would send them. */
export function bundleSize(distDir = DIST_DIR): BundleSize {
  const html = readFileSync(path.join(distDir, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/<(?:script[^>]*\ssrc|link[^>]*rel="modulepreload"[^>]*\shref)="\/([^"]+\.js)"/g)].map((m) => m[1]!);
  const size = (file: string) => {
    const bytes = readFileSync(path.join(distDir, file));
    return { file, bytes: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  };
  const initial = [...new Set(refs)].map(size);
  const assets = readdirSync(path.join(distDir, 'assets')).filter((f) => f.endsWith('.js')).map((f) => `assets/${f}`);
  return { initial, initialGzip: initial.reduce((n, f) => n + f.gzip, 0), allGzip: assets.map(size).reduce((n, f) => n + f.gzip, 0) };
}
