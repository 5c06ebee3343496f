import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientPhones } from '../../src/clients/clients.table.js';
import { innError } from '../../src/clients/inn.js';
import { departments } from '../../src/departments/departments.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

// Issue 11, item 1: the card's fields, contact persons, and the lists a director keeps.

type U = { id: number; token: string };
let t: TestApp;
let director: U;
let curator: U;
let manager: U;
let otherManager: U;
let seq = 0;

beforeAll(async () => {
  t = await createTestApp();
  const [dep] = await t.database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'q' }).returning();
  director = await createUser(t, { role: 'director' });
  curator = await createUser(t, { role: 'curator', departmentId: dep!.id });
  manager = await createUser(t, { role: 'manager', departmentId: dep!.id });
  otherManager = await createUser(t, { role: 'manager', departmentId: dep!.id });
});
afterAll(() => t.close());

const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, token: string, payload?: object) =>
  t.app.inject({ method, url, headers: bearer(token), ...(payload && { payload }) });
const freshPhone = () => `8 917 ${String(3000000 + ++seq)}`;
const listEntry = async (kind: 'segment' | 'source', name: string) => {
  const res = await api('POST', '/api/client-lists', director.token, { kind, name });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as number;
};

describe('INN checksum', () => {
  it('accepts real 10- and 12-digit INNs and refuses a changed digit', () => {
    expect(innError('7707083893')).toBeNull();
    expect(innError('500100732259')).toBeNull();
    expect(innError('7707083894')).toMatch(/checksum/);
    expect(innError('500100732250')).toMatch(/checksum/);
    expect(innError('77070838')).toMatch(/10 digits/);
    expect(innError('77070838a3')).toMatch(/digits only/);
  });
});

describe('a client with every field', () => {
  it('is created, read back, and changed field by field', async () => {
    const segment = await listEntry('segment', 'Construction');
    const sources = (await api('GET', '/api/client-lists?kind=source', manager.token)).json().items as Array<{ id: number; name: string }>;
    expect(sources.map((s) => s.name).sort()).toEqual(['call', 'import', 'manual', 'site']);
    const call = sources.find((s) => s.name === 'call')!.id;
    const res = await api('POST', '/api/clients', manager.token, {
      kind: 'company', name: 'Romashka', company: 'Romashka', legalName: 'OOO Romashka', inn: '7707 083 893', phones: [freshPhone()],
      emails: ['Office@romashka.example', 'office@romashka.example'], website: 'https://romashka.example', address: 'Moscow',
      segmentId: segment, sourceId: call, status: 'current', temperature: 'hot', important: true,
      nextContactAt: '2026-12-03T09:00:00.000Z', tags: ['wholesale', 'wholesale', 'vip'],
    });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().id;
    const card = (await api('GET', `/api/clients/${id}`, manager.token)).json();
    expect(card).toMatchObject({
      kind: 'company', legalName: 'OOO Romashka', inn: '7707083893', emails: ['Office@romashka.example'], website: 'https://romashka.example',
      address: 'Moscow', segmentId: segment, sourceId: call, status: 'current', temperature: 'hot', important: true,
      nextContactAt: '2026-12-03T09:00:00.000Z', tags: ['wholesale', 'vip'], ownerId: manager.id,
    });

    const patched = await api('PATCH', `/api/clients/${id}`, manager.token, {
      kind: 'person', inn: '500100732259', status: 'former', temperature: null, important: false, nextContactAt: null, tags: [], segmentId: null,
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ kind: 'person', inn: '500100732259', status: 'former', temperature: null, important: false, nextContactAt: null, tags: [], segmentId: null, sourceId: call });
    const found = (await api('GET', '/api/clients?status=former&tag=vip', manager.token)).json();
    expect(found.items).toEqual([]);
    expect((await api('GET', '/api/clients?status=former', manager.token)).json().items.map((c: { id: number }) => c.id)).toContain(id);
  });

  it('defaults a new client to a potential company', async () => {
    const res = await api('POST', '/api/clients', manager.token, { name: 'Plain', phones: [freshPhone()] });
    expect(res.json()).toMatchObject({ kind: 'company', status: 'potential', temperature: null, important: false, tags: [], emails: [], inn: null });
  });

  it('answers 400 naming the field for a bad INN, an unknown status, or an entry of the wrong list', async () => {
    const bad = await api('POST', '/api/clients', manager.token, { name: 'Bad', phones: [freshPhone()], inn: '7707083894' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^inn: checksum/);
    const short = await api('POST', '/api/clients', manager.token, { name: 'Bad', phones: [freshPhone()], inn: '12345' });
    expect(short.json().message).toMatch(/^inn: /);
    expect((await api('POST', '/api/clients', manager.token, { name: 'Bad', phones: [freshPhone()], status: 'lead' })).statusCode).toBe(400);
    const segment = await listEntry('segment', 'Retail');
    const wrong = await api('POST', '/api/clients', manager.token, { name: 'Bad', phones: [freshPhone()], sourceId: segment });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().message).toBe(`sourceId: ${segment} is not an entry of the source list`);
  });
});

