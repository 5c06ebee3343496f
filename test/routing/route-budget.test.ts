import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/client.js';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/logger.js';
import { parseLikeAsterisk } from '../support/asterisk-hash.js';
import { TEST_PBX_TOKEN } from '../support/test-app.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

// "The PBX never waits on a slow service": the database is made really slow (a proxy that
// swallows bytes) and really down (a proxy that resets connections), and /pbx/route must still
// answer with the department line, reason fallback_error, within ROUTE_BUDGET_MS.

const BUDGET_MS = 150;
let database: TestDatabase;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
let app: Awaited<ReturnType<typeof buildApp>>;
let redis: ReturnType<typeof createRedis>;
let proxiedDb: ReturnType<typeof createDatabase>;

beforeAll(async () => {
  database = await createTestDatabase();
  const [sales] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'sales', voicemailBox: '600@default' }).returning();
  await database.db.insert(departments).values({ name: 'Reception', lineKind: 'dial', lineTarget: 'PJSIP/500' });
  await database.db.insert(departmentDids).values({ did: '+74951110001', departmentId: sales!.id });

  const url = new URL(database.url);
  proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
  url.port = String(proxy.port);
  proxiedDb = createDatabase(url.toString());
  const config = loadConfig({ NODE_ENV: 'test', PBX_TOKEN: TEST_PBX_TOKEN, LOG_LEVEL: 'silent', ROUTE_BUDGET_MS: String(BUDGET_MS), DEFAULT_DEPARTMENT: 'Reception' });
  redis = createRedis(inject('redisUrl'), 'command');
  // Built while the database answers, so the department directory is loaded.
  app = await buildApp({ config, logger: createLogger('silent'), database: proxiedDb, redis });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  proxy?.setMode('refuse');
  await proxiedDb?.close().catch(() => {});
  await proxy?.close();
  await database?.drop();
});

async function timedRoute(did: string, step = '1') {
  const started = performance.now();
  const res = await app.inject({
    method: 'GET',
    url: `/pbx/route?format=hash&caller=79161234567&did=${did}&uniqueid=b.1&linkedid=b.1&step=${step}`,
    headers: { 'x-switchboard-token': TEST_PBX_TOKEN },
  });
  return { res, elapsed: performance.now() - started, answer: parseLikeAsterisk(res.body) };
}

describe('/pbx/route when PostgreSQL misbehaves', () => {
  it('answers normally while the database is healthy', async () => {
    const { res, answer } = await timedRoute('74951110001');
    expect(res.statusCode).toBe(200);
    expect(answer.reason).toBe('unknown_caller');
  });

  it('answers with the DID department line within budget when the database hangs', async () => {
    proxy.setMode('blackhole');
    const { res, elapsed, answer } = await timedRoute('74951110001');
    expect(res.statusCode).toBe(200);
    expect(answer).toMatchObject({ action: 'queue', queue: 'sales', reason: 'fallback_error', call_id: 'b.1' });
    // The budget plus generous room for a loaded CI machine; without the fallback this would
    // wait for the pool's 2 s connection timeout or forever.
    expect(elapsed).toBeLessThan(BUDGET_MS + 250);
  });

  it('counts the fallback on /metrics', async () => {
    proxy.setMode('blackhole');
    expect((await timedRoute('74951110001')).answer.reason).toBe('fallback_error');
    proxy.setMode('forward');
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/^switchboard_route_fallbacks_total\{cause="(error|over_budget)"\} [1-9]/m);
    expect(res.body).toMatch(/^switchboard_route_decisions_total\{reason="fallback_error",action="queue"\} [1-9]/m);
  });

  it('answers with DEFAULT_DEPARTMENT for an unknown DID when the database is down', async () => {
    proxy.setMode('refuse');
    const { res, elapsed, answer } = await timedRoute('74950000000');
    expect(res.statusCode).toBe(200);
    expect(answer).toMatchObject({ action: 'dial', dial: 'PJSIP/500', reason: 'fallback_error' });
    expect(elapsed).toBeLessThan(BUDGET_MS + 250);
  });

  it('keeps /ready honest: PostgreSQL down means 503', async () => {
    proxy.setMode('refuse');
    const res = await app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(503);
    expect(res.json().components).toMatchObject({ postgres: 'down', routing: 'down' });
  });

  it('recovers when the database comes back', async () => {
    proxy.setMode('forward');
    const { answer } = await timedRoute('74951110001', '1');
    expect(['unknown_caller', 'fallback_error']).toContain(answer.reason);
    await expect.poll(async () => (await timedRoute('74951110001')).answer.reason, { timeout: 5000, interval: 100 }).toBe('unknown_caller');
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json().components).toMatchObject({ postgres: 'ok', redis: 'ok', routing: 'ok' });
  });
});
