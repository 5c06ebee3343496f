import { count, eq, and, isNotNull } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { changeHistory } from '../../src/history/history.table.js';
import { eventually } from '../support/test-runtime.js';
import { bearer, createImportApp, createUser, upload, type ImportTestApp } from './import-app.js';

let t: ImportTestApp;
let director: { id: number; token: string };

beforeAll(async () => {
  // Every worker of the queue checks for stalled jobs this often (BullMQ lets one check run per
  // interval across workers), and a dead worker's lock lapses after a second.
  t = await createImportApp({ stalledIntervalMs: 300, lockDurationMs: 1000 });
  director = await createUser(t, { role: 'director' });
});
afterAll(() => t.close());

const ROWS = 600;
const phone = (i: number) => `8 926 ${String(i).padStart(7, '0').replace(/^(\d{3})(\d{2})(\d{2})$/, '$1-$2-$3')}`;

it('a worker killed mid-file: the job is taken over and resumes after the last committed batch, without duplicates', async () => {
  const csv = ['Компания;Телефон', ...Array.from({ length: ROWS }, (_, i) => `Рестарт ${i};${phone(i + 1)}`)].join('\n');
  const checked = await upload(t, director.token, Buffer.from(csv), 'fileName=restart.csv');
  expect(checked.statusCode, checked.body).toBe(201);
  const id = checked.json().id as number;

  await t.module.stop();
  const env = { db: t.database.db, region: 'RU' as const, utcOffset: '+03:00', batchSize: 100 };
  let reached!: () => void;
  const firstBatch = new Promise<void>((r) => (reached = r));
  // The first instance dies after its second batch committed: its hook never returns.
  const first = t.newModule({ env, onBatch: (_id, lastRow) => (lastRow > 200 ? (reached(), new Promise<void>(() => {})) : undefined) });
  await first.start();
  expect((await t.app.inject({ method: 'POST', url: `/api/import/jobs/${id}/run`, headers: bearer(director.token), payload: {} })).statusCode).toBe(202);
  await firstBatch;
  await first.stop(true);
  const [mid] = await t.database.db.select({ n: count() }).from(clients);
  expect(mid!.n).toBe(200);

  const second = t.newModule({ env });
  await second.start();
  const job = await eventually(async () => {
    const res = (await t.app.inject({ method: 'GET', url: `/api/import/jobs/${id}`, headers: bearer(director.token) })).json();
    return res.status === 'done' || res.status === 'failed' ? res : null;
  }, 'the import to finish on the second worker', 20_000);
  expect(job.status).toBe('done');
  expect(job.counts).toMatchObject({ created: ROWS, rejected: 0 });
  expect(job.progress.rowsDone).toBe(ROWS);
  const db = t.database.db;
  expect((await db.select({ n: count() }).from(clients))[0]!.n).toBe(ROWS);
  expect((await db.select({ n: count() }).from(clientPhones))[0]!.n).toBe(ROWS);
  const inserts = await db.select({ n: count() }).from(changeHistory).where(and(eq(changeHistory.tableName, 'clients'), eq(changeHistory.op, 'insert'), isNotNull(changeHistory.importId)));
  expect(inserts[0]!.n).toBe(ROWS);
  await second.stop();
});
