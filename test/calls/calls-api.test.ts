import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../../src/calls/calls.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { routeDecisions } from '../../src/routing/route-decisions.table.js';
import { bearer, createTestApp, createUser, type TestApp } from '../support/test-app.js';

// GET /api/calls: filters, pagination, and above all who may see which calls.

let t: TestApp;
const u: Record<string, { id: number; token: string }> = {};
const ids: Record<string, number> = {};

async function insertCall(linkedid: string, fields: Partial<typeof calls.$inferInsert>) {
  const [row] = await t.database.db
    .insert(calls)
    .values({ systemName: 'default', linkedid, direction: 'inbound', startedAt: new Date('2026-11-20T10:00:00Z'), ...fields })
    .returning({ id: calls.id });
  ids[linkedid] = row!.id;
}

const list = async (who: string, query = '') => {
  const res = await t.app.inject({ method: 'GET', url: `/api/calls${query}`, headers: bearer(u[who]!.token) });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: Array<{ linkedid: string }>; total: number };
};
const linkedids = (body: { items: Array<{ linkedid: string }> }) => body.items.map((c) => c.linkedid).sort();

beforeAll(async () => {
  t = await createTestApp();
  const db = t.database.db;
  const [sales] = await db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'sales' }).returning();
  const [support] = await db.insert(departments).values({ name: 'Support', lineKind: 'queue', lineTarget: 'support' }).returning();
  u.director = await createUser(t, { role: 'director' });
  u.curator = await createUser(t, { role: 'curator', departmentId: sales!.id });
  u.anna = await createUser(t, { role: 'manager', departmentId: sales!.id });
  u.assistant = await createUser(t, { role: 'assistant', departmentId: sales!.id, managerId: u.anna.id });
  u.boris = await createUser(t, { role: 'manager', departmentId: sales!.id });
  u.sam = await createUser(t, { role: 'manager', departmentId: support!.id });

  await insertCall('c.anna-owned', { ownerId: u.anna.id, disposition: 'missed', endedAt: new Date() });
  await insertCall('c.anna-answered', { ownerId: u.boris.id, answeredById: u.anna.id, disposition: 'answered', talkSeconds: 40, recordingUniqueid: 'c.anna-answered' });
  await insertCall('c.boris', { ownerId: u.boris.id, disposition: 'answered', direction: 'outbound', initiatedById: u.boris.id, startedAt: new Date('2026-11-21T10:00:00Z') });
  await insertCall('c.assistant', { initiatedById: u.assistant.id, direction: 'outbound', disposition: 'failed' });
  await insertCall('c.sam', { ownerId: u.sam.id, disposition: 'answered' });
  await t.database.db.insert(routeDecisions).values({
    linkedid: 'c.anna-owned', uniqueid: 'c.anna-owned', step: 1, lastStatus: '', callerRaw: '79161234567', caller: '+79161234567',
    did: '+74951110001', action: 'dial', reason: 'owner', answer: { action: 'dial' }, candidates: [], managerId: u.anna.id, latencyMs: 1.5,
  });
});

afterAll(() => t?.close());

describe('GET /api/calls visibility', () => {
  it('a director sees every call', async () => {
    expect((await list('director')).total).toBe(5);
  });

  it('a curator sees the calls of their department’s people only', async () => {
    expect(linkedids(await list('curator'))).toEqual(['c.anna-answered', 'c.anna-owned', 'c.assistant', 'c.boris']);
  });

  it('a manager sees calls of their clients, calls they took, and their assistant’s work', async () => {
    expect(linkedids(await list('anna'))).toEqual(['c.anna-answered', 'c.anna-owned', 'c.assistant']);
  });

  it('an assistant sees what their manager sees', async () => {
    expect(linkedids(await list('assistant'))).toEqual(linkedids(await list('anna')));
  });

  it('a manager of another department sees none of these', async () => {
    expect(linkedids(await list('sam'))).toEqual(['c.sam']);
  });

  it('GET /api/calls/:id hides a call the viewer may not see (404), by id and by Linkedid', async () => {
    for (const ref of [String(ids['c.boris']), 'c.boris']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/calls/${ref}`, headers: bearer(u.anna!.token) });
      expect(res.statusCode).toBe(404);
    }
  });
});

describe('GET /api/calls filters', () => {
  it('filters by direction, disposition, recording and period', async () => {
    expect(linkedids(await list('director', '?direction=outbound'))).toEqual(['c.assistant', 'c.boris']);
    expect(linkedids(await list('director', '?disposition=missed'))).toEqual(['c.anna-owned']);
    expect(linkedids(await list('director', '?withRecording=true'))).toEqual(['c.anna-answered']);
    expect(linkedids(await list('director', '?from=2026-11-21T00:00:00Z'))).toEqual(['c.boris']);
    expect(linkedids(await list('director', `?managerId=${u.anna!.id}`))).toEqual(['c.anna-answered', 'c.anna-owned']);
  });

  it('pages, newest first', async () => {
    const first = await list('director', '?limit=2&offset=0');
    const rest = await list('director', '?limit=10&offset=2');
    expect(first.items).toHaveLength(2);
    expect(first.items[0]!.linkedid).toBe('c.boris');
    expect(first.total).toBe(5);
    expect(rest.items).toHaveLength(3);
  });

  it('refuses bad filters with a 400 that names them', async () => {
    for (const [query, word] of [['?direction=sideways', 'direction'], ['?limit=1000', 'limit'], ['?from=yesterday', 'from']] as const) {
      const res = await t.app.inject({ method: 'GET', url: `/api/calls${query}`, headers: bearer(u.director!.token) });
      expect(res.statusCode).toBe(400);
      expect(res.json().message).toContain(word);
    }
  });
});

describe('GET /api/calls/:id', () => {
  it('returns the call with its routing trace', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/calls/c.anna-owned', headers: bearer(u.anna!.token) });
    expect(res.statusCode).toBe(200);
    // A trace row from before migration 0025 (json answer) reads back as it was stored.
    expect(res.json()).toMatchObject({ linkedid: 'c.anna-owned', disposition: 'missed', routeTrace: [{ step: 1, reason: 'owner', answer: { action: 'dial' } }] });
  });
});
