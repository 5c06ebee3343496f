import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createImportModule, type ImportModuleDeps } from '../../src/import/import.module.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

export const FIXTURES = join(import.meta.dirname, '../fixtures/import');
export const fixture = (name: string) => readFile(join(FIXTURES, name));

export interface ImportTestApp extends TestApp {
  module: ReturnType<typeof createImportModule>;
  dir: string;
  prefix: string;
  /** Another worker on the same queue and database: "the service after a restart". */
  newModule(extra?: Partial<ImportModuleDeps>): ReturnType<typeof createImportModule>;
}

/** The app with /api/import, its worker started, files under a temporary DATA_DIR. */
export async function createImportApp(extra: Partial<ImportModuleDeps> = {}): Promise<ImportTestApp> {
  const dir = await mkdtemp(join(tmpdir(), 'sb-import-'));
  const prefix = `sbtest-${randomBytes(4).toString('hex')}`;
  let module!: ReturnType<typeof createImportModule>;
  const made: ReturnType<typeof createImportModule>[] = [];
  const newModule = (more: Partial<ImportModuleDeps> = {}) => {
    const m = createImportModule({
      // A getter: the app (and its database) is built after the module's routes are handed to it.
      env: { get db() { return t.database.db; }, region: 'RU', utcOffset: '+03:00' },
      files: { dir, maxBytes: 50 * 1024 * 1024 },
      redisUrl: inject('redisUrl'),
      prefix,
      logger: createLogger('silent'),
      ...extra,
      ...more,
    });
    made.push(m);
    return m;
  };
  // The module needs the database the app creates: build the app with a route that defers to it.
  let t!: TestApp;
  module = newModule();
  t = await createTestApp({}, { importRoutes: module.routes });
  await module.start();
  const close = t.close;
  return Object.assign(t, {
    module,
    dir,
    prefix,
    newModule,
    async close() {
      for (const m of made) await m.close(true);
      await close();
      await rm(dir, { recursive: true, force: true });
    },
  });
}

export async function upload(t: TestApp, token: string, body: Buffer, query: string, contentType = 'text/csv') {
  return t.app.inject({ method: 'POST', url: `/api/import/clients?${query}`, headers: { ...bearer(token), 'content-type': contentType }, payload: body });
}

export { bearer, createUser };
