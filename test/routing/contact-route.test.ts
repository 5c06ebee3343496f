import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { parseLikeAsterisk } from '../support/asterisk-hash.js';
import { bearer, createTestApp, createUser, TEST_PBX_TOKEN, type TestApp } from '../support/test-app.js';

// Issue 11: a contact person's phone routes like the client's, through the in-memory routing
// directory kept current by the database's change notifications.

let t: TestApp;
let director: { id: number; token: string };
let anna: { id: number; token: string };

async function route(caller: string, linkedid: string) {
  const qs = `format=hash&caller=${encodeURIComponent(caller)}&did=74951110001&uniqueid=${linkedid}&linkedid=${linkedid}&step=1`;
  const res = await t.app.inject({ method: 'GET', url: `/pbx/route?${qs}`, headers: { 'x-switchboard-token': TEST_PBX_TOKEN } });
  expect(res.statusCode).toBe(200);
  return parseLikeAsterisk(res.body);
}
const api = (method: 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) =>
  t.app.inject({ method, url, headers: bearer(director.token), ...(payload && { payload }) });

beforeAll(async () => {
  t = await createTestApp({ DEFAULT_DEPARTMENT: 'Sales' });
  const [sales] = await t.database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'sales' }).returning();
  await t.database.db.insert(departmentDids).values({ did: '+74951110001', departmentId: sales!.id });
  director = await createUser(t, { role: 'director' });
  anna = await createUser(t, { role: 'manager', departmentId: sales!.id, extension: '101', presence: 'available' });
});
afterAll(() => t?.close());

describe("a contact person's phone", () => {
  it("rings the client's owner, follows a change of number, and stops when the contact is removed", async () => {
    const client = (await api('POST', '/api/clients', { name: 'Vector', ownerId: anna.id, phones: ['+74957770000'] })).json();
    expect((await route('89265550101', 'ct-0')).reason).toBe('unknown_caller');

    const made = await api('POST', `/api/clients/${client.id}/contacts`, { name: 'Olga', phones: ['8 926 555-01-01'] });
    expect(made.statusCode, made.body).toBe(201);
    expect(await route('89265550101', 'ct-1')).toMatchObject({ action: 'dial', dial: 'PJSIP/101', reason: 'owner', client_id: String(client.id), manager_id: String(anna.id) });

    await api('PATCH', `/api/clients/${client.id}/contacts/${made.json().id}`, { phones: ['8 926 555-01-02'] });
    expect((await route('89265550101', 'ct-2')).reason).toBe('unknown_caller');
    expect(await route('89265550102', 'ct-3')).toMatchObject({ reason: 'owner', client_id: String(client.id) });

    expect((await api('DELETE', `/api/clients/${client.id}/contacts/${made.json().id}`)).statusCode).toBe(204);
    expect((await route('89265550102', 'ct-4')).reason).toBe('unknown_caller');
  });
});
