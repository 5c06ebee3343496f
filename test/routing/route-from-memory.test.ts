import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/logger.js';
import { createDirectorySync, heartbeatMsFor, type DirectorySync } from '../../src/routing/directory/directory-sync.js';
import { parseLikeAsterisk } from '../support/asterisk-hash.js';
import { bearer, createTestApp, createUser, TEST_PBX_TOKEN, type TestApp } from '../support/test-app.js';

// /pbx/route without PostgreSQL on the answer path (issue 16), on two instances of the service
// that share one database: a write through the API is routed by on the very next call, and a
// call's step 2 answered by the other instance still knows what step 1 rang.

let a: TestApp;
let b: Awaited<ReturnType<typeof buildApp>>;
let bDirectory: DirectorySync;
let bRedis: ReturnType<typeof createRedis>;
let director: { id: number; token: string };
let anna: { id: number; token: string };
let boris: { id: number; token: string };
let clientId: number;

beforeAll(async () => {
  a = await createTestApp({ DEFAULT_DEPARTMENT: 'Sales' });
  const db = a.database.db;
  const [sales] = await db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'sales', voicemailBox: '600@default' }).returning();
  await db.insert(departmentDids).values({ did: '+74951110001', departmentId: sales!.id });
  director = await createUser(a, { role: 'director' });
  anna = await createUser(a, { role: 'manager', departmentId: sales!.id, extension: '101', mobile: '+79031112233', presence: 'available', absentRule: 'mobile' });
  boris = await createUser(a, { role: 'manager', departmentId: sales!.id, extension: '102', presence: 'away', absentRule: 'department' });
  const [client] = await db.insert(clients).values({ name: 'Ромашка', ownerId: anna.id }).returning();
  clientId = client!.id;
  await db.insert(clientPhones).values({ clientId, phone: '+79161234567', raw: 'x' });

  const logger = createLogger('silent');
  bDirectory = createDirectorySync({ connection: a.database.pool.options, logger, heartbeatMs: heartbeatMsFor(a.config) });
  await bDirectory.start();
  bRedis = createRedis(inject('redisUrl'), 'command');
  b = await buildApp({ config: a.config, logger, database: a.database, redis: bRedis, directory: bDirectory });
  await b.ready();
  await Promise.all([a.directory.barrier(), bDirectory.barrier()]);
});

afterAll(async () => {
  await b?.close();
  await bDirectory?.stop();
  bRedis?.disconnect();
  await a?.close();
});

async function route(app: { inject: TestApp['app']['inject'] }, params: Record<string, string>) {
  const qs = Object.entries({ format: 'hash', caller: '89161234567', did: '74951110001', ...params }).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const res = await app.inject({ method: 'GET', url: `/pbx/route?${qs}`, headers: { 'x-switchboard-token': TEST_PBX_TOKEN } });
  expect(res.statusCode).toBe(200);
  return parseLikeAsterisk(res.body);
}

describe('/pbx/route from memory', () => {
  it('routes by a change made through the API on the very next call, without waiting', async () => {
    for (const [round, owner] of [anna, boris, anna, boris].entries()) {
      const res = await a.app.inject({ method: 'PATCH', url: `/api/clients/${clientId}`, headers: bearer(director.token), payload: { ownerId: owner.id } });
      expect(res.statusCode, res.body).toBe(200);
      expect((await route(a.app, { linkedid: `api-${round}`, uniqueid: `api-${round}`, step: '1' })).manager_id, `round ${round}`).toBe(String(owner.id));
    }
  });

  it('answers step 2 on another instance knowing what step 1 rang, from the question itself', async () => {
    const call = { linkedid: 'moved-1', uniqueid: 'moved-1' };
    const first = await route(a.app, { ...call, step: '1' });
    expect(first).toMatchObject({ reason: 'department', manager_id: String(boris.id), tried: '1.department.queue' });
    // Boris is away (rule: department): the department line at once. Anna takes the client over
    // between the steps; step 2 lands on the other instance, which never saw step 1.
    const res = await a.app.inject({ method: 'PATCH', url: `/api/clients/${clientId}`, headers: bearer(director.token), payload: { ownerId: anna.id } });
    expect(res.statusCode).toBe(200);
    await bDirectory.barrier();
    const second = await route(b, { ...call, step: '2', last_status: 'NOANSWER', tried: first.tried! });
    // Anna's plan is her phone, her mobile, the department line, voicemail. Knowing that step 1
    // was not one of hers, step 2 is her phone; counting steps blindly it would be her mobile.
    expect(second).toMatchObject({ reason: 'owner', dial: 'PJSIP/101', tried: '1.department.queue-2.owner.dial' });
    const blind = await route(b, { linkedid: 'moved-blind', uniqueid: 'moved-blind', step: '2', last_status: 'NOANSWER' });
    expect(blind.reason).toBe('owner_mobile');
  });

  it('remembers a call\'s steps on the instance that answered them, for a dialplan that does not send `tried`', async () => {
    const call = { linkedid: 'same-1', uniqueid: 'same-1' };
    await a.app.inject({ method: 'PATCH', url: `/api/clients/${clientId}`, headers: bearer(director.token), payload: { ownerId: boris.id } });
    expect((await route(a.app, { ...call, step: '1' })).reason).toBe('department');
    await a.app.inject({ method: 'PATCH', url: `/api/clients/${clientId}`, headers: bearer(director.token), payload: { ownerId: anna.id } });
    expect(await route(a.app, { ...call, step: '2', last_status: 'NOANSWER' })).toMatchObject({ reason: 'owner', tried: '1.department.queue-2.owner.dial' });
  });
});
