import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../../src/calls/calls.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { intakeSites, leads } from '../../src/intake/intake.table.js';
import { callReviews, scorecards, scorecardVersions } from '../../src/review/review.table.js';
import { routeDecisions } from '../../src/routing/route-decisions.table.js';
import { FakeAmiServer } from '../pbx/fake-ami-server.js';
import { waitFor } from '../pbx/wait.js';
import { pbxHeaders, wavFile } from '../recordings/helpers.js';
import { bearer } from '../support/test-app.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { FAKE_PBX_LOGIN, fakePbxEnv, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// Every endpoint that reads or changes an object of the client base, asked by every role about
// an object of their own, a colleague's (same department) and another department's. Whoever may
// not see an object gets 404 — never 403, never 200 — so nobody learns what exists outside
// their scope (auth/access.ts). The table below is checked against the OpenAPI document, so a
// new `{id}` endpoint fails here until somebody decides who may see it.

type Who = 'director' | 'curatorA' | 'managerA1' | 'assistantA1' | 'managerA2' | 'curatorB' | 'managerB';
type Owner = 'own' | 'colleague' | 'otherDept';
const WHO: readonly Who[] = ['director', 'curatorA', 'managerA1', 'assistantA1', 'managerA2', 'curatorB', 'managerB'];
const OWNERS: readonly Owner[] = ['own', 'colleague', 'otherDept'];

/** Who sees what: one answer for clients, their deals, notes, files, calls, reminders and owners. */
const SEES: Record<Who, readonly Owner[]> = {
  director: ['own', 'colleague', 'otherDept'],
  curatorA: ['own', 'colleague'],
  managerA1: ['own'],
  assistantA1: ['own'],
  managerA2: ['colleague'],
  curatorB: ['otherDept'],
  managerB: ['otherDept'],
};

interface Seeded {
  ownerId: number;
  phone: string;
  clientId: number;
  contactId: number;
  dealId: number;
  fileId: number;
  callId: number;
  linkedid: string;
  reminderId: number;
  leadId: number;
  reviewId: number;
}

interface Case {
  /** As in the OpenAPI document: `get /api/clients/{id}`. */
  op: string;
  url: (o: Seeded) => string;
  payload?: (o: Seeded, who: Who) => unknown;
  headers?: Record<string, string>;
  /** Who sees it, when not the client rule (SEES). */
  sees?: (who: Who, owner: Owner) => boolean;
  /** What a viewer who sees the object may get (a visible user may still be not theirs to change). */
  ok: readonly number[];
}

/** Figures and reviews (access.ts figuresScope): the client rule, except that an assistant sees nobody's but their own. */
const seesFigures = (who: Who, owner: Owner) => who !== 'assistantA1' && SEES[who].includes(owner);
/** Reviewing is the supervisors': a director any call, a curator their department's. */
const reviews = (who: Who, owner: Owner) => who === 'director' || (who === 'curatorA' && owner !== 'otherDept') || (who === 'curatorB' && owner === 'otherDept');
let scorecardId = 0;

const future = () => new Date(Date.now() + 86_400_000).toISOString();

