import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clickToCallRoutes } from '../../src/clicktocall/clicktocall.routes.js';
import { createLocalStorage } from '../../src/recordings/local-storage.js';
import { createTestApp, type TestApp } from '../support/test-app.js';

// What the OpenAPI document promises and what the app does must agree: who needs a token, which
// errors each operation can give, and what a known path says to a method it does not have.

type Operation = { security?: unknown[]; responses: Record<string, { content?: Record<string, unknown> }>; requestBody?: { content: Record<string, unknown> } };
let t: TestApp;
let paths: Record<string, Record<string, Operation>>;

beforeAll(async () => {
  t = await createTestApp({}, {
    storage: createLocalStorage('/nonexistent-not-used'),
    clickToCallRoutes: clickToCallRoutes({ start: async () => ({ callId: 'c', linkedid: 'l', number: '+79161234567', client: null }) }),
  });
  paths = (await t.app.inject({ method: 'GET', url: '/docs/json' })).json().paths;
});
afterAll(() => t.close());

describe('the OpenAPI document', () => {
  it.each([
    ['/health', 'get'],
    ['/ready', 'get'],
    ['/api/auth/login', 'post'],
  ])('marks %s as public', (path, method) => {
    expect(paths[path]![method]!.security).toEqual([]);
  });

  it('marks the PBX endpoints with the PBX token, and documents its 401 and 403', () => {
    for (const [path, method] of [['/pbx/route', 'get'], ['/pbx/recordings/{uniqueid}', 'put']] as const) {
      const op = paths[path]![method]!;
      expect(op.security).toEqual([{ pbxToken: [] }]);
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
    }
  });

  it('documents 401 on every operation that needs a token, and 400 on every one that takes input', () => {
    for (const [path, methods] of Object.entries(paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const at = `${method} ${path}`;
        if (!op.security || op.security.length > 0) expect(op.responses, at).toHaveProperty('401');
      }
    }
    expect(paths['/api/webhooks/{id}']!.delete!.responses).toHaveProperty('400');
    expect(paths['/api/calls/{linkedid}/route-trace']!.get!.responses).toHaveProperty('400');
  });

  it('documents the HTML that /c2c answers, errors included', () => {
    const op = paths['/c2c']!.get!;
    for (const status of ['202', '400', '401']) expect(Object.keys(op.responses[status]!.content!)).toContain('text/html');
  });

  it('documents the request body of PUT /pbx/recordings/{uniqueid}', () => {
    const body = paths['/pbx/recordings/{uniqueid}']!.put!.requestBody;
    expect(Object.keys(body?.content ?? {})).toEqual(expect.arrayContaining(['audio/wav', 'application/octet-stream']));
  });
});

describe('a known path with a method it does not have', () => {
  it.each(['TRACE', 'PUT', 'PROPFIND'])('answers %s with 405 and Allow', async (method) => {
    const res = await t.app.inject({ method: method as 'GET', url: '/api/users/' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(res.json()).toMatchObject({ code: 'METHOD_NOT_ALLOWED', message: expect.any(String) });
  });

  it('reads parameters in the path (DELETE /api/users/7 → 405, Allow: GET, HEAD, PATCH)', async () => {
    const res = await t.app.inject({ method: 'DELETE', url: '/api/users/7' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, PATCH');
  });

  it('still answers 404 for a path nobody has', async () => {
    expect((await t.app.inject({ method: 'TRACE', url: '/nothing/here' })).statusCode).toBe(404);
  });

  it('answers a method Node itself does not know with 405 too, over a real socket', async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as { port: number };
    const raw = await new Promise<string>((resolve, reject) => {
      let data = '';
      const socket = connect(port, '127.0.0.1', () => socket.write('FOO /api/users/ HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('data', (chunk) => (data += chunk.toString()));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 405/);
    expect(raw).toMatch(/\r\nAllow: GET, HEAD, POST\r\n/);
  });
});
