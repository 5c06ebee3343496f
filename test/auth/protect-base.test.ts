import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { and, eq } from 'drizzle-orm';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, inject as inject_, it, onTestFinished } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { createReadBudget } from '../../src/auth/read-budget.js';
import { calls } from '../../src/calls/calls.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { createRedis } from '../../src/infra/redis.js';
import { changeHistory } from '../../src/history/history.table.js';
import { createLogger } from '../../src/logger.js';
import { createSettings } from '../../src/settings/settings.service.js';
import { users } from '../../src/users/users.table.js';
import { FakeAmiServer } from '../pbx/fake-ami-server.js';
import { waitFor } from '../pbx/wait.js';
import { bearer } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, eventually, FAKE_PBX_LOGIN, fakePbxEnv, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// Protecting the base (issue 11, item 8): numbers masked in lists for managers and assistants,
// click-to-call by id so they never need the number, and a read budget that tells directors
// when somebody reads far more cards than their work needs.

const BUDGET = 3;
let database: TestDatabase;
let fake: FakeAmiServer;
let instance: TestInstance;
let receiver: http.Server;
const hooks: Array<{ event: string; body: string }> = [];
const people = {} as Record<'director' | 'curator' | 'manager' | 'assistant' | 'reader', { id: number; token: string }>;
let clientId: number;
let contactId: number;
const clientIds: number[] = [];

const inject = (opts: InjectOptions) => instance.runtime.app.inject(opts);
const as = (who: keyof typeof people) => bearer(people[who].token);

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hooks.push({ event: String(req.headers['x-switchboard-event']), body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  fake.onAction('Originate', (action, conn) => conn.respond(action, 'Success', { Message: 'Originate successfully queued' }));
  const [dep] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'q' }).returning();
  people.director = await insertUser(database, { role: 'director', name: 'director' });
  people.curator = await insertUser(database, { role: 'curator', name: 'curator', departmentId: dep!.id });
  people.manager = await insertUser(database, { role: 'manager', name: 'manager', departmentId: dep!.id, extension: '101' });
  people.assistant = await insertUser(database, { role: 'assistant', name: 'assistant', departmentId: dep!.id, managerId: people.manager.id, extension: '102' });
  people.reader = await insertUser(database, { role: 'manager', name: 'reader', departmentId: dep!.id });
  instance = await startInstance(
    database,
    { ...fakePbxEnv(fake), OUTBOUND_DIAL_TEMPLATE: 'PJSIP/{number}@trunk', READ_BUDGET_CARDS_PER_HOUR: String(BUDGET), WEBHOOK_ALLOWED_PRIVATE_CIDRS: '127.0.0.0/8' },
    uniquePrefix(),
  );
  await waitFor(() => instance.runtime.leader.isLeader() && instance.runtime.ami.status() === 'connected', 'the instance to lead and log in', 5_000);

  const created = await inject({ method: 'POST', url: '/api/clients', headers: as('manager'), payload: { name: 'Romashka', phones: ['8 916 123-45-67'] } });
  clientId = created.json().id;
  const contact = await inject({ method: 'POST', url: `/api/clients/${clientId}/contacts`, headers: as('manager'), payload: { name: 'Olga', phones: ['+7 903 111-22-33'] } });
  contactId = contact.json().id;
  for (let i = 0; i < BUDGET + 1; i++) {
    const res = await inject({ method: 'POST', url: '/api/clients', headers: as('reader'), payload: { name: `Lead ${i}`, phones: [`+7916555000${i}`] } });
    clientIds.push(res.json().id);
  }
});

afterAll(async () => {
  await instance?.runtime.stop();
  await fake?.close();
  await database?.drop();
  receiver?.close();
});