const CASES: Case[] = [
  { op: 'get /api/clients/{id}', url: (o) => `/api/clients/${o.clientId}`, ok: [200] },
  { op: 'patch /api/clients/{id}', url: (o) => `/api/clients/${o.clientId}`, payload: () => ({ important: true }), ok: [200] },
  { op: 'get /api/clients/{id}/contacts', url: (o) => `/api/clients/${o.clientId}/contacts`, ok: [200] },
  { op: 'post /api/clients/{id}/contacts', url: (o) => `/api/clients/${o.clientId}/contacts`, payload: (_o, who) => ({ name: `by ${who}` }), ok: [201] },
  {
    op: 'patch /api/clients/{id}/contacts/{contactId}',
    url: (o) => `/api/clients/${o.clientId}/contacts/${o.contactId}`,
    payload: () => ({ position: 'Buyer' }),
    ok: [200],
  },
  { op: 'get /api/clients/{id}/notes', url: (o) => `/api/clients/${o.clientId}/notes`, ok: [200] },
  { op: 'post /api/clients/{id}/notes', url: (o) => `/api/clients/${o.clientId}/notes`, payload: (_o, who) => ({ text: `by ${who}` }), ok: [201] },
  { op: 'get /api/clients/{id}/history', url: (o) => `/api/clients/${o.clientId}/history`, ok: [200] },
  { op: 'post /api/deals/', url: () => '/api/deals', payload: (o, who) => ({ clientId: o.clientId, title: `by ${who}` }), ok: [201] },
  { op: 'get /api/deals/{id}', url: (o) => `/api/deals/${o.dealId}`, ok: [200] },
  { op: 'patch /api/deals/{id}', url: (o) => `/api/deals/${o.dealId}`, payload: () => ({ important: true }), ok: [200] },
  { op: 'post /api/deals/{id}/status', url: (o) => `/api/deals/${o.dealId}/status`, payload: () => ({ status: 'collecting_info' }), ok: [200, 409] },
  { op: 'get /api/deals/{id}/notes', url: (o) => `/api/deals/${o.dealId}/notes`, ok: [200] },
  { op: 'post /api/deals/{id}/notes', url: (o) => `/api/deals/${o.dealId}/notes`, payload: (_o, who) => ({ text: `by ${who}` }), ok: [201] },
  { op: 'get /api/deals/{id}/files', url: (o) => `/api/deals/${o.dealId}/files`, ok: [200] },
  {
    op: 'post /api/deals/{id}/files',
    url: (o) => `/api/deals/${o.dealId}/files?name=offer.pdf`,
    payload: () => Buffer.from('%PDF-1.4 matrix'),
    headers: { 'content-type': 'application/pdf' },
    ok: [201],
  },
  { op: 'get /api/deals/{id}/files/{fileId}', url: (o) => `/api/deals/${o.dealId}/files/${o.fileId}`, ok: [200] },
  { op: 'get /api/deals/{id}/history', url: (o) => `/api/deals/${o.dealId}/history`, ok: [200] },
  { op: 'get /api/calls/{id}', url: (o) => `/api/calls/${o.callId}`, ok: [200] },
  { op: 'get /api/calls/{id}/recording', url: (o) => `/api/calls/${o.callId}/recording`, ok: [200] },
  { op: 'head /api/calls/{id}/recording', url: (o) => `/api/calls/${o.callId}/recording`, ok: [200] },
  { op: 'get /api/calls/{linkedid}/route-trace', url: (o) => `/api/calls/${o.linkedid}/route-trace`, ok: [200] },
  { op: 'post /api/reminders/', url: () => '/api/reminders', payload: (o) => ({ clientId: o.clientId, dueAt: future() }), ok: [201] },
  { op: 'get /api/reminders/{id}', url: (o) => `/api/reminders/${o.reminderId}`, ok: [200] },
  { op: 'post /api/reminders/{id}/snooze', url: (o) => `/api/reminders/${o.reminderId}/snooze`, payload: () => ({ minutes: 10 }), ok: [200] },
  // Click-to-call by a client's id: the 404 comes before anything reaches the PBX. Three
  // originate cases × three objects stay under a director's 10 calls a minute.
  // Closing twice is a visible conflict (409), not a hidden object.
  { op: 'post /api/reminders/{id}/complete', url: (o) => `/api/reminders/${o.reminderId}/complete`, ok: [200, 409] },
  { op: 'post /api/reminders/{id}/cancel', url: (o) => `/api/reminders/${o.reminderId}/cancel`, ok: [200, 409] },
  { op: 'post /api/calls/originate', url: () => '/api/calls/originate', payload: (o) => ({ to: o.phone, clientId: o.clientId }), ok: [202] },
  { op: 'post /api/calls/originate {clientId}', url: () => '/api/calls/originate', payload: (o) => ({ clientId: o.clientId }), ok: [202] },
  { op: 'post /api/calls/originate {contactId}', url: () => '/api/calls/originate', payload: (o) => ({ contactId: o.contactId }), ok: [202] },
  // A waiting lead is the department's, for its curators and the directors (access.ts leadScope);
  // once assigned, assigning again is a visible conflict.
  {
    op: 'post /api/intake/leads/{id}/assign',
    url: (o) => `/api/intake/leads/${o.leadId}/assign`,
    payload: (o) => ({ userId: o.ownerId }),
    sees: (who, owner) => who === 'director' || (who === 'curatorA' && owner !== 'otherDept') || (who === 'curatorB' && owner === 'otherDept'),
    ok: [200, 409],
  },
  { op: 'get /api/calls/{id}/reviews', url: (o) => `/api/calls/${o.callId}/reviews`, sees: seesFigures, ok: [200] },
  {
    op: 'post /api/calls/{id}/reviews',
    url: (o) => `/api/calls/${o.callId}/reviews`,
    payload: () => ({ scorecardId, answers: { ok: true } }),
    sees: reviews,
    ok: [201],
  },
  { op: 'get /api/reviews/{id}', url: (o) => `/api/reviews/${o.reviewId}`, sees: seesFigures, ok: [200] },
  // A manager replies (parentId) but pins no moment: 403 on a review they do see.
  { op: 'post /api/reviews/{id}/comments', url: (o) => `/api/reviews/${o.reviewId}/comments`, payload: () => ({ atSecond: 1, text: 'x' }), sees: seesFigures, ok: [201, 403] },
  { op: 'get /api/stats/managers/{id}/timeline', url: (o) => `/api/stats/managers/${o.ownerId}/timeline`, sees: seesFigures, ok: [200] },
  { op: 'get /api/users/{id}', url: (o) => `/api/users/${o.ownerId}`, ok: [200] },
  // Seeing a user is not managing them: an assistant sees their manager but may not change
  // them (403 is right there: the user is visible). Out of scope is still 404.
  { op: 'patch /api/users/{id}', url: (o) => `/api/users/${o.ownerId}`, payload: () => ({ mobile: null }), ok: [200, 403] },
  { op: 'put /api/users/{id}/presence', url: (o) => `/api/users/${o.ownerId}/presence`, payload: () => ({ presence: 'available' }), ok: [200, 403] },
  { op: 'get /api/users/{id}/history', url: (o) => `/api/users/${o.ownerId}/history`, ok: [200, 403] },
];

