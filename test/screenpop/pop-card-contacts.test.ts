import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { findCallClient } from '../../src/calls/calls.repository.js';
import { clientContacts, clientPhones, clients } from '../../src/clients/clients.table.js';
import { clientNotes } from '../../src/notes/notes.table.js';
import { reminders } from '../../src/reminders/reminders.table.js';
import { users } from '../../src/users/users.table.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

// Issue 11, item 9: the pop card of a call, from the call pipeline's own lookup (one query),
// against real PostgreSQL. A contact person calls; the card names them and the decision maker.

let database: TestDatabase;
const ids: Record<string, number> = {};
const OLGA_PHONE = '+79265550101';
const OFFICE_PHONE = '+74957770000';

const lookup = (number: string | null, linkedid = `pop-${Math.random()}`) =>
  findCallClient(database.pool, { linkedid, number, knownClientId: null }, '');

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  const [anna] = await db.insert(users).values({ login: 'anna', name: 'Anna', role: 'manager', passwordHash: await hashPassword('x') }).returning();
  ids.anna = anna!.id;
  const [client] = await db
    .insert(clients)
    .values({ name: 'Vector', ownerId: anna!.id, important: true, status: 'current', temperature: 'hot', tags: ['vip'], nextContactAt: new Date('2026-12-03T09:00:00Z') })
    .returning();
  ids.client = client!.id;
  const [olga, petr] = await db
    .insert(clientContacts)
    .values([
      { clientId: client!.id, name: 'Olga', position: 'Buyer' },
      { clientId: client!.id, name: 'Petr', position: 'CEO', decisionMaker: true },
    ])
    .returning();
  ids.olga = olga!.id;
  ids.petr = petr!.id;
  await db.insert(clientPhones).values([
    { clientId: client!.id, phone: OFFICE_PHONE, raw: '495 777-00-00' },
    { clientId: client!.id, contactId: olga!.id, phone: OLGA_PHONE, raw: '8 926 555-01-01' },
    { clientId: client!.id, contactId: petr!.id, phone: '+79035550202', raw: '8 903 555-02-02' },
  ]);
  // Raw SQL: the deals table's TypeScript statuses are being replaced on another branch.
  await database.pool.query(
    `insert into deals (client_id, title, status, amount, currency, important, updated_at) values
       ($1, 'Trucks', 'proposal_sent', 500000, 'USD', true, now() - interval '1 hour'), ($1, 'Service', 'in_progress', null, 'RUB', false, now()),
       ($1, 'Old', 'completed', 1, 'RUB', true, now()), ($1, 'Lost', 'refused_price', 2, 'RUB', false, now())`,
    [client!.id],
  );
  await db.insert(clientNotes).values({ clientId: client!.id, authorId: anna!.id, text: 'Call Petr about the contract' });
  await db.insert(reminders).values({ clientId: client!.id, userId: anna!.id, dueAt: new Date('2030-01-01T10:00:00Z'), note: 'Send the contract' });
});

afterAll(() => database?.drop());

describe('the pop card of a call from a contact person', () => {
  it("finds the contact's client and names the contact calling and the decision maker", async () => {
    const found = await lookup(OLGA_PHONE);
    expect(found.client).toMatchObject({ clientId: ids.client, ownerId: ids.anna, routed: false });
    const card = found.client!.card;
    expect(card.callingContact).toEqual({ id: ids.olga, name: 'Olga', position: 'Buyer', decisionMaker: false });
    expect(card.decisionMakers).toEqual([{ id: ids.petr, name: 'Petr', position: 'CEO', decisionMaker: true, phones: ['+79035550202'] }]);
    expect(card).toMatchObject({
      important: true,
      status: 'current',
      temperature: 'hot',
      tags: ['vip'],
      nextContactAt: '2026-12-03T09:00:00.000Z',
      owner: { id: ids.anna, name: 'Anna' },
      lastNote: { text: 'Call Petr about the contract', author: 'Anna' },
      nextReminder: { note: 'Send the contract' },
    });
  });

  it('lists only open deals (the pipeline before "completed"), most recently changed first, with status, amount, currency and the important flag', async () => {
    const card = (await lookup(OLGA_PHONE)).client!.card;
    expect(card.openDeals.map((d) => [d.title, d.status, d.amount === null ? null : Number(d.amount), d.currency, d.important])).toEqual([
      ['Service', 'in_progress', null, 'RUB', false],
      ['Trucks', 'proposal_sent', 500000, 'USD', true],
    ]);
  });

  it("names no contact when the client's own number calls, or the decision maker when they call", async () => {
    expect((await lookup(OFFICE_PHONE)).client!.card.callingContact).toBeNull();
    expect((await lookup('+79035550202')).client!.card.callingContact).toMatchObject({ id: ids.petr, decisionMaker: true });
  });
});
