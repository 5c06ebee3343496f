import { asc, count, eq } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientContacts, clientPhones, clients } from '../../src/clients/clients.table.js';
import { changeHistory } from '../../src/history/history.table.js';
import { clientNotes } from '../../src/notes/notes.table.js';
import { eventually } from '../support/test-runtime.js';
import { bearer, createImportApp, createUser, upload, type ImportTestApp } from './import-app.js';

// The changes to clients of the base are applied set-wise (one statement per table for the whole
// batch, issue 12): each client must still get exactly its own fields, and the history exactly
// one entry per changed row with only the fields that changed, as one statement per client gave.

let t: ImportTestApp;
let director: { id: number; token: string };

beforeAll(async () => {
  t = await createImportApp();
  director = await createUser(t, { role: 'director' });
});
afterAll(() => t.close());

const HEADER = 'Компания;Телефон;Моб.;E-mail;ИНН;Контактное лицо;Должность;Статус;Комментарий';
const BASE = [
  'Альфа;8 916 100-00-01;;alfa@example.com;;;;потенциальный;',
  'Бета;8 916 100-00-02;;;;;;текущий;',
  'Гамма;8 916 100-00-03;;;;Ольга Гамма;Бухгалтер;;',
  'Дельта;8 916 100-00-04;;;;Иван Дельта;Менеджер;;',
  'Эпсилон;8 916 100-00-05;;eps@example.com;;;;текущий;Старый комментарий',
];
// Альфа: status and a second e-mail; Бета: a second number; Гамма: a new contact and a comment;
// Дельта: its contact's position; Эпсилон: the same as before.
const CHANGES = [
  'Альфа;8 916 100-00-01;;alfa@example.com, sales@alfa.example;;;;текущий;',
  'Бета;8 916 100-00-02;8 903 200-00-02;;;;;текущий;',
  'Гамма;8 916 100-00-03;;;;Пётр Гамма;Директор;;Перезвонить в марте',
  'Дельта;8 916 100-00-04;;;;Иван Дельта;Директор;;',
  'Эпсилон;8 916 100-00-05;;eps@example.com;;;;текущий;Старый комментарий',
];

async function importRows(rows: string[], name: string) {
  const checked = await upload(t, director.token, Buffer.from([HEADER, ...rows].join('\n')), `fileName=${name}`);
  expect(checked.statusCode, checked.body).toBe(201);
  const id = checked.json().id as number;
  const run = await t.app.inject({ method: 'POST', url: `/api/import/jobs/${id}/run`, headers: bearer(director.token), payload: {} });
  expect(run.statusCode, run.body).toBe(202);
  return eventually(async () => {
    const res = (await t.app.inject({ method: 'GET', url: `/api/import/jobs/${id}`, headers: bearer(director.token) })).json();
    return ['done', 'failed', 'cancelled'].includes(res.status) ? res : null;
  }, `import ${id} to finish`, 20_000);
}

async function state() {
  const db = t.database.db;
  return {
    clients: await db.select().from(clients).orderBy(asc(clients.id)),
    phones: await db.select().from(clientPhones).orderBy(asc(clientPhones.id)),
    contacts: await db.select().from(clientContacts).orderBy(asc(clientContacts.id)),
    notes: await db.select().from(clientNotes).orderBy(asc(clientNotes.id)),
    history: (await db.select({ n: count() }).from(changeHistory))[0]!.n,
  };
}