/** Lists: the object is in the answer exactly when the viewer sees it. */
const LISTS: Array<{ name: string; url: (o: Seeded, who: Who) => string; id: (o: Seeded) => number }> = [
  { name: 'clients', url: () => '/api/clients?limit=200', id: (o) => o.clientId },
  { name: 'deals', url: (o) => `/api/deals?clientId=${o.clientId}`, id: (o) => o.dealId },
  { name: 'calls', url: (o) => `/api/calls?clientId=${o.clientId}`, id: (o) => o.callId },
  // Managers and assistants work their own list; supervisors look at the department's.
  { name: 'reminders', url: (_o, who) => `/api/reminders?scope=${/^(manager|assistant)/.test(who) ? 'mine' : 'department'}&status=pending&status=fired&status=done&status=cancelled`, id: (o) => o.reminderId },
  { name: 'users', url: () => '/api/users', id: (o) => o.ownerId },
];

/**
 * Paths with an id that are not about the client base: the company's settings and the
 * viewer's own things, each with its own rule and its own tests. Anything else must be above.
 */
const NOT_CLIENT_BASE = [
  'get /api/departments/{id}', 'patch /api/departments/{id}', 'delete /api/departments/{id}',
  'patch /api/client-lists/{id}', 'delete /api/client-lists/{id}',
  'patch /api/deal-types/{id}', 'delete /api/webhooks/{id}',
  'patch /api/intake/sites/{id}', 'delete /api/intake/sites/{id}', 'post /api/intake/sites/{id}/key',
  // An import is its starter's and the directors' (404 for anybody else: test/import/dry-run.test.ts).
  'get /api/import/jobs/{id}', 'post /api/import/jobs/{id}/check', 'post /api/import/jobs/{id}/run',
  'post /api/import/jobs/{id}/cancel', 'get /api/import/jobs/{id}/rejected',
  // The company's or a department's scorecards: their rule is tested in test/review/reviews.test.ts.
  'get /api/scorecards/{id}', 'patch /api/scorecards/{id}',
  // Destructive: their 404s are in clients.test.ts, contacts and handover tests; a matrix run
  // would delete the objects the other cases need.
  'delete /api/clients/{id}', 'delete /api/clients/{id}/contacts/{contactId}', 'delete /api/deals/{id}/files/{fileId}',
  'post /api/users/{id}/handover',
];

