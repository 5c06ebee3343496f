import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clients } from '../../src/clients/clients.table.js';
import { deals } from '../../src/deals/deals.table.js';
import { users } from '../../src/users/users.table.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

// The status mapping of migration 0009, run from the migration file itself over rows written in
// the old statuses (a fresh test database has already migrated, so the rows are put back first).
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

it('maps the old five statuses onto the pipeline', async () => {
  const dir = path.resolve('migrations');
  const file = readdirSync(dir).find((f) => f.startsWith('0009_'))!;
  const update = readFileSync(path.join(dir, file), 'utf8').split('--> statement-breakpoint').find((s) => s.includes('UPDATE "deals" SET "status"'))!;
  const [owner] = await database.db.insert(users).values({ login: 'o', name: 'o', role: 'manager', passwordHash: 'x' }).returning();
  const [client] = await database.db.insert(clients).values({ name: 'c', ownerId: owner!.id }).returning();
  const old = ['new', 'negotiation', 'proposal', 'won', 'lost'];
  for (const status of old) await database.db.execute(sql`insert into deals (client_id, title, status) values (${client!.id}, ${status}, ${status})`);
  await database.pool.query(update);
  const rows = await database.db.select({ title: deals.title, status: deals.status }).from(deals);
  expect(Object.fromEntries(rows.map((r) => [r.title, r.status]))).toEqual({
    new: 'new',
    negotiation: 'collecting_info',
    proposal: 'proposal_sent',
    won: 'completed',
    lost: 'refused_not_needed',
  });
});
