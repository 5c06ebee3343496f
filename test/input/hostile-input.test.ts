import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/passwords.js';
import { issueToken } from '../../src/auth/tokens.js';
import { users } from '../../src/users/users.table.js';
import { FakeAmiServer } from '../pbx/fake-ami-server.js';
import { waitFor } from '../pbx/wait.js';
import { TEST_PBX_TOKEN } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { FAKE_PBX_LOGIN, fakePbxEnv, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';
import { encodePart, hostileBody, hostileScalar } from './hostile.js';

// Every operation of the app's own OpenAPI document gets hostile input, with a director's token
// and without one. A new endpoint is covered the day it is added. FUZZ_RUNS raises the count.
const RUNS = Number(process.env.FUZZ_RUNS ?? 40);

interface Parameter { in: string; name: string; schema?: object }
interface Operation { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema?: object }> }; responses: Record<string, { content?: Record<string, unknown> }> }

let database: TestDatabase;
let fake: FakeAmiServer;
let instance: TestInstance;
let dataDir: string;
let director: string;
let operations: Array<{ method: string; path: string; op: Operation }>;
const seen = new Map<string, Set<number>>();

beforeAll(async () => {
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  fake.onAction('Originate', (action, conn) => conn.respond(action, 'Success', { Message: 'Originate successfully queued' }));
  dataDir = await mkdtemp(path.join(tmpdir(), 'sb-fuzz-'));
  // An id no generated path parameter will hit by chance, so no fuzzed PATCH disables our director.
  await database.pool.query('alter table users alter column id restart with 2000000000');
  const [row] = await database.db
    .insert(users)
    .values({ login: 'fuzz-director', name: 'Director', role: 'director', extension: '100', passwordHash: await hashPassword('not used here') })
    .returning({ id: users.id });
  director = (await issueToken(database.db, row!.id, 1)).token;
  instance = await startInstance(database, { ...fakePbxEnv(fake), PBX_SYSTEM_NAME: uniquePrefix(), DATA_DIR: dataDir }, uniquePrefix());
  await waitFor(() => instance.runtime.leader.isLeader() && instance.runtime.ami.status() === 'connected', 'the instance to lead and log in', 5_000);
  const doc = (await instance.runtime.app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, Operation>> };
  operations = Object.entries(doc.paths).flatMap(([p, methods]) => Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path: p, op })));
});

afterAll(async () => {
  await instance?.runtime.stop();
  await fake?.close();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  if (process.env.FUZZ_REPORT) console.log(JSON.stringify(Object.fromEntries([...seen].map(([k, v]) => [k, [...v].sort()])), null, 1));
});

/** The documented answer for a status: exact, `4XX`, or `default`. */
const documented = (op: Operation, status: number) => op.responses[String(status)] ?? op.responses[`${String(status)[0]}XX`] ?? op.responses.default;

function requestFor(op: Operation, template: string) {
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === 'path');
  const queryParams = params.filter((p) => p.in === 'query' && p.name !== 'token');
  const bodyTypes = Object.keys(op.requestBody?.content ?? {});
  return fc.record({
    // '', '.' and '..' make another path (`/a//b` → `/a/b`), whose 404/405 is not this operation's.
    pathValues: fc.tuple(...pathParams.map(() => hostileScalar.filter((v) => !['', '.', '..'].includes(v)))),
    query: fc.array(fc.tuple(fc.constantFrom(...queryParams.map((p) => p.name), 'extra'), hostileScalar), { maxLength: 4 }),
    body: hostileBody(op.requestBody?.content[bodyTypes[0] ?? '']?.schema),
    contentType: fc.constantFrom(...bodyTypes, 'application/json', 'text/plain'),
    auth: fc.constantFrom('director', 'director', 'director', 'none'),
  }).map(({ pathValues, query, body, contentType, auth }) => {
    let url = template;
    pathParams.forEach((p, i) => (url = url.replace(`{${p.name}}`, encodePart(pathValues[i]!))));
    if (query.length) url += `?${query.map(([k, v]) => `${k}=${encodePart(v)}`).join('&')}`;
    const headers: Record<string, string> = auth === 'none' ? {} : { authorization: `Bearer ${director}`, 'x-switchboard-token': TEST_PBX_TOKEN };
    if (body !== undefined) headers['content-type'] = contentType;
    return { url, headers, body, auth };
  });
}