let database: TestDatabase;
let fake: FakeAmiServer;
let instance: TestInstance;
let dataDir: string;
const inject = (opts: InjectOptions) => instance.runtime.app.inject(opts);
const tokens = {} as Record<Who, string>;
const objects = {} as Record<Owner, Seeded>;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'sb-matrix-'));
  database = await createTestDatabase();
  fake = await FakeAmiServer.start(FAKE_PBX_LOGIN);
  // A full instance: reminders and click-to-call live beside the app (runtime.ts), not in it.
  instance = await startInstance(database, { ...fakePbxEnv(fake), DATA_DIR: dataDir, PBX_SYSTEM_NAME: 'default', OUTBOUND_DIAL_TEMPLATE: 'PJSIP/{number}@trunk' }, uniquePrefix());
  fake.onAction('Originate', (action, conn) => conn.respond(action, 'Success', { Message: 'Originate successfully queued' }));
  await waitFor(() => instance.runtime.leader.isLeader() && instance.runtime.ami.status() === 'connected', 'the instance to lead and log in', 5_000);
  const db = database.db;
  const [depA] = await db.insert(departments).values({ name: 'A', lineKind: 'queue', lineTarget: 'a' }).returning();
  const [depB] = await db.insert(departments).values({ name: 'B', lineKind: 'queue', lineTarget: 'b' }).returning();
  const users = {} as Record<Who, { id: number; token: string }>;
  users.director = await insertUser(database, { role: 'director', name: 'director', extension: '100' });
  users.curatorA = await insertUser(database, { role: 'curator', name: 'curator', departmentId: depA!.id, extension: '110' });
  users.managerA1 = await insertUser(database, { role: 'manager', name: 'manager', departmentId: depA!.id, extension: '111' });
  users.managerA2 = await insertUser(database, { role: 'manager', name: 'manager', departmentId: depA!.id, extension: '112' });
  users.assistantA1 = await insertUser(database, { role: 'assistant', name: 'assistant', departmentId: depA!.id, managerId: users.managerA1.id, extension: '113' });
  users.curatorB = await insertUser(database, { role: 'curator', name: 'curator', departmentId: depB!.id, extension: '120' });
  users.managerB = await insertUser(database, { role: 'manager', name: 'manager', departmentId: depB!.id, extension: '121' });
  for (const who of WHO) tokens[who] = users[who].token;

  const owners: Record<Owner, Who> = { own: 'managerA1', colleague: 'managerA2', otherDept: 'managerB' };
  [{ id: scorecardId }] = (await db.insert(scorecards).values({ name: 'matrix' }).returning({ id: scorecards.id })) as [{ id: number }];
  let n = 0;
  for (const owner of OWNERS) {
    const as = tokens[owners[owner]];
    const make = async (url: string, payload: unknown, headers: Record<string, string> = {}) => {
      const res = await inject({ method: 'POST', url, headers: { ...bearer(as), ...headers }, payload: payload as object });
      if (res.statusCode !== 201) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
      return res.json().id as number;
    };
    n++;
    const clientId = await make('/api/clients', { name: `Client ${owner}`, phones: [`+7916555010${n}`] });
    const contactId = await make(`/api/clients/${clientId}/contacts`, { name: 'Olga', phones: [`+7916555020${n}`] });
    const dealId = await make('/api/deals', { clientId, title: `Deal ${owner}` });
    const fileId = await make(`/api/deals/${dealId}/files?name=a.pdf`, Buffer.from('%PDF-1.4'), { 'content-type': 'application/pdf' });
    const reminderId = await make('/api/reminders', { clientId, dueAt: future() });
    const linkedid = `matrix.${owner}`;
    const ownerId = users[owners[owner]].id;
    const [call] = await db
      .insert(calls)
      .values({ systemName: 'default', linkedid, direction: 'inbound', startedAt: new Date(), ownerId, clientId, disposition: 'answered', answeredById: ownerId, recordingUniqueid: linkedid })
      .returning({ id: calls.id });
    await db.insert(routeDecisions).values({
      linkedid, uniqueid: linkedid, step: 1, lastStatus: '', callerRaw: '79165550101', caller: '+79165550101',
      did: '+74951110001', action: 'dial', reason: 'owner', answer: { action: 'dial' }, candidates: [], managerId: ownerId, clientId, latencyMs: 1,
    });
    const departmentId = owner === 'otherDept' ? depB!.id : depA!.id;
    const [site] = await db.insert(intakeSites).values({ name: `site ${owner}`, departmentId, allowedOrigin: 'https://example.ru', keyHash: `hash-${owner}`, keyHint: 'k' }).returning();
    const [lead] = await db.insert(leads).values({ siteId: site!.id, departmentId, name: 'Visitor', phone: `+7916555030${n}`, phoneRaw: `+7916555030${n}` }).returning();
    const stored = await inject({ method: 'PUT', url: `/pbx/recordings/${linkedid}`, headers: pbxHeaders(), payload: wavFile(10) });
    if (stored.statusCode >= 300) throw new Error(`recording: ${stored.statusCode} ${stored.body}`);
    const [version] = await db.insert(scorecardVersions).values({ scorecardId, version: 1, criteria: [{ key: 'ok', label: 'ok', weight: 1, kind: 'yes_no' }] }).onConflictDoNothing().returning();
    const [versionId] = version ? [version.id] : (await db.select({ id: scorecardVersions.id }).from(scorecardVersions)).map((v) => v.id);
    const [review] = await db.insert(callReviews).values({ callId: call!.id, scorecardVersionId: versionId!, reviewerId: users.director.id, managerId: ownerId, answers: { ok: true }, total: 100 }).returning();
    objects[owner] = { leadId: lead!.id, ownerId, phone: `+7916555010${n}`, clientId, contactId, dealId, fileId, callId: call!.id, linkedid, reminderId, reviewId: review!.id };
  }
});

