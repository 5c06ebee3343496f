import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/client.js';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/logger.js';
import { createDirectorySync, heartbeatMsFor, type DirectorySync } from '../../src/routing/directory/directory-sync.js';
import { createTraceWriter } from '../../src/routing/trace-writer.js';
import { users } from '../../src/users/users.table.js';
import { parseLikeAsterisk } from '../support/asterisk-hash.js';
import { TEST_PBX_TOKEN } from '../support/test-app.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

// "Owner routing survives a database outage" (issue 16): PostgreSQL is made really unreachable
// (a proxy that swallows every byte: a hung or SIGSTOPped server). A known client's call still
// goes to the owner from the last known directory, marked stale in the trace with its age; past
// ROUTE_STALE_MAX_MS it goes to the department line; and the trace rows of the outage are
// written once the database is back.

const FRESH_MS = 300;
const STALE_MAX_MS = 2_000;
let database: TestDatabase;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let app: Awaited<ReturnType<typeof buildApp>>;
let redis: ReturnType<typeof createRedis>;
let proxiedDb: ReturnType<typeof createDatabase>;
let directory: DirectorySync;
let clientId: number;
let annaId: number;
/** Answers given while the database was unreachable (linkedids `down-0` …). */
let outageAnswers = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  const [sales] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'sales', voicemailBox: '600@default' }).returning();
  await database.db.insert(departments).values({ name: 'Reception', lineKind: 'dial', lineTarget: 'PJSIP/500' });
  await database.db.insert(departmentDids).values({ did: '+74951110001', departmentId: sales!.id });
  const [anna] = await database.db.insert(users).values({ login: 'anna', name: 'Anna', passwordHash: 'x', role: 'manager', departmentId: sales!.id, extension: '101', presence: 'available' }).returning();
  annaId = anna!.id;
  const [client] = await database.db.insert(clients).values({ name: 'Ромашка', ownerId: annaId }).returning();
  clientId = client!.id;
  await database.db.insert(clientPhones).values({ clientId, phone: '+79161234567', raw: '89161234567' });

  const url = new URL(database.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  url.port = String(proxy.port);
  proxiedDb = createDatabase(url.toString());
  const config = loadConfig({
    NODE_ENV: 'test', PBX_TOKEN: TEST_PBX_TOKEN, LOG_LEVEL: 'silent', DEFAULT_DEPARTMENT: 'Reception',
    ROUTE_FRESH_MS: String(FRESH_MS), ROUTE_STALE_MAX_MS: String(STALE_MAX_MS),
  });
  redis = createRedis(inject('redisUrl'), 'command');
  const logger = createLogger('silent');
  // Everything of the app's that talks to PostgreSQL goes through the proxy.
  directory = createDirectorySync({ connection: proxiedDb.pool.options, logger, heartbeatMs: heartbeatMsFor(config) });
  await directory.start();
  const traceWriter = createTraceWriter(proxiedDb.pool, logger, { retryMinMs: 50, copyTimeoutMs: 1_000 });
  app = await buildApp({ config, logger, database: proxiedDb, redis, directory, traceWriter });
  await app.ready();
  // Building the app can block the event loop for longer than FRESH_MS on a busy machine (the
  // heartbeat then could not run): start the test from a directory just shown current.
  await directory.barrier();
});

afterAll(async () => {
  await app?.close();
  await directory?.stop();
  redis?.disconnect();
  proxy?.setMode('refuse');
  await proxiedDb?.close().catch(() => {});
  await proxy?.close();
  await database?.drop();
});

async function route(linkedid: string, caller = '89161234567') {
  const res = await app.inject({
    method: 'GET',
    url: `/pbx/route?format=hash&caller=${caller}&did=74951110001&uniqueid=${linkedid}&linkedid=${linkedid}&step=1`,
    headers: { 'x-switchboard-token': TEST_PBX_TOKEN },
  });
  expect(res.statusCode).toBe(200);
  return parseLikeAsterisk(res.body);
}

// Read straight from the database, not through the proxy.
const traceRows = async (prefix: string) =>
  (await database.pool.query(`select linkedid, reason, client_id, stale, directory_age_ms from route_decisions where linkedid like $1 order by id`, [`${prefix}%`])).rows;

describe('/pbx/route while PostgreSQL is unreachable', () => {
  it('answers from a current directory while the database is healthy, not marked stale', async () => {
    expect(await route('ok-1')).toMatchObject({ action: 'dial', dial: 'PJSIP/101', reason: 'owner', client_id: String(clientId) });
    await expect.poll(() => traceRows('ok-'), { timeout: 5_000 }).toEqual([
      { linkedid: 'ok-1', reason: 'owner', client_id: clientId, stale: false, directory_age_ms: expect.any(Number) },
    ]);
    expect((await traceRows('ok-'))[0].directory_age_ms).toBeLessThanOrEqual(FRESH_MS);
  });

  it('still rings the owner when the database hangs, marks the answer stale, and past the maximum age falls back to the department', async () => {
    proxy.setMode('blackhole');
    // The first answers may still come from a directory shown current moments ago.
    await expect.poll(async () => (await route(`wait-${Date.now()}`)).reason, { timeout: 5_000, interval: 50 }).toBe('owner');
    const outage: Array<Record<string, string>> = [];
    await expect
      .poll(async () => {
        outage.push(await route(`down-${outage.length}`));
        return directory.asOf < Date.now() - FRESH_MS;
      }, { timeout: 5_000, interval: 50 })
      .toBe(true);
    outage.push(await route(`down-${outage.length}`));
    outage.push(await route(`down-${outage.length}`, '+74990000000'));
    // Every known caller of the outage reached the owner; the unknown one the DID's line.
    expect(outage.slice(0, -1).every((a) => a.reason === 'owner' && a.client_id === String(clientId))).toBe(true);
    expect(outage.at(-1)).toMatchObject({ action: 'queue', queue: 'sales', reason: 'unknown_caller' });
    outageAnswers = outage.length;

    // Past ROUTE_STALE_MAX_MS the last known directory is too old to trust: the department line.
    await expect.poll(async () => (await route(`late-${Date.now()}`)).reason, { timeout: STALE_MAX_MS + 5_000, interval: 100 }).toBe('fallback_error');
    expect(await route('late-last')).toMatchObject({ action: 'queue', queue: 'sales', reason: 'fallback_error', client_id: '' });
  });

  it('writes the outage\'s trace rows once the database is back, the stale ones marked with their age', async () => {
    proxy.setMode('forward');
    // None lost: every answer of the outage has its row.
    await expect.poll(async () => (await traceRows('down-')).length, { timeout: 15_000, interval: 100 }).toBe(outageAnswers);
    const rows = await traceRows('down-');
    const stale = rows.filter((r) => r.stale);
    expect(stale.length).toBeGreaterThan(0);
    for (const r of stale) expect(r.directory_age_ms).toBeGreaterThan(FRESH_MS);
    expect(rows.filter((r) => r.client_id === clientId).every((r) => r.reason === 'owner')).toBe(true);
    await expect.poll(async () => (await traceRows('late-last')).map((r) => [r.reason, r.stale]), { timeout: 10_000 }).toEqual([['fallback_error', true]]);
  });

  it('answers current again once the directory is back, and /ready says so', async () => {
    await expect.poll(async () => (await route(`back-${Date.now()}`)).reason, { timeout: 10_000, interval: 100 }).toBe('owner');
    await expect.poll(() => directory.asOf > Date.now() - FRESH_MS, { timeout: 10_000 }).toBe(true);
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.json().components).toMatchObject({ postgres: 'ok', routing: 'ok' });
  });
});
