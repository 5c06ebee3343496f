import { asc, count, eq } from 'drizzle-orm';
import ExcelJS from '../../src/import/exceljs.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { clientContacts, clientLists, clientPhones, clients } from '../../src/clients/clients.table.js';
import { changeHistory } from '../../src/history/history.table.js';
import { clientNotes } from '../../src/notes/notes.table.js';
import { eventually } from '../support/test-runtime.js';
import { bearer, createImportApp, createUser, fixture, upload, type ImportTestApp } from './import-app.js';

let t: ImportTestApp;
let director: { id: number; token: string; login: string };

beforeAll(async () => {
  t = await createImportApp();
  director = await createUser(t, { role: 'director', name: 'Елена Директорова' });
  await createUser(t, { role: 'manager', login: 'ivanov', name: 'Пётр Иванов', extension: '101' });
  await createUser(t, { role: 'manager', login: 'petrova', name: 'Анна Петрова', extension: '102' });
});
afterAll(() => t.close());

const api = (method: 'GET' | 'POST', url: string, payload?: object) => t.app.inject({ method, url, headers: bearer(director.token), ...(payload && { payload }) });

async function importFile(body: Buffer, name: string, contentType: string) {
  const checked = await upload(t, director.token, body, `fileName=${name}`, contentType);
  expect(checked.statusCode, checked.body).toBe(201);
  const id = checked.json().id as number;
  expect((await api('POST', `/api/import/jobs/${id}/run`, {})).statusCode).toBe(202);
  const done = await eventually(async () => {
    const res = (await api('GET', `/api/import/jobs/${id}`)).json();
    return ['done', 'failed', 'cancelled'].includes(res.status) ? res : null;
  }, `import ${id}`, 20_000);
  return { check: checked.json(), done };
}

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

describe('export', () => {
  beforeAll(async () => {
    await importFile(await fixture('clients-utf8-bom-comma.csv'), 'base.csv', 'text/csv');
    // A client typed in the console: a date with seconds, a source, a website.
    const [source] = await t.database.db.insert(clientLists).values({ kind: 'source', name: 'Сайт' }).returning();
    const res = await api('POST', '/api/clients', {
      name: 'Вручную; с "кавычками"', phones: ['+7 999 123 45 67'], website: 'https://hand.example', address: 'Москва, Тверская 1', sourceId: source!.id, nextContactAt: '2027-03-01T09:15:30.000Z',
    });
    expect(res.statusCode, res.body).toBe(201);
  });

  it.each([
    ['csv', 'text/csv'],
    ['xlsx', 'application/octet-stream'],
  ] as const)('%s: export → import changes nothing, and the export is audited and signed', async (format, type) => {
    const before = await snapshot();
    const res = await api('GET', `/api/export/clients?format=${format}`);
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    expect(res.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="clients-\\d{12}\\.${format}"$`));
    const body = res.rawPayload;
    if (format === 'csv') {
      const lines = body.toString('utf8').replace(/^\ufeff/, '').split('\r\n');
      expect(lines[0]).toContain(`Елена Директорова (${director.login})`);
      expect(lines[1]).toBe('Название;Телефон;E-mail;ИНН;Контактное лицо;Должность;Менеджер;Статус;Сегмент;Источник;Сайт;Адрес;Следующий звонок');
      expect(lines.filter((l) => l !== '')).toHaveLength(2 + 7);
    } else {
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(body as unknown as ArrayBuffer);
      expect(wb.creator).toBe(`Елена Директорова (${director.login})`);
      expect(wb.worksheets[0]!.rowCount).toBe(1 + 7);
    }
    const audits = await t.database.db.select().from(auditLog).where(eq(auditLog.action, 'client.export'));
    expect(audits.at(-1)).toMatchObject({ actorId: director.id, details: { format, rows: 7 } });

    const { check, done } = await importFile(body, `export.${format}`, type);
    expect(check.report).toMatchObject({ rowsRead: 7, rowsRejected: 0, clientsToCreate: 0, clientsToUpdate: 0, clientsUnchanged: 7 });
    expect(done.counts).toMatchObject({ created: 0, updated: 0, unchanged: 7, rejected: 0 });
    expect(await snapshot()).toEqual(before);
  });

  it('is for directors only', async () => {
    const curator = await createUser(t, { role: 'curator' });
    expect((await t.app.inject({ method: 'GET', url: '/api/export/clients', headers: bearer(curator.token) })).statusCode).toBe(403);
  });
});

describe('the OpenAPI document', () => {
  it('documents the import and export operations for the console', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths as Record<string, Record<string, { tags?: string[]; summary?: string; responses: Record<string, unknown> }>>;
    const ours = ['post /api/import/clients', 'get /api/import/jobs', 'get /api/import/jobs/{id}', 'post /api/import/jobs/{id}/check', 'post /api/import/jobs/{id}/run', 'post /api/import/jobs/{id}/cancel', 'get /api/import/jobs/{id}/rejected', 'get /api/export/clients'];
    for (const at of ours) {
      const [method, path] = at.split(' ') as [string, string];
      const op = paths[path]?.[method];
      expect(op, at).toBeDefined();
      expect(op!.tags, at).toEqual(['import']);
      expect(op!.summary, at).toBeTruthy();
      expect(Object.keys(op!.responses), at).toEqual(expect.arrayContaining(['401', '403']));
    }
  });
});
