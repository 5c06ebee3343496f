import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The console's sources (web/) and its build (web/dist), from the repository root. */
export const WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');
export const DIST_DIR = path.join(WEB_DIR, 'dist');

function newestMtime(target: string): number {
  const info = statSync(target);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const entry of readdirSync(target)) newest = Math.max(newest, newestMtime(path.join(target, entry)));
  return newest;
}

/** True when web/dist is missing or older than any source of the console. */
export function consoleBuildIsStale(): boolean {
  const built = path.join(DIST_DIR, 'index.html');
  if (!existsSync(built)) return true;
  const sources = ['src', 'index.html', 'vite.config.ts'].map((p) => path.join(WEB_DIR, p)).filter((p) => existsSync(p));
  return Math.max(...sources.map(newestMtime)) > statSync(built).mtimeMs;
}

/**
 * Builds the console with Vite when its build is missing or stale: `npm install` (postinstall),
 * `npm start` and the tests' global setup call it, so the README's two commands stay two.
 * Vite is imported only then: a service with a current build never loads it.
 */
export async function ensureConsoleBuild(log: (message: string) => void = () => {}): Promise<'built' | 'current'> {
  if (!consoleBuildIsStale()) return 'current';
  if (!existsSync(path.join(WEB_DIR, 'index.html'))) throw new Error(`the console's sources are missing: ${WEB_DIR}`);
  log('building the web console (vite build)');
  const { build } = await import('vite');
  await build({ configFile: path.join(WEB_DIR, 'vite.config.ts'), logLevel: 'warn' });
  return 'built';
}