const listedPhones = async (who: keyof typeof people) => {
  const res = await inject({ method: 'GET', url: `/api/clients?q=Romashka`, headers: as(who) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items[0].phones as Array<{ phone: string; raw: string }>;
};

describe('phone numbers in lists', () => {
  it('masks them for managers and assistants, grouped like the number', async () => {
    expect(await listedPhones('manager')).toEqual([{ phone: '+7 916 ***-**-67', raw: '+7 916 ***-**-67' }]);
    expect(await listedPhones('assistant')).toEqual([{ phone: '+7 916 ***-**-67', raw: '+7 916 ***-**-67' }]);
  });

  it('shows them in full to directors and curators', async () => {
    expect(await listedPhones('director')).toEqual([{ phone: '+79161234567', raw: '8 916 123-45-67' }]);
    expect(await listedPhones('curator')).toEqual([{ phone: '+79161234567', raw: '8 916 123-45-67' }]);
  });

  it('shows the full number on a card the manager may open', async () => {
    const card = await inject({ method: 'GET', url: `/api/clients/${clientId}`, headers: as('manager') });
    expect(card.json().phones).toEqual([{ phone: '+79161234567', raw: '8 916 123-45-67' }]);
  });

  it('masks them in a search of the base too', async () => {
    const res = await inject({ method: 'GET', url: '/api/clients/search?q=Romashka', headers: as('manager') });
    expect(res.json().items[0].phones).toEqual([{ phone: '+7 916 ***-**-67', raw: '+7 916 ***-**-67' }]);
    const full = await inject({ method: 'GET', url: '/api/clients/search?q=Romashka', headers: as('curator') });
    expect(full.json().items[0].phones).toEqual([{ phone: '+79161234567', raw: '8 916 123-45-67' }]);
  });

  it('follows the director’s setting, which only a director may change, and keeps the change in the history', async () => {
    const refused = await inject({ method: 'PATCH', url: '/api/settings', headers: as('curator'), payload: { maskPhonesInLists: false } });
    expect(refused.statusCode).toBe(403);
    const off = await inject({ method: 'PATCH', url: '/api/settings', headers: as('director'), payload: { maskPhonesInLists: false } });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json()).toEqual({ maskPhonesInLists: false, suspendOnScraping: false });
    expect(await listedPhones('manager')).toEqual([{ phone: '+79161234567', raw: '8 916 123-45-67' }]);
    const on = await inject({ method: 'PATCH', url: '/api/settings', headers: as('director'), payload: { maskPhonesInLists: true } });
    expect(on.statusCode, on.body).toBe(200);
    expect(await listedPhones('manager')).toEqual([{ phone: '+7 916 ***-**-67', raw: '+7 916 ***-**-67' }]);
    const changes = await database.db.select().from(changeHistory).where(eq(changeHistory.tableName, 'settings'));
    expect(changes.map((c) => [c.op, c.actorId, c.changes.mask_phones_in_lists])).toEqual([
      ['insert', people.director.id, { new: false }],
      ['update', people.director.id, { old: false, new: true }],
    ]);
    const empty = await inject({ method: 'PATCH', url: '/api/settings', headers: as('director'), payload: {} });
    expect(empty.statusCode).toBe(400);
  });

  it('masks a client’s number in the calls list, not an unknown caller’s', async () => {
    await database.db.insert(calls).values([
      { systemName: 'pbx', linkedid: 'mask-1', direction: 'inbound' as const, externalNumber: '+79161234567', clientId, ownerId: people.manager.id, startedAt: new Date() },
      { systemName: 'pbx', linkedid: 'mask-2', direction: 'inbound' as const, externalNumber: '+79169990011', clientId: null, ownerId: people.manager.id, startedAt: new Date() },
    ]);
    const numbers = async (who: keyof typeof people) => {
      const res = await inject({ method: 'GET', url: `/api/calls?managerId=${people.manager.id}`, headers: as(who) });
      expect(res.statusCode, res.body).toBe(200);
      return Object.fromEntries((res.json().items as Array<{ linkedid: string; number: string }>).filter((c) => c.linkedid.startsWith('mask-')).map((c) => [c.linkedid, c.number]));
    };
    expect(await numbers('manager')).toEqual({ 'mask-1': '+7 916 ***-**-67', 'mask-2': '+79169990011' });
    expect(await numbers('director')).toEqual({ 'mask-1': '+79161234567', 'mask-2': '+79169990011' });
  });
});

describe('click-to-call by id', () => {
  const originates = () => fake.actions.filter((a) => a.name.toLowerCase() === 'originate');

  it('calls the client’s first phone from {clientId} and does not answer with the number', async () => {
    const before = originates().length;
    const res = await inject({ method: 'POST', url: '/api/calls/originate', headers: as('manager'), payload: { clientId } });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ number: '+7 916 ***-**-67', client: { id: clientId } });
    await waitFor(() => originates().length > before, 'the Originate', 5_000);
    expect(originates().at(-1)!.headers).toMatchObject({ exten: '79161234567' });
  });

  it('calls a contact’s first phone from {contactId}', async () => {
    const before = originates().length;
    const res = await inject({ method: 'POST', url: '/api/calls/originate', headers: as('assistant'), payload: { contactId } });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toMatchObject({ number: '+7 903 ***-**-33', client: { id: clientId } });
    await waitFor(() => originates().length > before, 'the Originate', 5_000);
    expect(originates().at(-1)!.headers).toMatchObject({ exten: '79031112233' });
  });

  it('asks for a number or an id', async () => {
    const res = await inject({ method: 'POST', url: '/api/calls/originate', headers: as('manager'), payload: {} });
    expect(res.statusCode).toBe(400);
  });
});

