import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is built into web/dist and served by the service at / (src/console/).
// `npm run dev` runs this dev server and sends the API, the WebSocket and /c2c to the service on :3000.
const service = process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:3000';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', reportCompressedSize: false },
  server: {
    proxy: {
      '/api': service,
      '/c2c': service,
      '/ws': { target: service.replace(/^http/, 'ws'), ws: true },
    },
  },
});