describe('hostile input on every documented operation', () => {
  it('reads a document with the operations of every feature', () => {
    expect(operations.length).toBeGreaterThan(30);
    expect(operations.map((o) => `${o.method} ${o.path}`)).toEqual(expect.arrayContaining(['POST /api/auth/login', 'PUT /pbx/recordings/{uniqueid}', 'GET /c2c', 'POST /api/calls/originate']));
  });

  it('answers without 5xx, with a documented status, and 4xx bodies carry a message', async () => {
    const failures: string[] = [];
    for (const { method, path: template, op } of operations) {
      // Logging out revokes the token every other request uses.
      if (template === '/api/auth/logout') continue;
      const at = `${method} ${template}`;
      let found = '';
      await fc.assert(
        fc.asyncProperty(requestFor(op, template), async (req) => {
          const res = await instance.runtime.app.inject({ method: method as 'GET', url: req.url, headers: req.headers, ...(req.body !== undefined && { payload: req.body }) });
          const statuses = seen.get(at) ?? new Set();
          seen.set(at, statuses.add(res.statusCode));
          const problem =
            res.statusCode >= 500 ? `answered ${res.statusCode}: ${res.body.slice(0, 120)}`
            : !documented(op, res.statusCode) ? `answered ${res.statusCode}, not in the document: ${res.body.slice(0, 120)}`
            : !mediaTypeDocumented(documented(op, res.statusCode)!, res.headers['content-type'], res.body) ? `answered ${res.statusCode} as ${String(res.headers['content-type'])}, not a documented media type`
            : res.statusCode >= 400 && method !== 'HEAD' && !hasMessage(res.headers['content-type'], res.body) ? `answered ${res.statusCode} without a message: ${res.body.slice(0, 120)}`
            : null;
          if (problem) throw new Error((found = `${at} [${req.auth}] ${problem} | ${req.url.slice(0, 120)} | ${JSON.stringify(req.body)?.slice(0, 120)}`));
        }),
        { numRuns: RUNS, endOnFailure: true },
      ).catch((error: Error) => failures.push(found || error.message.slice(0, 600)));
    }
    expect(failures).toEqual([]);
    // Still alive and serving.
    expect((await instance.runtime.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  }, 120_000);

  it('lets no control character reach an AMI action', async () => {
    // A user of its own: the fuzzing above may have used up the director's click-to-call rate.
    const caller = await insertUser(database, { role: 'manager', name: 'Caller', extension: '101' });
    const dial = (to: string) =>
      instance.runtime.app.inject({ method: 'POST', url: '/api/calls/originate', headers: { authorization: `Bearer ${caller.token}` }, payload: { to } });
    const before = fake.actions.length;
    for (const to of ['+7 916 123-45-67\r\nAction: Hangup', '+79161234567\u0000', '8916\t1234567', '+7916123\u001b4567', '+79161234567\n']) {
      expect((await dial(to)).statusCode, JSON.stringify(to)).toBeLessThan(500);
    }
    expect((await dial('+7 916 123-45-68')).statusCode).toBe(202);
    await waitFor(() => fake.actions.slice(before).some((a) => a.name.toLowerCase() === 'originate'), 'an Originate', 5_000);
    for (const action of fake.actions) {
      for (const [key, value] of Object.entries(action.raw)) expect(`${key}: ${value}`).not.toMatch(/[\u0000-\u001f\u007f]/);
    }    // A CR LF in a value would have made a header (or an action) of its own: look at the bytes too.
    expect(fake.received).not.toMatch(/Action: Hangup|[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f]/i);
  });
});

/** A body goes out as one of the media types the document lists for that status. */
function mediaTypeDocumented(response: { content?: Record<string, unknown> }, contentType: unknown, body: string): boolean {
  if (!response.content || body === '') return true;
  const type = String(contentType ?? '').split(';')[0]!.trim();
  return Object.keys(response.content).some((t) => t === type || t === '*/*' || (t.endsWith('/*') && type.startsWith(t.slice(0, -1))));
}

function hasMessage(contentType: unknown, body: string): boolean {
  if (String(contentType).startsWith('text/html')) return body.length > 0;
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    return typeof message === 'string' && message.length > 0;
  } catch {
    return false;
  }
}
