import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clients } from '../../src/clients/clients.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { bearer, createImportApp, createUser, fixture, upload, type ImportTestApp } from './import-app.js';

let t: ImportTestApp;
let director: { id: number; token: string };
let ivanov: { id: number };
let petrova: { id: number };

beforeAll(async () => {
  t = await createImportApp();
  const [dep] = await t.database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'q' }).returning();
  director = await createUser(t, { role: 'director' });
  ivanov = await createUser(t, { role: 'manager', login: 'ivanov', name: 'Пётр Иванов', extension: '101', departmentId: dep!.id });
  petrova = await createUser(t, { role: 'manager', login: 'petrova', name: 'Анна Петрова', extension: '102', departmentId: dep!.id });
});
afterAll(() => t.close());

const FILES = [
  { name: 'clients-utf8-bom-comma.csv', format: 'csv', encoding: 'utf-8', delimiter: ',' },
  { name: 'clients-cp1251-semicolon.csv', format: 'csv', encoding: 'windows-1251', delimiter: ';' },
  { name: 'clients-utf8-tab.csv', format: 'csv', encoding: 'utf-8', delimiter: '\t' },
  { name: 'clients.xlsx', format: 'xlsx', encoding: null, delimiter: null, sheet: 'Клиенты' },
  { name: 'clients-first-sheet.xlsx', format: 'xlsx', encoding: null, delimiter: null },
] as const;

describe('dry run', () => {
  it.each(FILES)('reads $name: detection, mapping, phones, duplicates, rejections', async (f) => {
    const query = `fileName=${encodeURIComponent(f.name)}${'sheet' in f ? `&sheet=${encodeURIComponent(f.sheet)}` : ''}`;
    const res = await upload(t, director.token, await fixture(f.name), query, f.format === 'xlsx' ? 'application/octet-stream' : 'text/csv');
    expect(res.statusCode, res.body).toBe(201);
    const job = res.json();
    expect({ format: job.format, encoding: job.encoding, delimiter: job.delimiter }).toEqual({ format: f.format, encoding: f.encoding, delimiter: f.delimiter });
    expect(job.status).toBe('checked');
    expect(job.mapping.map((m: { field: string | null }) => m.field)).toEqual([
      'name', 'phone', 'phone', 'email', 'inn', 'contact', 'position', 'owner', 'status', 'segment', 'comment', 'nextContactAt',
    ]);
    const r = job.report;
    expect(r.rowsRead).toBe(9);
    // Rejected: "нет телефона", a bad INN checksum. Created: the rest but the duplicate of Ромашка.
    expect(r.rowsRejected).toBe(2);
    expect(r.badPhones.items).toEqual([{ row: expect.any(Number), column: 'Телефон', value: 'нет телефона', reason: expect.stringContaining('not a phone number') }]);
    expect(r.problems.items.map((p: { column: string }) => p.column)).toEqual(['ИНН']);
    expect(r.clientsToCreate).toBe(6);
    expect(r.duplicatesInFile).toBe(1);
    expect(r.clientsToUpdate).toBe(0);
    expect(r.unknownOwners).toEqual([{ value: 'Кто-то Другой', rows: 1 }]);
    expect(r.newSegments.sort()).toEqual(['Опт', 'Розница']);
    const byName = new Map(r.sample.filter((s: { client: unknown }) => s.client).map((s: { client: { name: string } }) => [s.client.name, s.client]));
    expect(byName.get('ООО "Ромашка"')).toMatchObject({ phones: ['+79161234567'], inn: '7707083893', ownerId: ivanov.id, status: 'current', contact: 'Иван Петров', nextContactAt: '2027-01-15T07:30:00.000Z' });
    expect(byName.get('ИП Сидоров')).toMatchObject({ phones: ['+74952223344', '+79035554436'], ownerId: petrova.id, status: 'potential' });
    expect(byName.get('Альфа; "Бета"')).toMatchObject({ phones: ['+78125550102', '+79210001122'], emails: ['a@alpha.example', 'b@alpha.example'], ownerId: petrova.id });
    expect(byName.get('Частное Лицо')).toMatchObject({ phones: [], contact: null });
    // Nothing is written by a dry run.
    expect(await t.database.db.$count(clients)).toBe(0);

    const rejected = await t.app.inject({ method: 'GET', url: `/api/import/jobs/${job.id}/rejected`, headers: bearer(director.token) });
    expect(rejected.statusCode).toBe(200);
    const lines = rejected.body.replace(/^\ufeff/, '').trim().split('\r\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('Причина / Reason');
    expect(lines[1]).toContain('нет телефона');
    expect(lines[2]).toContain('неверный ИНН');
  });

  it('refuses managers, a missing sheet and a file that is not a table', async () => {
    const manager = await createUser(t, { role: 'manager' });
    expect((await upload(t, manager.token, await fixture('clients-utf8-tab.csv'), 'fileName=a.csv')).statusCode).toBe(403);
    const missing = await upload(t, director.token, await fixture('clients.xlsx'), 'fileName=a.xlsx&sheet=Nope', 'application/octet-stream');
    expect(missing.statusCode, missing.body).toBe(400);
    expect(missing.json().message).toContain('Nope');
    const broken = await upload(t, director.token, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100, 7)]), 'fileName=b.xlsx', 'application/octet-stream');
    expect(broken.statusCode, broken.body).toBe(400);
  });
});

describe('a curator', () => {
  it('imports into their department: owners elsewhere and clients they cannot see are rejected', async () => {
    const [a] = await t.database.db.insert(departments).values({ name: 'A', lineKind: 'queue', lineTarget: 'qa' }).returning();
    const [b] = await t.database.db.insert(departments).values({ name: 'B', lineKind: 'queue', lineTarget: 'qb' }).returning();
    const curator = await createUser(t, { role: 'curator', departmentId: a!.id });
    await createUser(t, { role: 'manager', login: 'mine-a', departmentId: a!.id });
    const other = await createUser(t, { role: 'manager', login: 'other-b', departmentId: b!.id });
    await t.database.db.insert(clients).values({ name: 'Чужой клиент', ownerId: other.id });
    const created = await t.app.inject({ method: 'POST', url: '/api/clients', headers: bearer(director.token), payload: { name: 'Клиент отдела Б', phones: ['+7 916 777-00-01'], ownerId: other.id } });
    expect(created.statusCode, created.body).toBe(201);
    const csv = ['Название;Телефон;Менеджер', 'Свой;8 916 777-00-02;mine-a', 'Чужой менеджер;8 916 777-00-03;other-b', 'По номеру чужой;8 916 777-00-01;', 'Без менеджера;8 916 777-00-04;'].join('\n');
    const res = await upload(t, curator.token, Buffer.from(csv), 'fileName=dep.csv');
    expect(res.statusCode, res.body).toBe(201);
    const job = res.json();
    expect(job.defaultOwnerId).toBe(curator.id);
    expect(job.report).toMatchObject({ rowsRead: 4, rowsRejected: 2, clientsToCreate: 2 });
    expect(job.report.problems.items.map((p: { reason: string }) => p.reason)).toEqual([
      expect.stringContaining('not in your department'),
      expect.stringContaining('cannot see'),
    ]);
    expect((await upload(t, curator.token, Buffer.from(csv), `fileName=dep.csv&ownerId=${other.id}`)).statusCode).toBe(403);
    // Imports are the starter's: another curator does not see this one.
    const stranger = await createUser(t, { role: 'curator', departmentId: b!.id });
    expect((await t.app.inject({ method: 'GET', url: `/api/import/jobs/${job.id}`, headers: bearer(stranger.token) })).statusCode).toBe(404);
  });
});
