import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { insertUser } from '../support/test-runtime.js';

// Secrets never reach a log line, even at debug level: the PBX token in Asterisk's query string,
// bearer tokens, passwords in bodies.

const PBX_TOKEN = 'pbx-token-that-must-not-leak-1234';
let lines = '';
let database: TestDatabase;
let app: Awaited<ReturnType<typeof buildApp>>;
let redis: ReturnType<typeof createRedis>;

beforeAll(async () => {
  database = await createTestDatabase();
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines += chunk.toString();
      done();
    },
  });
  const config = loadConfig({ NODE_ENV: 'test', PBX_TOKEN, LOG_LEVEL: 'trace' });
  redis = createRedis(inject('redisUrl'), 'command');
  app = await buildApp({ config, logger: createLogger('trace', sink), database, redis });
  await app.ready();
});

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  await database?.drop();
});

describe('log redaction', () => {
  it('keeps PBX tokens, bearer tokens and passwords out of the log', async () => {
    const user = await insertUser(database, { role: 'director', name: 'dir' });
    await app.inject({ method: 'GET', url: `/pbx/route?caller=79161234567&did=74951110001&token=${PBX_TOKEN}&format=hash` });
    await app.inject({ method: 'GET', url: '/pbx/route?caller=1', headers: { 'x-switchboard-token': PBX_TOKEN } });
    await app.inject({ method: 'GET', url: '/api/auth/me', headers: { authorization: `Bearer ${user.token}` } });
    await app.inject({ method: 'GET', url: `/api/auth/me?token=${user.token}` });
    await app.inject({ method: 'POST', url: '/api/auth/login', payload: { login: 'nobody', password: 'hunter2-secret-password' } });

    expect(lines).toContain('/pbx/route'); // the requests were logged…
    expect(lines).toContain('[REDACTED]');
    expect(lines).not.toContain(PBX_TOKEN); // …without their secrets
    expect(lines).not.toContain(user.token);
    expect(lines).not.toContain('hunter2-secret-password');
  });
});