describe('the lists', () => {
  it('are changed by a director only; an entry in use is renamed, not deleted', async () => {
    for (const who of [curator, manager]) {
      expect((await api('POST', '/api/client-lists', who.token, { kind: 'segment', name: 'Mine' })).statusCode).toBe(403);
    }
    const id = await listEntry('segment', 'Logistics');
    expect((await api('PATCH', `/api/client-lists/${id}`, curator.token, { name: 'X' })).statusCode).toBe(403);
    expect((await api('DELETE', `/api/client-lists/${id}`, manager.token)).statusCode).toBe(403);
    expect((await api('POST', '/api/client-lists', director.token, { kind: 'segment', name: 'Logistics' })).statusCode).toBe(409);

    const client = (await api('POST', '/api/clients', manager.token, { name: 'Trucks', phones: [freshPhone()], segmentId: id })).json();
    const renamed = await api('PATCH', `/api/client-lists/${id}`, director.token, { name: 'Transport' });
    expect(renamed.json()).toEqual({ id, kind: 'segment', name: 'Transport' });
    expect((await api('DELETE', `/api/client-lists/${id}`, director.token)).statusCode).toBe(409);
    await api('PATCH', `/api/clients/${client.id}`, manager.token, { segmentId: null });
    expect((await api('DELETE', `/api/client-lists/${id}`, director.token)).statusCode).toBe(204);
    expect((await api('GET', '/api/client-lists?kind=segment', manager.token)).json().items.map((e: { id: number }) => e.id)).not.toContain(id);
  });
});

describe('contact persons', () => {
  it('are added, listed, changed and removed with their numbers', async () => {
    const own = freshPhone();
    const client = (await api('POST', '/api/clients', manager.token, { name: 'Vector', phones: [own] })).json();
    const base = `/api/clients/${client.id}/contacts`;
    const made = await api('POST', base, manager.token, {
      name: 'Olga', position: 'Buyer', phones: ['+7 (926) 555-01-01'], emails: ['olga@vector.example'], decisionMaker: false,
    });
    expect(made.statusCode, made.body).toBe(201);
    const olga = made.json();
    expect(olga).toMatchObject({ clientId: client.id, name: 'Olga', position: 'Buyer', phones: [{ phone: '+79265550101', raw: '+7 (926) 555-01-01' }], decisionMaker: false });

    // The contact's number belongs to the client: searching by it finds the client, whose own list stays as it was.
    const byNumber = (await api('GET', '/api/clients?phone=89265550101', manager.token)).json();
    expect(byNumber.items.map((c: { id: number; phones: unknown[] }) => [c.id, c.phones.length])).toEqual([[client.id, 1]]);

    const patched = await api('PATCH', `${base}/${olga.id}`, manager.token, { position: 'Director', decisionMaker: true, phones: ['89265550102'] });
    expect(patched.json()).toMatchObject({ position: 'Director', decisionMaker: true, phones: [{ phone: '+79265550102' }] });
    expect((await api('GET', base, manager.token)).json().items).toHaveLength(1);
    const card = (await api('GET', `/api/clients/${client.id}`, manager.token)).json();
    expect(card.contacts).toMatchObject([{ id: olga.id, name: 'Olga', decisionMaker: true, emails: ['olga@vector.example'] }]);

    // Replacing the client's own numbers leaves the contact's alone.
    expect((await api('PATCH', `/api/clients/${client.id}`, manager.token, { phones: [freshPhone()] })).statusCode).toBe(200);
    expect((await api('GET', base, manager.token)).json().items[0].phones).toEqual([{ phone: '+79265550102', raw: '89265550102' }]);

    const clash = await api('POST', base, manager.token, { name: 'Twin', phones: ['89265550102'] });
    expect(clash.statusCode).toBe(409);

    expect((await api('DELETE', `${base}/${olga.id}`, manager.token)).statusCode).toBe(204);
    expect((await api('GET', base, manager.token)).json().items).toEqual([]);
    const left = await t.database.db.select().from(clientPhones).where(eq(clientPhones.clientId, client.id));
    expect(left.map((p) => p.contactId)).toEqual([null]);
  });

  it("of another manager's client are a 404, read or written", async () => {
    const client = (await api('POST', '/api/clients', otherManager.token, { name: 'Not yours', phones: [freshPhone()] })).json();
    const contact = (await api('POST', `/api/clients/${client.id}/contacts`, otherManager.token, { name: 'Ivan' })).json();
    expect((await api('GET', `/api/clients/${client.id}/contacts`, manager.token)).statusCode).toBe(404);
    expect((await api('POST', `/api/clients/${client.id}/contacts`, manager.token, { name: 'Spy' })).statusCode).toBe(404);
    expect((await api('PATCH', `/api/clients/${client.id}/contacts/${contact.id}`, manager.token, { name: 'Spy' })).statusCode).toBe(404);
    expect((await api('DELETE', `/api/clients/${client.id}/contacts/${contact.id}`, manager.token)).statusCode).toBe(404);
    // A contact id under the wrong client is not found either.
    const mine = (await api('POST', '/api/clients', manager.token, { name: 'Mine', phones: [freshPhone()] })).json();
    expect((await api('PATCH', `/api/clients/${mine.id}/contacts/${contact.id}`, manager.token, { name: 'Moved' })).statusCode).toBe(404);
    expect((await api('GET', `/api/clients/${client.id}/contacts`, curator.token)).statusCode).toBe(200);
  });
});