it('updates many clients of the base in one batch, each with only its own changes, and says so in the history', async () => {
  const base = await importRows(BASE, 'base.csv');
  expect(base).toMatchObject({ status: 'done', counts: { created: 5, updated: 0, rejected: 0 } });
  const before = await state();
  const id = (name: string) => before.clients.find((c) => c.name === name)!.id;

  const done = await importRows(CHANGES, 'changes.csv');
  expect(done).toMatchObject({ status: 'done', counts: { created: 0, updated: 4, unchanged: 1, rejected: 0 } });
  const after = await state();

  // Each client has its change and keeps everything else (coalesce keeps the fields left alone).
  const byName = new Map(after.clients.map((c) => [c.name, c]));
  const was = new Map(before.clients.map((c) => [c.name, c]));
  expect(byName.get('Альфа')).toMatchObject({ status: 'current', emails: ['alfa@example.com', 'sales@alfa.example'] });
  for (const name of ['Бета', 'Гамма', 'Дельта', 'Эпсилон']) {
    const { updatedAt: _a, ...now } = byName.get(name)!;
    const { updatedAt: _b, ...then } = was.get(name)!;
    expect(now, name).toEqual(then);
  }
  const { updatedAt: _c, status: _s, emails: _e, ...alfaNow } = byName.get('Альфа')!;
  const { updatedAt: _d, status: _t, emails: _f, ...alfaThen } = was.get('Альфа')!;
  expect(alfaNow).toEqual(alfaThen);
  expect(after.phones.filter((p) => p.clientId === id('Бета')).map((p) => p.phone)).toEqual(['+79161000002', '+79032000002']);
  expect(after.contacts.filter((c) => c.clientId === id('Гамма')).map((c) => [c.name, c.position])).toEqual([['Ольга Гамма', 'Бухгалтер'], ['Пётр Гамма', 'Директор']]);
  expect(after.contacts.filter((c) => c.clientId === id('Дельта')).map((c) => [c.name, c.position])).toEqual([['Иван Дельта', 'Директор']]);
  expect(after.notes.filter((n) => n.clientId === id('Гамма')).map((n) => n.text)).toEqual(['Перезвонить в марте']);
  expect(after.notes.filter((n) => n.clientId === id('Эпсилон')).map((n) => n.text)).toEqual(['Старый комментарий']);

  // One history entry per changed row, with only the fields that changed, as this import.
  const entries = await t.database.db.select().from(changeHistory).where(eq(changeHistory.importId, done.id)).orderBy(asc(changeHistory.id));
  for (const e of entries) expect(e).toMatchObject({ actorId: director.id, via: 'import' });
  const seen = entries.map((e) => ({ table: e.tableName, op: e.op, client: e.clientId, changes: e.changes as Record<string, unknown> }));
  const delta = after.contacts.find((c) => c.clientId === id('Дельта'))!;
  expect(seen.filter((e) => e.table === 'clients')).toEqual([
    { table: 'clients', op: 'update', client: id('Альфа'), changes: { status: { old: 'potential', new: 'current' }, emails: { old: ['alfa@example.com'], new: ['alfa@example.com', 'sales@alfa.example'] } } },
  ]);
  expect(seen.filter((e) => e.table === 'client_phones')).toEqual([
    { table: 'client_phones', op: 'insert', client: id('Бета'), changes: expect.objectContaining({ phone: { new: '+79032000002' }, client_id: { new: id('Бета') } }) },
  ]);
  expect(seen.filter((e) => e.table === 'client_contacts')).toEqual([
    { table: 'client_contacts', op: 'insert', client: id('Гамма'), changes: expect.objectContaining({ name: { new: 'Пётр Гамма' }, position: { new: 'Директор' } }) },
    { table: 'client_contacts', op: 'update', client: id('Дельта'), changes: { position: { old: 'Менеджер', new: 'Директор' } } },
  ]);
  expect(entries.find((e) => e.tableName === 'client_contacts' && e.op === 'update')!.rowId).toBe(String(delta.id));
  expect(seen.filter((e) => e.table === 'client_notes')).toEqual([
    { table: 'client_notes', op: 'insert', client: id('Гамма'), changes: expect.objectContaining({ text: { new: 'Перезвонить в марте' } }) },
  ]);
  expect(entries).toHaveLength(5);

  // The same file again: nothing to change, nothing written, history included.
  const again = await importRows(CHANGES, 'changes-again.csv');
  expect(again).toMatchObject({ status: 'done', counts: { created: 0, updated: 0, unchanged: 5 } });
  expect(await state()).toEqual(after);
});
