import { bundleSize, INITIAL_JS_BUDGET_GZIP } from './bundle-size.js';
import { ensureConsoleBuild } from './console-build.js';

// `npm run bundle:size`: the console's initial JavaScript, gzipped, against its budget.
await ensureConsoleBuild();
const size = bundleSize();
const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
for (const f of size.initial) process.stdout.write(`${f.file}: ${kb(f.bytes)}, gzip ${kb(f.gzip)}\n`);
process.stdout.write(`initial JS gzipped: ${kb(size.initialGzip)} of ${kb(INITIAL_JS_BUDGET_GZIP)}; all chunks gzipped: ${kb(size.allGzip)}\n`);
if (size.initialGzip > INITIAL_JS_BUDGET_GZIP) process.exitCode = 1;
