import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { pbxGuard } from '../../src/auth/pbx-guard.js';
import { loadConfig } from '../../src/config.js';

// The /pbx/* guard alone, on a bare Fastify instance: who may call with which token.

async function ask(env: Record<string, string>, remoteAddress: string, token: string) {
  const app = Fastify();
  app.addHook('onRequest', pbxGuard(loadConfig(env)));
  app.get('/pbx/route', async () => 'ok');
  const res = await app.inject({ method: 'GET', url: '/pbx/route', headers: { 'x-switchboard-token': token }, remoteAddress });
  await app.close();
  return res;
}

const DEV_TOKEN = 'dev-only-pbx-token-change-me';
const REAL_TOKEN = 'a-real-token-0123456789';

describe('pbxGuard', () => {
  it.each(['127.0.0.1', '127.0.1.1', '::1', '::ffff:127.0.0.1'])('accepts the development token from loopback (%s)', async (ip) => {
    expect((await ask({}, ip, DEV_TOKEN)).statusCode).toBe(200);
  });

  it.each(['10.0.0.5', '192.168.1.20', '::ffff:10.0.0.5', 'fd00::5'])('refuses the development token from %s, saying why', async (ip) => {
    const res = await ask({ HOST: '0.0.0.0' }, ip, DEV_TOKEN);
    expect(res.statusCode).toBe(403);
    expect(res.json().message).toMatch(/development PBX token.*set PBX_TOKEN/);
  });

  it('accepts a configured token from anywhere (PBX_ALLOWED_IPS narrows that)', async () => {
    expect((await ask({ PBX_TOKEN: REAL_TOKEN }, '10.0.0.5', REAL_TOKEN)).statusCode).toBe(200);
    expect((await ask({ PBX_TOKEN: REAL_TOKEN, PBX_ALLOWED_IPS: '10.0.0.6' }, '10.0.0.5', REAL_TOKEN)).statusCode).toBe(403);
    expect((await ask({ PBX_TOKEN: REAL_TOKEN }, '10.0.0.5', DEV_TOKEN)).statusCode).toBe(403);
  });
});