afterAll(async () => {
  await instance?.runtime.stop();
  await fake?.close();
  await database?.drop();
  await rm(dataDir, { recursive: true, force: true });
});

const ask = (c: Case, who: Who, o: Seeded) => {
  const [method] = c.op.split(' ');
  const payload = c.payload?.(o, who);
  return inject({
    method: method!.toUpperCase() as 'GET',
    url: c.url(o),
    headers: { ...bearer(tokens[who]), ...c.headers },
    ...(payload !== undefined && { payload: payload as object }),
  });
};

describe('the visibility matrix', () => {
  it('covers every endpoint with an id in the OpenAPI document', async () => {
    const doc = (await inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> };
    const documented = Object.entries(doc.paths)
      .filter(([p]) => p.startsWith('/api/') && p.includes('{'))
      .flatMap(([p, methods]) => Object.keys(methods).map((m) => `${m} ${p}`));
    const covered = new Set([...CASES.map((c) => c.op), ...NOT_CLIENT_BASE]);
    expect(documented.filter((op) => !covered.has(op)), 'endpoints with an id the matrix does not cover').toEqual([]);
  });

  // One answer per (endpoint, viewer, object); all failures reported together.
  it.each(CASES.map((c) => [c.op, c] as const))('%s', async (_op, c) => {
    const wrong: string[] = [];
    for (const who of WHO) {
      for (const owner of OWNERS) {
        const res = await ask(c, who, objects[owner]);
        const sees = c.sees?.(who, owner) ?? SEES[who].includes(owner);
        const fine = sees ? c.ok.includes(res.statusCode) : res.statusCode === 404;
        if (!fine) wrong.push(`${who} on ${owner}'s: ${res.statusCode} (want ${sees ? c.ok.join('/') : 404}) ${res.body.slice(0, 120)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it.each(LISTS.map((l) => [l.name, l] as const))('the %s list shows exactly what the viewer sees', async (_name, l) => {
    const wrong: string[] = [];
    for (const who of WHO) {
      for (const owner of OWNERS) {
        const res = await inject({ method: 'GET', url: l.url(objects[owner], who), headers: bearer(tokens[who]) });
        const body = res.json() as { items?: Array<{ id: number }> } | Array<{ id: number }>;
        const items = Array.isArray(body) ? body : (body.items ?? []);
        const listed = res.statusCode === 200 && items.some((i) => i.id === l.id(objects[owner]));
        if (listed !== SEES[who].includes(owner)) wrong.push(`${who} on ${owner}'s: ${res.statusCode} listed=${listed}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
