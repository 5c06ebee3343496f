import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientContacts, clientPhones, clients } from '../../src/clients/clients.table.js';
import { deals } from '../../src/deals/deals.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { changeHistory } from '../../src/history/history.table.js';
import { leads } from '../../src/intake/intake.table.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// Leads from the websites, end to end on two instances sharing PostgreSQL and Redis: a site key
// made by the director admits a form; a known phone becomes the owner's deal at once; an unknown
// one waits for the department's curator, whose assignment reaches the manager's screen even
// when that screen is connected to the other instance.

const LIMIT = 5;
let database: TestDatabase;
let a: TestInstance;
let b: TestInstance;
type Person = { id: number; token: string };
let sales: number;
let service: number;
let director: Person;
let salesCurator: Person;
let serviceCurator: Person;
let anna: Person;
let boris: Person;
let vera: Person;
let knownClientId: number;

const json = async (res: Response) => (await res.json()) as Record<string, any>;
const call = (base: string, token: string, method: string, path: string, body?: object) =>
  fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body && { 'content-type': 'application/json' }) },
    ...(body && { body: JSON.stringify(body) }),
  });
const postLead = (key: string, body: object, headers: Record<string, string> = {}) =>
  fetch(`${a.baseUrl}/api/intake/leads?key=${encodeURIComponent(key)}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

let siteSeq = 0;
/** A site of its own per test, so the per-site rate limit of one test never trips another. */
async function newSite(departmentId: number, origin = 'https://shop.example.ru'): Promise<{ id: number; key: string }> {
  const res = await call(a.baseUrl, director.token, 'POST', '/api/intake/sites', { name: `Shop ${++siteSeq}`, departmentId, allowedOrigin: origin });
  expect(res.status).toBe(201);
  const body = await json(res);
  return { id: body.id, key: body.key };
}
const leadCount = async () => (await database.db.select().from(leads)).length;

beforeAll(async () => {
  database = await createTestDatabase();
  const [s] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'sales' }).returning();
  const [v] = await database.db.insert(departments).values({ name: 'Service', lineKind: 'queue', lineTarget: 'service' }).returning();
  sales = s!.id;
  service = v!.id;
  director = await insertUser(database, { role: 'director', name: 'dora' });
  salesCurator = await insertUser(database, { role: 'curator', name: 'carl', departmentId: sales });
  serviceCurator = await insertUser(database, { role: 'curator', name: 'cleo', departmentId: service });
  anna = await insertUser(database, { role: 'manager', name: 'anna', departmentId: sales });
  boris = await insertUser(database, { role: 'manager', name: 'boris', departmentId: sales });
  vera = await insertUser(database, { role: 'manager', name: 'vera', departmentId: service });
  // Anna's client, known by its contact's number only: contacts' phones match like the client's.
  const [client] = await database.db.insert(clients).values({ name: 'ООО Ромашка', ownerId: anna.id }).returning();
  const [contact] = await database.db.insert(clientContacts).values({ clientId: client!.id, name: 'Ivan' }).returning();
  await database.db.insert(clientPhones).values({ clientId: client!.id, contactId: contact!.id, phone: '+79165551122', raw: '+7 916 555-11-22' });
  knownClientId = client!.id;
  const prefix = uniquePrefix();
  const env = { INTAKE_LEADS_PER_MINUTE: String(LIMIT) };
  a = await startInstance(database, env, prefix);
  b = await startInstance(database, env, prefix);
});

afterAll(async () => {
  await b?.runtime.stop();
  await a?.runtime.stop();
  await database?.drop();
});

describe('sites', () => {
  it('shows the key once, keeps only its hash, and is the director\'s alone', async () => {
    const site = await newSite(sales);
    expect(site.key).toMatch(/^isk_/);
    const list = await json(await call(a.baseUrl, director.token, 'GET', '/api/intake/sites'));
    const listed = (list as unknown as Array<Record<string, unknown>>).find((s) => s.id === site.id)!;
    expect(listed).toMatchObject({ departmentId: sales, allowedOrigin: 'https://shop.example.ru', active: true, keyHint: site.key.slice(0, 8) });
    expect(listed).not.toHaveProperty('key');
    expect(listed).not.toHaveProperty('keyHash');
    expect(JSON.stringify((await database.pool.query('select * from intake_sites')).rows)).not.toContain(site.key);
    // Under history, with the hash as a secret: the trigger notes that it changed, never its value.
    const [created] = await database.db.select().from(changeHistory).where(and(eq(changeHistory.tableName, 'intake_sites'), eq(changeHistory.rowId, String(site.id))));
    expect(created).toMatchObject({ op: 'insert', actorId: director.id, via: 'api' });
    expect(created!.changes.key_hash).toEqual({ changed: true });
    expect((await call(a.baseUrl, salesCurator.token, 'GET', '/api/intake/sites')).status).toBe(403);
    const bad = await call(a.baseUrl, director.token, 'POST', '/api/intake/sites', { name: 'x', departmentId: sales, allowedOrigin: 'https://shop.example.ru/form' });
    expect(bad.status).toBe(400);
  });

  it('refuses to delete a site that brought leads; one without leads goes', async () => {
    const used = await newSite(sales);
    expect((await postLead(used.key, { email: 'a@example.ru' })).status).toBe(202);
    expect((await call(a.baseUrl, director.token, 'DELETE', `/api/intake/sites/${used.id}`)).status).toBe(409);
    const unused = await newSite(sales);
    expect((await call(a.baseUrl, director.token, 'DELETE', `/api/intake/sites/${unused.id}`)).status).toBe(204);
  });
});

describe('a site key replaced', () => {
  it('stops the old key at once and admits the new one, shown only in the answer', async () => {
    const site = await newSite(sales);
    expect((await call(a.baseUrl, salesCurator.token, 'POST', `/api/intake/sites/${site.id}/key`)).status).toBe(403);
    const rotated = await call(a.baseUrl, director.token, 'POST', `/api/intake/sites/${site.id}/key`);
    expect(rotated.status).toBe(200);
    const { key, keyHint } = await json(rotated);
    expect(key).toMatch(/^isk_/);
    expect(key).not.toBe(site.key);
    expect(keyHint).toBe(key.slice(0, 8));
    expect((await postLead(site.key, { email: 'old@example.ru' })).status).toBe(401);
    expect((await postLead(key, { email: 'new@example.ru' })).status).toBe(202);
    expect((await call(a.baseUrl, director.token, 'POST', '/api/intake/sites/999999/key')).status).toBe(404);
  });
});

describe('a plain HTML form', () => {
  const postForm = (key: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${a.baseUrl}/api/intake/leads?key=${encodeURIComponent(key)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
      redirect: 'manual',
    });

  it('is read like the JSON post, utm_ fields included, and sends the visitor back to the page on the site', async () => {
    const site = await newSite(sales);
    const res = await postForm(site.key, { name: 'Пётр', tel: '+7 916 700-00-01', comment: 'Перезвоните', utm_source: 'yandex', utm_campaign: 'autumn' }, { referer: 'https://shop.example.ru/contacts?x=1' });
    expect(res.status, await res.clone().text()).toBe(303);
    expect(res.headers.get('location')).toBe('https://shop.example.ru/contacts?x=1');
    const [lead] = await database.db.select().from(leads).where(eq(leads.siteId, site.id));
    expect(lead).toMatchObject({ name: 'Пётр', phone: '+79167000001', message: 'Перезвоните', utm: { source: 'yandex', campaign: 'autumn' } });
  });

  it('never redirects off the site, and thanks the visitor in both languages instead', async () => {
    const site = await newSite(sales);
    const res = await postForm(site.key, { email: 'c@example.ru', redirect: 'https://evil.example/phish' }, { referer: 'https://other.example/' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    const page = await res.text();
    expect(page).toContain('Спасибо');
    expect(page).toContain('Thank you');
  });
});

describe('POST /api/intake/leads', () => {
  it('401 without a key, with an unknown key, and with a disabled site\'s key', async () => {
    const site = await newSite(sales);
    const before = await leadCount();
    const noKey = await fetch(`${a.baseUrl}/api/intake/leads`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phone: '+79161230000' }) });
    expect(noKey.status).toBe(401);
    expect((await postLead(`${site.key}x`, { phone: '+79161230000' })).status).toBe(401);
    expect((await call(a.baseUrl, director.token, 'PATCH', `/api/intake/sites/${site.id}`, { active: false })).status).toBe(200);
    const disabled = await postLead(site.key, { phone: '+79161230000' });
    expect(disabled.status).toBe(401);
    expect((await json(disabled)).message).toMatch(/disabled/);
    expect(await leadCount()).toBe(before);
  });

  it('accepts the key in the X-Intake-Key header too (a site\'s own backend)', async () => {
    const site = await newSite(sales);
    const res = await fetch(`${a.baseUrl}/api/intake/leads`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-intake-key': site.key }, body: JSON.stringify({ email: 'b@example.ru' }) });
    expect(res.status).toBe(202);
  });

  it('answers the preflight for the site\'s own origin only, never with a wildcard', async () => {
    const site = await newSite(sales, 'https://shop.example.ru');
    const preflight = (origin: string, key = site.key) =>
      fetch(`${a.baseUrl}/api/intake/leads?key=${encodeURIComponent(key)}`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const right = await preflight('https://shop.example.ru');
    expect(right.status).toBe(204);
    expect(right.headers.get('access-control-allow-origin')).toBe('https://shop.example.ru');
    expect(right.headers.get('access-control-allow-methods')).toContain('POST');
    expect(right.headers.get('access-control-allow-headers')).toContain('content-type');
    expect(right.headers.get('vary')).toContain('Origin');

    const wrong = await preflight('https://evil.example.com');
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('access-control-allow-origin')).toBeNull();
    expect((await preflight('https://shop.example.ru', 'isk_unknown')).headers.get('access-control-allow-origin')).toBeNull();

    // The POST itself: the right origin may read the answer; another origin is refused outright.
    const ok = await postLead(site.key, { email: 'c@example.ru' }, { origin: 'https://shop.example.ru' });
    expect(ok.status).toBe(202);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example.ru');
    const before = await leadCount();
    const evil = await postLead(site.key, { email: 'c@example.ru' }, { origin: 'https://evil.example.com' });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(await leadCount()).toBe(before);
  });

  it('answers a filled honeypot like any lead and stores nothing', async () => {
    const site = await newSite(sales);
    const screen = await connectScreen(a.wsUrl, salesCurator.token);
    try {
      await screen.waitFor('hello');
      const before = await leadCount();
      const trapped = await postLead(site.key, { name: 'bot', phone: '+79161239999', website: 'http://spam.example' });
      const real = await postLead(site.key, { name: 'person', phone: '+79161239998', website: '' });
      expect(trapped.status).toBe(202);
      expect(real.status).toBe(202);
      expect(await json(trapped)).toEqual(await json(real));
      expect(await leadCount()).toBe(before + 1);
      const frame = await screen.waitFor('lead.new');
      expect(frame).toMatchObject({ name: 'person' });
      expect(screen.of('lead.new')).toHaveLength(1);
    } finally {
      screen.close();
    }
  });

  it(`limits one address to ${LIMIT} leads a minute per site: 429 with Retry-After`, async () => {
    const site = await newSite(sales);
    for (let i = 0; i < LIMIT; i++) expect((await postLead(site.key, { email: `r${i}@example.ru` })).status).toBe(202);
    const before = await leadCount();
    const refused = await postLead(site.key, { email: 'late@example.ru' });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await leadCount()).toBe(before);
    // Per site: the same address still reaches another site.
    const other = await newSite(sales);
    expect((await postLead(other.key, { email: 'other@example.ru' })).status).toBe(202);
  });

  it('requires a phone or an e-mail', async () => {
    const site = await newSite(sales);
    expect((await postLead(site.key, { name: 'nobody', message: 'call me' })).status).toBe(400);
  });
});

describe('where a lead goes', () => {
  it("a known phone (a contact's, typed differently) becomes a new deal of the client's owner, who is told at once", async () => {
    const site = await newSite(service); // the site's department does not matter: the client has an owner
    const annaScreen = await connectScreen(b.wsUrl, anna.token);
    try {
      await annaScreen.waitFor('hello');
      const res = await postLead(site.key, {
        name: 'Ivan', phone: '8 (916) 555-11-22', message: 'Need 40 t of pallets',
        pageUrl: 'https://shop.example.ru/pallets', utm: { source: 'yandex', medium: 'cpc', campaign: 'autumn' },
      });
      expect(res.status).toBe(202);
      const frame = await annaScreen.waitFor('deal.assigned', undefined, 1_000);
      expect(frame).toMatchObject({ clientId: knownClientId, source: 'site', assignedById: null });
      const [deal] = await database.db.select().from(deals).where(eq(deals.id, frame.dealId as number));
      expect(deal).toMatchObject({ clientId: knownClientId, ownerId: anna.id, status: 'new', source: 'site', description: 'Need 40 t of pallets' });
      const [lead] = await database.db.select().from(leads).where(eq(leads.dealId, deal!.id));
      expect(lead).toMatchObject({ phone: '+79165551122', phoneRaw: '8 (916) 555-11-22', assignedToId: anna.id, utm: { source: 'yandex', medium: 'cpc', campaign: 'autumn' } });
      expect(lead!.assignedAt).not.toBeNull();
      const [history] = await database.db.select().from(changeHistory).where(and(eq(changeHistory.tableName, 'deals'), eq(changeHistory.dealId, deal!.id)));
      expect(history).toMatchObject({ via: 'web_form', actorId: null, op: 'insert' });
      // Anna opens it through the deals API: the deal is on her client.
      expect((await call(b.baseUrl, anna.token, 'GET', `/api/deals/${deal!.id}`)).status).toBe(200);
    } finally {
      annaScreen.close();
    }
  });

  it('an unknown phone waits in the site\'s department; only that department\'s curators (and directors) hear of it', async () => {
    const salesSite = await newSite(sales);
    const serviceSite = await newSite(service);
    const salesScreen = await connectScreen(a.wsUrl, salesCurator.token);
    const serviceScreen = await connectScreen(a.wsUrl, serviceCurator.token);
    const directorScreen = await connectScreen(b.wsUrl, director.token);
    try {
      await Promise.all([salesScreen.waitFor('hello'), serviceScreen.waitFor('hello'), directorScreen.waitFor('hello')]);
      expect((await postLead(salesSite.key, { name: 'Petr', phone: '+7 916 777-00-01', email: 'petr@example.ru' })).status).toBe(202);
      const frame = await salesScreen.waitFor('lead.new', undefined, 1_000);
      expect(frame).toMatchObject({ departmentId: sales, siteId: salesSite.id, name: 'Petr', phone: '+79167770001', email: 'petr@example.ru' });
      expect(await directorScreen.waitFor('lead.new', undefined, 1_000)).toMatchObject({ leadId: frame.leadId });
      const [lead] = await database.db.select().from(leads).where(eq(leads.id, frame.leadId as number));
      expect(lead).toMatchObject({ departmentId: sales, assignedToId: null, assignedAt: null, dealId: null, clientId: null });
      // A lead for Service comes next: once it is on Service's screen, Sales' lead would have been too.
      expect((await postLead(serviceSite.key, { name: 'Olga', email: 'olga@example.ru' })).status).toBe(202);
      await serviceScreen.waitFor('lead.new');
      expect(serviceScreen.of('lead.new').map((f) => f.name)).toEqual(['Olga']);
    } finally {
      salesScreen.close();
      serviceScreen.close();
      directorScreen.close();
    }
  });
});

describe('assigning a waiting lead', () => {
  it("reaches the manager's screen on the other instance within a second, as a deal on a client of theirs", async () => {
    const site = await newSite(sales);
    expect((await postLead(site.key, { name: 'Semyon', phone: '+7 916 777-00-02', message: 'price list please' })).status).toBe(202);
    const [lead] = await database.db.select().from(leads).where(eq(leads.phone, '+79167770002'));
    const borisScreen = await connectScreen(b.wsUrl, boris.token);
    try {
      await borisScreen.waitFor('hello');
      const started = Date.now();
      const res = await call(a.baseUrl, salesCurator.token, 'POST', `/api/intake/leads/${lead!.id}/assign`, { userId: boris.id });
      expect(res.status).toBe(200);
      const assigned = await json(res);
      expect(assigned).toMatchObject({ id: lead!.id, assignedToId: boris.id, assignedById: salesCurator.id });
      const frame = await borisScreen.waitFor('deal.assigned', undefined, 1_000);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(frame).toMatchObject({ dealId: assigned.dealId, clientId: assigned.clientId, leadId: lead!.id, assignedById: salesCurator.id, source: 'site' });
      expect(borisScreen.of('deal.assigned')).toHaveLength(1); // published once, delivered once
      const deal = await json(await call(b.baseUrl, boris.token, 'GET', `/api/deals/${assigned.dealId}`));
      expect(deal).toMatchObject({ ownerId: boris.id, status: 'new', source: 'site', description: 'price list please' });
      const client = await json(await call(b.baseUrl, boris.token, 'GET', `/api/clients/${assigned.clientId}`));
      expect(client.ownerId).toBe(boris.id);
      // Assigned once: a second curator's click finds it taken.
      expect((await call(a.baseUrl, director.token, 'POST', `/api/intake/leads/${lead!.id}/assign`, { userId: anna.id })).status).toBe(409);
    } finally {
      borisScreen.close();
    }
  });

  it("is a curator's of the lead's department (to its own people) or a director's", async () => {
    const site = await newSite(sales);
    expect((await postLead(site.key, { name: 'Gleb', email: 'gleb@example.ru' })).status).toBe(202);
    const [lead] = await database.db.select().from(leads).where(eq(leads.email, 'gleb@example.ru'));
    const assign = (who: Person, userId: number) => call(a.baseUrl, who.token, 'POST', `/api/intake/leads/${lead!.id}/assign`, { userId });
    expect((await assign(serviceCurator, vera.id)).status).toBe(404);
    expect((await assign(anna, anna.id)).status).toBe(404); // a manager sees no waiting lead
    expect((await assign(salesCurator, vera.id)).status).toBe(403); // vera is in Service
    expect((await assign(director, vera.id)).status).toBe(200);
  });
});

describe('GET /api/intake/unassigned', () => {
  it("counts waiting leads per department: the curator's own, every department for a director", async () => {
    const counts = async (who: Person) => (await json(await call(a.baseUrl, who.token, 'GET', '/api/intake/unassigned'))) as unknown as Array<Record<string, unknown>>;
    const waiting = async (dep: number) => (await database.pool.query('select count(*)::int as n from leads where department_id = $1 and assigned_at is null', [dep])).rows[0].n as number;
    const site = await newSite(service);
    const before = await waiting(service);
    expect((await postLead(site.key, { email: 'count@example.ru' })).status).toBe(202);
    expect(await counts(serviceCurator)).toEqual([{ departmentId: service, departmentName: 'Service', count: before + 1 }]);
    expect(await counts(director)).toEqual([
      { departmentId: sales, departmentName: 'Sales', count: await waiting(sales) },
      { departmentId: service, departmentName: 'Service', count: before + 1 },
    ]);
    expect(await counts(anna)).toEqual([]);
    const list = (await json(await call(a.baseUrl, serviceCurator.token, 'GET', '/api/intake/leads'))) as unknown as Array<Record<string, unknown>>;
    expect(list.every((l) => l.departmentId === service && l.assignedAt === null)).toBe(true);
    expect(list).toHaveLength(before + 1);
  });
});
