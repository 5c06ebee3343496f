import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { dealFiles } from '../../src/deals/deals.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

type U = { id: number; token: string };
let t: TestApp;
let dataDir: string;
let manager1: U;
let manager2: U;
let assistant1: U;
let curator2: U;
let dealId: number;
const MAX = 64 * 1024;

const filesOnDisk = async () => (await readdir(path.join(dataDir, 'deal-files')).catch(() => [])).filter((f) => !f.startsWith('.'));

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'sb-deal-files-'));
  t = await createTestApp({ DATA_DIR: dataDir, DEAL_FILES_MAX_BYTES: String(MAX) });
  const [dep1] = await t.database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'q' }).returning();
  const [dep2] = await t.database.db.insert(departments).values({ name: 'Other', lineKind: 'queue', lineTarget: 'q' }).returning();
  manager1 = await createUser(t, { role: 'manager', departmentId: dep1!.id });
  manager2 = await createUser(t, { role: 'manager', departmentId: dep1!.id });
  curator2 = await createUser(t, { role: 'curator', departmentId: dep2!.id });
  assistant1 = await createUser(t, { role: 'assistant', departmentId: dep1!.id, managerId: manager1.id });
  const client = (await t.app.inject({ method: 'POST', url: '/api/clients', headers: bearer(manager1.token), payload: { name: 'Romashka', phones: ['+79165550101'] } })).json();
  dealId = (await t.app.inject({ method: 'POST', url: '/api/deals', headers: bearer(manager1.token), payload: { clientId: client.id, title: 'Pallets' } })).json().id;
});
afterAll(async () => {
  await t.close();
  await rm(dataDir, { recursive: true, force: true });
});

const upload = (token: string, body: Buffer | Readable, type: string, name = 'offer.pdf', id = dealId) =>
  t.app.inject({ method: 'POST', url: `/api/deals/${id}/files?name=${encodeURIComponent(name)}`, headers: { ...bearer(token), 'content-type': type }, payload: body });

describe('files attached to deals', () => {
  it('stores an upload and streams the same bytes back, with its name and type', async () => {
    const bytes = randomBytes(40_000);
    const res = await upload(assistant1.token, bytes, 'application/pdf', 'Договор №5.pdf');
    expect(res.statusCode, res.body).toBe(201);
    const file = res.json();
    expect(file).toMatchObject({ dealId, fileName: 'Договор №5.pdf', contentType: 'application/pdf', size: 40_000, uploadedById: assistant1.id });

    const got = await t.app.inject({ method: 'GET', url: `/api/deals/${dealId}/files/${file.id}`, headers: bearer(manager1.token) });
    expect(got.statusCode).toBe(200);
    expect(got.rawPayload.equals(bytes)).toBe(true);
    expect(got.headers['content-type']).toBe('application/pdf');
    expect(got.headers['content-length']).toBe('40000');
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['content-disposition']).toBe(`attachment; filename="_______ _5.pdf"; filename*=UTF-8''${encodeURIComponent('Договор №5.pdf')}`);
    const audit = await t.database.db.select().from(auditLog).where(eq(auditLog.action, 'deal.file.download'));
    expect(audit).toEqual([expect.objectContaining({ actorId: manager1.id, entityId: String(dealId), details: { fileId: file.id } })]);

    const list = (await t.app.inject({ method: 'GET', url: `/api/deals/${dealId}/files`, headers: bearer(manager1.token) })).json();
    expect(list.map((f: { id: number }) => f.id)).toContain(file.id);
  });

  it('refuses a type outside the allow-list (415) and a file over the limit (413), storing nothing', async () => {
    const before = await filesOnDisk();
    const rows = await t.database.db.$count(dealFiles);
    const exe = await upload(manager1.token, Buffer.from('MZ'), 'application/x-msdownload', 'a.exe');
    expect(exe.statusCode).toBe(415);
    const html = await upload(manager1.token, Buffer.from('<script>'), 'text/html', 'a.html');
    expect(html.statusCode).toBe(415);
    // Declared too long: refused before the body is read.
    const big = await upload(manager1.token, randomBytes(MAX + 1), 'image/png', 'big.png');
    expect(big.statusCode).toBe(413);
    // Not declared (a stream): stopped by the storage's limiter while it streams.
    const streamed = await upload(manager1.token, Readable.from(Array.from({ length: 20 }, () => randomBytes(4096))), 'image/png', 'big.png');
    expect(streamed.statusCode).toBe(413);
    expect(await filesOnDisk()).toEqual(before);
    expect(await t.database.db.$count(dealFiles)).toBe(rows);
    // Exactly at the limit is fine.
    expect((await upload(manager1.token, randomBytes(MAX), 'image/png', 'max.png')).statusCode).toBe(201);
  });

  it("keeps a deal's files from those who may not see its client: 404 on every route", async () => {
    const file = (await upload(manager1.token, Buffer.from('hello'), 'text/plain', 'note.txt')).json();
    for (const who of [manager2, curator2]) {
      expect((await t.app.inject({ method: 'GET', url: `/api/deals/${dealId}/files`, headers: bearer(who.token) })).statusCode).toBe(404);
      const download = await t.app.inject({ method: 'GET', url: `/api/deals/${dealId}/files/${file.id}`, headers: bearer(who.token) });
      expect(download.statusCode).toBe(404);
      expect(download.body).not.toContain('hello');
      expect((await t.app.inject({ method: 'DELETE', url: `/api/deals/${dealId}/files/${file.id}`, headers: bearer(who.token) })).statusCode).toBe(404);
      expect((await upload(who.token, Buffer.from('x'), 'text/plain')).statusCode).toBe(404);
    }
    // A file id under another deal's path is not found either.
    expect((await t.app.inject({ method: 'GET', url: `/api/deals/${dealId + 1}/files/${file.id}`, headers: bearer(manager1.token) })).statusCode).toBe(404);
  });

  it('deletes the row and the stored object', async () => {
    const file = (await upload(manager1.token, Buffer.from('bye'), 'text/csv', 'a.csv')).json();
    const [row] = await t.database.db.select().from(dealFiles).where(eq(dealFiles.id, file.id));
    expect(await filesOnDisk()).toContain(row!.storageKey);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/deals/${dealId}/files/${file.id}`, headers: bearer(assistant1.token) })).statusCode).toBe(204);
    expect(await filesOnDisk()).not.toContain(row!.storageKey);
    expect((await t.app.inject({ method: 'GET', url: `/api/deals/${dealId}/files/${file.id}`, headers: bearer(manager1.token) })).statusCode).toBe(404);
  });

  it('leaves JSON parsing of the other deal routes alone', async () => {
    const res = await t.app.inject({ method: 'PATCH', url: `/api/deals/${dealId}`, headers: bearer(manager1.token), payload: { important: true } });
    expect(res.statusCode, res.body).toBe(200);
  });
});
