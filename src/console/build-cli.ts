import { ensureConsoleBuild } from './console-build.js';

// `npm run build:web` and postinstall: builds web/ into web/dist when it is missing or stale
// (`--force`: always).
const force = process.argv.includes('--force');
if (force) {
  const { build } = await import('vite');
  const { WEB_DIR } = await import('./console-build.js');
  await build({ configFile: `${WEB_DIR}/vite.config.ts`, logLevel: 'info' });
} else {
  const result = await ensureConsoleBuild((m) => process.stdout.write(`${m}\n`));
  process.stdout.write(`web console: ${result}\n`);
}