describe('the read budget', () => {
  it('tells every director once when someone reads more cards an hour than the budget', async () => {
    const webhook = await inject({ method: 'POST', url: '/api/webhooks', headers: as('director'), payload: { url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`, events: ['security.scraping'] } });
    expect(webhook.statusCode, webhook.body).toBe(201);
    const screen = await connectScreen(instance.wsUrl, people.director.token);
    try {
      // The same card again is not a new read.
      for (const id of [...clientIds.slice(0, BUDGET), clientIds[0]!]) {
        expect((await inject({ method: 'GET', url: `/api/clients/${id}`, headers: as('reader') })).statusCode).toBe(200);
      }
      await new Promise((r) => setTimeout(r, 100));
      expect(screen.of('security.scraping')).toEqual([]);
      await inject({ method: 'GET', url: `/api/clients/${clientIds[BUDGET]}`, headers: as('reader') });
      const frame = await screen.waitFor('security.scraping');
      expect(frame).toMatchObject({ user: { id: people.reader.id, role: 'manager' }, reads: BUDGET + 1, limit: BUDGET, suspended: false });
      const hook = await eventually(async () => hooks.find((h) => h.event === 'security.scraping'), 'the security.scraping webhook');
      expect(JSON.parse(hook.body)).toMatchObject({ event: 'security.scraping', user: { id: people.reader.id }, reads: BUDGET + 1 });
      // Once an hour, not on every further read; and without the setting nobody is suspended.
      await inject({ method: 'GET', url: '/api/clients?limit=5', headers: as('reader') });
      await new Promise((r) => setTimeout(r, 100));
      expect(screen.of('security.scraping')).toHaveLength(1);
      expect((await inject({ method: 'GET', url: '/api/auth/me', headers: as('reader') })).statusCode).toBe(200);
    } finally {
      screen.close();
    }
  });

  it('with the director’s suspendOnScraping disables the account and revokes its tokens', async () => {
    const redis = createRedis(inject_('redisUrl'), 'command');
    onTestFinished(() => redis.disconnect());
    const victim = await insertUser(database, { role: 'manager', name: 'scraper' });
    const [row] = await database.db.select().from(users).where(eq(users.id, victim.id));
    // The environment's default is off; the director's setting turns it on.
    const settings = createSettings(database.db, { MASK_PHONES_IN_LISTS: true, READ_BUDGET_SUSPEND: false });
    await settings.update(people.director, { suspendOnScraping: true });
    const budget = createReadBudget({
      db: database.db,
      redis,
      config: { REDIS_PREFIX: uniquePrefix(), READ_BUDGET_CARDS_PER_HOUR: 2 },
      settings,
      logger: createLogger('silent'),
    });
    const viewer = { id: row!.id, login: row!.login, name: row!.name, role: row!.role, departmentId: null, managerId: null };
    for (const card of ['card:1', 'card:2', 'card:2']) await budget.record(viewer, card);
    expect((await database.db.select({ active: users.active }).from(users).where(eq(users.id, victim.id)))[0]!.active).toBe(true);
    await budget.record(viewer, 'card:3');
    expect((await database.db.select({ active: users.active }).from(users).where(eq(users.id, victim.id)))[0]!.active).toBe(false);
    expect((await inject({ method: 'GET', url: '/api/auth/me', headers: bearer(victim.token) })).statusCode).toBe(401);
    const [audit] = await database.db.select().from(auditLog).where(and(eq(auditLog.action, 'security.scraping'), eq(auditLog.actorId, victim.id)));
    expect(audit?.details).toMatchObject({ reads: 3, limit: 2, suspended: true });
  });
});
