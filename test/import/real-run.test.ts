import { readdir } from 'node:fs/promises';
import { asc, count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { clientContacts, clientLists, clientPhones, clients } from '../../src/clients/clients.table.js';
import { createEventBus } from '../../src/events/event-bus.js';
import { changeHistory } from '../../src/history/history.table.js';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/logger.js';
import { clientNotes } from '../../src/notes/notes.table.js';
import { eventually } from '../support/test-runtime.js';
import { bearer, createImportApp, createUser, fixture, upload, type ImportTestApp } from './import-app.js';

let t: ImportTestApp;
let director: { id: number; token: string };
const frames: { to: unknown; frame: { type: string; importId: number; status: string; rowsDone: number } }[] = [];
let closeBus: () => Promise<void>;

beforeAll(async () => {
  const publisher = createRedis(inject('redisUrl'), 'command');
  const subscriber = createRedis(inject('redisUrl'), 'blocking');
  const bus = createEventBus({ publisher, subscriber, logger: createLogger('silent'), keyPrefix: `sbtest-import-${process.pid}` });
  bus.onMessage((m) => frames.push({ to: m.to, frame: JSON.parse(m.frame) }));
  closeBus = async () => {
    await bus.close();
    publisher.disconnect();
    subscriber.disconnect();
  };
  t = await createImportApp({ bus });
  director = await createUser(t, { role: 'director', name: 'Директор Главный' });
  await createUser(t, { role: 'manager', login: 'ivanov', name: 'Пётр Иванов', extension: '101' });
  await createUser(t, { role: 'manager', login: 'petrova', name: 'Анна Петрова', extension: '102' });
});
afterAll(async () => {
  await t.close();
  await closeBus();
});

const api = (method: 'GET' | 'POST', url: string, payload?: object) => t.app.inject({ method, url, headers: bearer(director.token), ...(payload && { payload }) });

/** The import once it has stopped running (done, failed or cancelled). */
export const finished = (id: number) =>
  eventually(async () => {
    const res = (await api('GET', `/api/import/jobs/${id}`)).json();
    return ['done', 'failed', 'cancelled'].includes(res.status) ? res : null;
  }, `import ${id} to finish`, 20_000);

async function importFile(body: Buffer, name: string, contentType = 'text/csv') {
  const checked = await upload(t, director.token, body, `fileName=${name}`, contentType);
  expect(checked.statusCode, checked.body).toBe(201);
  const id = checked.json().id as number;
  const run = await api('POST', `/api/import/jobs/${id}/run`, {});
  expect(run.statusCode, run.body).toBe(202);
  const done = await finished(id);
  return { check: checked.json(), done };
}

/** Everything an import may change, in a comparable form. */
async function snapshot() {
  const db = t.database.db;
  return {
    clients: await db.select().from(clients).orderBy(asc(clients.id)),
    phones: await db.select().from(clientPhones).orderBy(asc(clientPhones.id)),
    contacts: await db.select().from(clientContacts).orderBy(asc(clientContacts.id)),
    notes: await db.select().from(clientNotes).orderBy(asc(clientNotes.id)),
    lists: await db.select().from(clientLists).orderBy(asc(clientLists.id)),
    history: (await db.select({ n: count() }).from(changeHistory))[0]!.n,
  };
}

describe('real run', () => {
  it('creates the clients as a job, with progress frames and the history saying "import #N by <user>"', async () => {
    const { done } = await importFile(await fixture('clients-utf8-bom-comma.csv'), 'base.csv');
    expect(done.status).toBe('done');
    // The uploaded base is deleted once the run is over; the rejected rows stay to be fixed.
    const kept = await readdir(t.dir);
    expect(kept.filter((f) => f.startsWith(`${done.id}.`))).toEqual([`${done.id}.rejected.csv`]);
    expect((await api('GET', `/api/import/jobs/${done.id}/rejected`)).statusCode).toBe(200);
    expect(done.counts).toEqual({ created: 6, updated: 0, unchanged: 0, rejected: 2 });
    expect(done.progress).toMatchObject({ rowsDone: 9, rowsTotal: 9, etaSeconds: null });

    const db = t.database.db;
    const [romashka] = await db.select().from(clients).where(eq(clients.name, 'ООО "Ромашка"'));
    expect(romashka).toMatchObject({ inn: '7707083893', status: 'current', emails: ['office@romashka.example'] });
    expect(romashka!.nextContactAt?.toISOString()).toBe('2027-01-15T07:30:00.000Z');
    // The duplicate row further down added its contact to the same client.
    const contacts = await db.select({ name: clientContacts.name, position: clientContacts.position }).from(clientContacts).where(eq(clientContacts.clientId, romashka!.id)).orderBy(asc(clientContacts.id));
    expect(contacts).toEqual([{ name: 'Иван Петров', position: 'Директор' }, { name: 'Мария Кузнецова', position: 'Менеджер' }]);
    expect((await db.select({ text: clientNotes.text }).from(clientNotes).where(eq(clientNotes.clientId, romashka!.id))).map((n) => n.text)).toEqual(['Ключевой клиент']);

    const history = await api('GET', `/api/clients/${romashka!.id}/history`);
    expect(history.statusCode, history.body).toBe(200);
    const entries = history.json().items as { via: string; importId: number | null; actorId: number; actorName: string; table: string }[];
    expect(entries.length).toBeGreaterThan(0);
    for (const e of entries) expect(e).toMatchObject({ via: 'import', importId: done.id, actorId: director.id, actorName: 'Директор Главный' });
    expect(new Set(entries.map((e) => e.table))).toEqual(new Set(['clients', 'client_phones', 'client_contacts', 'client_notes']));

    const last = await eventually(async () => frames.filter((f) => f.frame.type === 'import.progress' && f.frame.importId === done.id && f.frame.status === 'done').at(-1), 'the last import.progress frame');
    expect(last).toMatchObject({ to: { userIds: [director.id] }, frame: { status: 'done', rowsDone: 9 } });
  });

  it('re-importing the same file changes nothing, history included (CSV in cp1251 and the XLSX of the same rows)', async () => {
    const before = await snapshot();
    for (const [name, type] of [['clients-utf8-bom-comma.csv', 'text/csv'], ['clients-cp1251-semicolon.csv', 'text/csv'], ['clients-first-sheet.xlsx', 'application/octet-stream']] as const) {
      const { check, done } = await importFile(await fixture(name), name, type);
      expect(check.report).toMatchObject({ clientsToCreate: 0, clientsToUpdate: 0, clientsUnchanged: 6 });
      expect(done.status).toBe('done');
      expect(done.counts).toMatchObject({ created: 0, updated: 0 });
      expect(await snapshot(), name).toEqual(before);
    }
  });

  it('a changed cell updates only that field, recorded as that import', async () => {
    const text = (await fixture('clients-utf8-bom-comma.csv')).toString('utf8').replace('Ключевой клиент', 'Ключевой клиент').replace('ИП Сидоров,+7(495)222-33-44 доб. 12,79035554436.0,,,,,Анна Петрова,потенциальный', 'ИП Сидоров,+7(495)222-33-44 доб. 12,79035554436.0,,,,,Анна Петрова,текущий');
    const { check, done } = await importFile(Buffer.from(text), 'changed.csv');
    expect(check.report).toMatchObject({ clientsToCreate: 0, clientsToUpdate: 1 });
    expect(done.counts).toMatchObject({ created: 0, updated: 1 });
    const changes = await t.database.db.select().from(changeHistory).where(eq(changeHistory.importId, done.id));
    expect(changes).toHaveLength(1);
    expect(changes[0]!.changes).toEqual({ status: { old: 'potential', new: 'current' } });
  });

  it('cancel stops after the current batch and keeps what was committed', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `Отмена ${i},8 917 ${String(1000000 + i).slice(1, 4)}-${String(1000000 + i).slice(4, 6)}-${String(1000000 + i).slice(6)}`);
    const checked = await upload(t, director.token, Buffer.from(['Название,Телефон', ...rows].join('\n')), 'fileName=cancel.csv');
    const id = checked.json().id;
    await t.module.stop();
    const m = t.newModule({ env: { db: t.database.db, region: 'RU', utcOffset: '+03:00', batchSize: 100 }, onBatch: async () => void (await api('POST', `/api/import/jobs/${id}/cancel`)) });
    await m.start();
    expect((await api('POST', `/api/import/jobs/${id}/run`, {})).statusCode).toBe(202);
    const job = await finished(id);
    expect(job.status).toBe('cancelled');
    expect(job.counts.created).toBe(100);
    expect((await readdir(t.dir)).filter((f) => f.startsWith(`${id}.`))).toEqual([`${id}.rejected.csv`]);
    expect((await t.database.db.select({ n: count() }).from(clients).where(sql`${clients.name} like 'Отмена %'`))[0]!.n).toBe(100);
    await m.stop();
    await t.module.start();
  });
});


describe('the list of imports', () => {
  it('shows a director every import, newest first, without the reports', async () => {
    const res = await api('GET', '/api/import/jobs?limit=2');
    expect(res.statusCode, res.body).toBe(200);
    const list = res.json() as { id: number; report: unknown; status: string }[];
    expect(list).toHaveLength(2);
    expect(list[0]!.id).toBeGreaterThan(list[1]!.id);
    expect(list.every((j) => j.report === null)).toBe(true);
  });
});
