import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { departmentDids, departments } from '../../src/departments/departments.table.js';
import { metricsAccess } from '../../src/metrics/metrics.routes.js';
import { FakeAmiServer } from '../pbx/fake-ami-server.js';
import { waitFor } from '../pbx/wait.js';
import { TEST_PBX_TOKEN } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, FAKE_PBX_LOGIN, fakePbxEnv, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// /metrics through a running instance: a route request and a replayed real call must move the
// figures Prometheus reads.

const METRICS_TOKEN = 'metrics-token-0123456789';
let database: TestDatabase;
let fake: FakeAmiServer;
let instance: TestInstance;
let anna: { id: number; token: string };

beforeAll(async () => {
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  const [sales] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'dial', lineTarget: 'Local/200@fake-phones' }).returning();
  await database.db.insert(departmentDids).values({ did: '+74951110001', departmentId: sales!.id });
  anna = await insertUser(database, { role: 'manager', name: 'anna', extension: '101', departmentId: sales!.id, presence: 'available' });
  instance = await startInstance(database, { ...fakePbxEnv(fake), METRICS_TOKEN }, uniquePrefix());
  await waitFor(() => fake.sessions.length === 1, 'the instance to log in to the fake PBX', 5_000);
});

afterAll(async () => {
  await instance?.runtime.stop();
  await fake?.close();
  await database?.drop();
});

const scrape = async () => {
  const res = await instance.runtime.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  return res.body;
};

/** The sum of every sample of a metric whose labels contain `labels`. */
function value(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^(\w+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === name && (match[2] ?? '').includes(labels)) sum += Number(match[3]);
  }
  return sum;
}

describe('GET /metrics', () => {
  it('needs the token (or an allowed address)', async () => {
    expect((await instance.runtime.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    expect((await instance.runtime.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer wrong-token-0123456789' } })).statusCode).toBe(403);
    const open = metricsAccess({ METRICS_TOKEN: '', METRICS_ALLOWED_IPS: '10.0.0.5' });
    expect(open('10.0.0.5', undefined)).toBe('ok');
    expect(open('::ffff:10.0.0.5', undefined)).toBe('ok');
    expect(open('127.0.0.1', undefined)).toBe('forbidden');
    expect(metricsAccess({ METRICS_TOKEN: '', METRICS_ALLOWED_IPS: '' })('127.0.0.1', undefined)).toBe('ok');
  });

  it('counts a route decision by reason, with its latency', async () => {
    const before = await scrape();
    const res = await instance.runtime.app.inject({
      method: 'GET',
      url: `/pbx/route?caller=79160000000&did=74951110001&uniqueid=1.1&linkedid=1.1&step=1&token=${TEST_PBX_TOKEN}`,
    });
    expect(res.statusCode).toBe(200);
    const after = await scrape();
    expect(value(after, 'switchboard_route_decisions_total') - value(before, 'switchboard_route_decisions_total')).toBe(1);
    expect(value(after, 'switchboard_route_decisions_total', `reason="${res.json().reason}"`)).toBeGreaterThanOrEqual(1);
    expect(value(after, 'switchboard_route_duration_seconds_count') - value(before, 'switchboard_route_duration_seconds_count')).toBe(1);
    expect(after).toMatch(/^switchboard_route_fallbacks_total\{cause="stale"\} 0$/m);
  });

  it('moves the call, pop, AMI, WebSocket, queue and pool figures on a replayed call', async () => {
    const screen = await connectScreen(instance.wsUrl, anna.token);
    const before = await scrape();
    expect(value(before, 'switchboard_websocket_connections')).toBe(1);
    expect(value(before, 'switchboard_ami_connection_state', 'state="connected"')).toBe(1);
    expect(value(before, 'switchboard_db_pool_connections', 'state="total"')).toBeGreaterThan(0);
    expect(before).toMatch(/^switchboard_queue_jobs\{queue="webhooks",state="failed"\} 0$/m);
    expect(before).toMatch(/^switchboard_queue_jobs\{queue="reminders",state="waiting"\} \d+$/m);

    await fake.replay('a_inbound_answered');
    await screen.waitFor('call.ringing');
    const after = await scrape();
    expect(value(after, 'switchboard_screen_pops_total')).toBeGreaterThanOrEqual(1);
    expect(value(after, 'switchboard_screen_pop_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(after).toMatch(/^switchboard_live_calls \d+$/m);
    screen.close();

    // A PBX restart: the connection drops and comes back, counted as one reconnect.
    for (const session of fake.sessions) session.socket.destroy();
    await waitFor(() => instance.runtime.ami.status() !== 'connected', 'the drop', 5_000);
    await waitFor(() => instance.runtime.ami.status() === 'connected', 'the reconnect', 5_000);
    const last = await scrape();
    expect(value(last, 'switchboard_ami_reconnects_total')).toBe(1);
  });
});
