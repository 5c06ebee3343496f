import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, eventually, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';
import { fixture } from './import-app.js';

// The import as the service runs it: routes and worker wired in runtime.ts, the progress frame
// through the event bus to the starter's WebSocket.
let database: TestDatabase;
let instance: TestInstance;
let dataDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(join(tmpdir(), 'sb-import-rt-'));
  instance = await startInstance(database, { DATA_DIR: dataDir }, uniquePrefix());
});
afterAll(async () => {
  await instance.runtime.stop();
  await database.drop();
  await rm(dataDir, { recursive: true, force: true });
});

it('uploads, runs in the worker and tells the screen over import.progress', async () => {
  const director = await insertUser(database, { role: 'director', name: 'Runtime Director' });
  const screen = await connectScreen(instance.wsUrl, director.token);
  const auth = { authorization: `Bearer ${director.token}` };
  const res = await fetch(`${instance.baseUrl}/api/import/clients?fileName=base.xlsx`, { method: 'POST', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: await fixture('clients-first-sheet.xlsx') });
  expect(res.status, await res.clone().text()).toBe(201);
  const { id } = (await res.json()) as { id: number };
  const run = await fetch(`${instance.baseUrl}/api/import/jobs/${id}/run`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
  expect(run.status).toBe(202);
  const done = await eventually(async () => {
    const job = (await (await fetch(`${instance.baseUrl}/api/import/jobs/${id}`, { headers: auth })).json()) as { status: string; counts: { created: number } };
    return job.status === 'done' ? job : null;
  }, 'the import to finish', 20_000);
  expect(done.counts.created).toBe(6);
  const frame = await eventually(async () => screen.frames.find((f) => f.type === 'import.progress' && f.status === 'done'), 'the done frame');
  expect(frame).toMatchObject({ importId: id, rowsDone: 9, rowsTotal: 9, created: 6 });
  screen.close();
});
