import { and, eq, isNull } from 'drizzle-orm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { reminders } from '../../src/reminders/reminders.table.js';
import { FakeAmiServer } from '../pbx/fake-ami-server.js';
import { waitFor } from '../pbx/wait.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { eventually, FAKE_PBX_LOGIN, fakePbxEnv, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// The runtime's reminder hook on real PBX traffic: a missed call from a number that is on no
// client's card becomes a callback on the list of the department whose number was dialled. The
// department comes from the stored call's DID (runtime.ts reads both in one statement).

let database: TestDatabase;
let fake: FakeAmiServer;
let instance: TestInstance;
let salesId: number;

beforeAll(async () => {
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  const [other] = await database.db.insert(departments).values({ name: 'Service', lineKind: 'dial', lineTarget: 'Local/300@fake-phones' }).returning();
  const [sales] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'dial', lineTarget: 'Local/200@fake-phones' }).returning();
  salesId = sales!.id;
  // The transcript dials +74951110002; another department's number proves the lookup is by DID.
  await database.db.insert(departmentDids).values([
    { did: '+74951110001', departmentId: other!.id },
    { did: '+74951110002', departmentId: salesId },
  ]);
  for (const [name, extension] of Object.entries({ boris: '201', desk200: '200' })) {
    await insertUser(database, { role: 'manager', name, extension, departmentId: salesId, presence: 'available' });
  }
  instance = await startInstance(database, fakePbxEnv(fake), uniquePrefix());
  await waitFor(() => fake.sessions.length === 1, 'the instance to log in to the fake PBX', 5_000);
});

afterAll(async () => {
  await instance?.runtime.stop();
  await fake?.close();
  await database?.drop();
});

it('a missed call from an unknown number lands on the list of the dialled number’s department', async () => {
  await fake.replay('b_inbound_noanswer_fallback');
  const [callback] = await eventually(async () => {
    const rows = await database.db.select().from(reminders).where(and(eq(reminders.kind, 'callback'), isNull(reminders.clientId)));
    return rows.length > 0 ? rows : null;
  }, 'a callback for the missed call', 5_000);
  expect(callback).toMatchObject({ userId: null, departmentId: salesId, phone: '+79161234567', status: 'pending' });
});
