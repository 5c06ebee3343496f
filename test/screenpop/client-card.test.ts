import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { cardColumns, cardFromRow } from '../../src/screenpop/client-card.js';
import { users } from '../../src/users/users.table.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

// The pop card is one query (cardColumns over a client row): here against real PostgreSQL.

let database: TestDatabase;
const ids: Record<string, number> = {};

async function card(clientId: number) {
  const { rows } = await database.pool.query(`select ${cardColumns("null::text")} from clients c where c.id = $1`, [clientId]);
  return cardFromRow(rows[0]!, '');
}

beforeAll(async () => {
  database = await createTestDatabase();
  const db = database.db;
  const passwordHash = await hashPassword('not used here');
  const [anna, boris] = await db.insert(users).values([
    { login: 'anna', name: 'Anna', role: 'manager', passwordHash },
    { login: 'boris', name: 'Boris', role: 'manager', passwordHash, active: false },
  ]).returning();
  const rows = await db.insert(clients).values([
    { name: 'Romashka', ownerId: anna!.id, lastActivityAt: new Date('2025-01-10T00:00:00Z') },
    { name: 'Romashka Trade', ownerId: boris!.id, lastActivityAt: new Date('2025-01-12T00:00:00Z') },
    { name: 'Ivan Petrov', ownerId: anna!.id, lastActivityAt: null },
    { name: 'Lonely', ownerId: anna!.id },
  ]).returning();
  for (const [i, key] of ['romashka', 'trade', 'ivan', 'lonely'].entries()) ids[key] = rows[i]!.id;
  ids.anna = anna!.id;
  ids.boris = boris!.id;
  await db.insert(clientPhones).values([
    { clientId: ids.romashka!, phone: '+74951234567', raw: '495 123-45-67' },
    { clientId: ids.romashka!, phone: '+79161234567', raw: '916 123-45-67' },
    { clientId: ids.trade!, phone: '+74951234567', raw: '+7 495 123 45 67' },
    { clientId: ids.ivan!, phone: '+79161234567', raw: '89161234567' },
    { clientId: ids.lonely!, phone: '+79990000000', raw: '89990000000' },
  ]);
});

afterAll(() => database?.drop());

describe('the client card: sharedWith', () => {
  it('lists the other clients with a number of this card, each once, most recent first, with their owner', async () => {
    expect((await card(ids.romashka!)).sharedWith).toEqual([
      { clientId: ids.trade, name: 'Romashka Trade', owner: { id: ids.boris, name: 'Boris', departmentId: null } },
      { clientId: ids.ivan, name: 'Ivan Petrov', owner: { id: ids.anna, name: 'Anna', departmentId: null } },
    ]);
    expect((await card(ids.trade!)).sharedWith).toEqual([{ clientId: ids.romashka, name: 'Romashka', owner: { id: ids.anna, name: 'Anna', departmentId: null } }]);
  });

  it('is empty for a number nobody else has', async () => {
    expect((await card(ids.lonely!)).sharedWith).toEqual([]);
  });
});
