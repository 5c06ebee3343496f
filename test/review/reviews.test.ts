import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { calls, recordings } from '../../src/calls/calls.table.js';
import { clients } from '../../src/clients/clients.table.js';
import { deals } from '../../src/deals/deals.table.js';
import { departments } from '../../src/departments/departments.table.js';
import { changeHistory } from '../../src/history/history.table.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';
import { connectScreen, insertUser, startInstance, uniquePrefix, type TestInstance } from '../support/test-runtime.js';

// Scorecards, reviews with comments at a moment, replies, who reads what, and the queue, on two
// instances sharing PostgreSQL and Redis: the reviewer writes on A, the manager listens on B.

let database: TestDatabase;
let a: TestInstance;
let b: TestInstance;
type Person = { id: number; token: string };
let sales: number;
let service: number;
let director: Person;
let curator: Person;
let otherCurator: Person;
let anna: Person;
let boris: Person;
let vera: Person;
const callIds: Record<string, number> = {};

const call = async (base: string, who: Person, method: string, path: string, body?: object) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${who.token}`, ...(body && { 'content-type': 'application/json' }) },
    ...(body && { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};

let seq = 0;
async function addCall(name: string, fields: Partial<typeof calls.$inferInsert>) {
  const linkedid = `1790000000.${++seq}`;
  const [row] = await database.db
    .insert(calls)
    .values({ systemName: 'default', linkedid, direction: 'inbound', startedAt: new Date('2026-11-23T09:00:00Z'), endedAt: new Date('2026-11-23T09:05:00Z'), disposition: 'answered', talkSeconds: 280, recordingUniqueid: linkedid, ...fields })
    .returning({ id: calls.id });
  callIds[name] = row!.id;
}

const criteria = [
  { key: 'greeting', label: 'Приветствие / Greeting', weight: 1, kind: 'yes_no' },
  { key: 'needs', label: 'Потребность / Needs', weight: 3, kind: 'scale', max: 5 },
];

beforeAll(async () => {
  database = await createTestDatabase();
  const [s] = await database.db.insert(departments).values({ name: 'Sales', lineKind: 'queue', lineTarget: 'sales' }).returning();
  const [v] = await database.db.insert(departments).values({ name: 'Service', lineKind: 'queue', lineTarget: 'service' }).returning();
  sales = s!.id;
  service = v!.id;
  director = await insertUser(database, { role: 'director', name: 'dora' });
  curator = await insertUser(database, { role: 'curator', name: 'carl', departmentId: sales });
  otherCurator = await insertUser(database, { role: 'curator', name: 'cleo', departmentId: service });
  anna = await insertUser(database, { role: 'manager', name: 'anna', departmentId: sales });
  boris = await insertUser(database, { role: 'manager', name: 'boris', departmentId: sales });
  vera = await insertUser(database, { role: 'manager', name: 'vera', departmentId: service });
  const [client] = await database.db.insert(clients).values({ name: 'ООО Ромашка', ownerId: anna.id }).returning();
  await database.db.insert(deals).values({ clientId: client!.id, title: 'Окна', status: 'contract_signed', ownerId: anna.id });
  // Anna answered two recorded calls and one whose file sits only under its Linkedid; Boris one; Vera one.
  await addCall('anna1', { answeredById: anna.id, clientId: client!.id, ownerId: anna.id, talkSeconds: 300 });
  await addCall('anna2', { answeredById: anna.id, talkSeconds: 30, startedAt: new Date('2026-11-24T09:00:00Z') });
  await addCall('anna3', { direction: 'outbound', initiatedById: anna.id, recordingUniqueid: null, startedAt: new Date('2026-11-25T09:00:00Z') });
  await database.db.insert(recordings).values({ systemName: 'default', uniqueid: `1790000000.${seq}`, storageKey: 'x.wav', contentType: 'audio/wav', sizeBytes: 10 });
  await addCall('unrecorded', { answeredById: anna.id, recordingUniqueid: null });
  await addCall('live', { answeredById: anna.id, disposition: null, endedAt: null });
  await addCall('boris1', { answeredById: boris.id });
  await addCall('vera1', { answeredById: vera.id });
  const prefix = uniquePrefix();
  a = await startInstance(database, {}, prefix);
  b = await startInstance(database, {}, prefix);
});

afterAll(async () => {
  await b?.runtime.stop();
  await a?.runtime.stop();
  await database?.drop();
});

describe('scorecards', () => {
  let cardId: number;

  it('a curator writes their department’s scorecard; a manager cannot; versions keep old criteria', async () => {
    const created = await call(a.baseUrl, curator, 'POST', '/api/scorecards', { name: 'Входящий', criteria });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ departmentId: sales, version: 1, criteria });
    cardId = created.body.id;
    expect((await call(a.baseUrl, anna, 'POST', '/api/scorecards', { name: 'x', criteria })).status).toBe(403);
    expect((await call(a.baseUrl, curator, 'POST', '/api/scorecards', { name: 'x', departmentId: service, criteria })).status).toBe(403);
    expect((await call(a.baseUrl, otherCurator, 'PATCH', `/api/scorecards/${cardId}`, { name: 'y' })).status).toBe(404);
    const dup = await call(a.baseUrl, curator, 'POST', '/api/scorecards', { name: 'x', criteria: [...criteria, criteria[0]] });
    expect(dup.status).toBe(400);
    expect(dup.body.message).toContain('greeting');
    // Anna sees what she is judged by; Vera (another department) does not.
    expect((await call(a.baseUrl, anna, 'GET', '/api/scorecards')).body.map((c: any) => c.id)).toContain(cardId);
    expect((await call(a.baseUrl, vera, 'GET', '/api/scorecards')).body.map((c: any) => c.id)).not.toContain(cardId);
  });

  it('a review made with version 1 keeps its criteria and total after the scorecard changes', async () => {
    const review = await call(a.baseUrl, curator, 'POST', `/api/calls/${callIds.anna2}/reviews`, { scorecardId: cardId, answers: { greeting: true, needs: 3 } });
    expect(review.status, JSON.stringify(review.body)).toBe(201);
    // (1 + 3·3/5) / 4 = 2.8 / 4 = 70 %
    expect(review.body).toMatchObject({ version: 1, total: 70 });
    const edited = await call(a.baseUrl, curator, 'PATCH', `/api/scorecards/${cardId}`, { criteria: [{ ...criteria[0], weight: 3 }, criteria[1]] });
    expect(edited.body.version).toBe(2);
    const again = await call(a.baseUrl, curator, 'GET', `/api/reviews/${review.body.id}`);
    expect(again.body).toMatchObject({ version: 1, total: 70, criteria });
    expect((await call(a.baseUrl, curator, 'GET', `/api/scorecards/${cardId}?version=1`)).body.criteria).toEqual(criteria);
    // Reviews made now use version 2: (3 + 3·3/5) / 6 = 4.8 / 6 = 80 %
    const v2 = await call(a.baseUrl, director, 'POST', `/api/calls/${callIds.boris1}/reviews`, { scorecardId: cardId, answers: { greeting: true, needs: 3 } });
    expect(v2.body).toMatchObject({ version: 2, total: 80 });
  });
});

describe('reviews', () => {
  let cardId: number;
  let reviewId: number;
  let commentId: number;

  beforeAll(async () => {
    cardId = (await call(a.baseUrl, director, 'POST', '/api/scorecards', { name: 'Общий / Company', criteria })).body.id;
  });

  it('the manager gets call.reviewed on the other instance; comments are pinned to moments', async () => {
    const screen = await connectScreen(b.wsUrl, anna.token);
    const res = await call(a.baseUrl, curator, 'POST', `/api/calls/${callIds.anna1}/reviews`, {
      scorecardId: cardId,
      answers: { greeting: false, needs: 5 },
      summary: 'Хорошо / Good',
      comments: [{ atSecond: 42.5, toSecond: 60, text: 'Перебил клиента' }, { atSecond: 120, text: 'Цена' }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    reviewId = res.body.id;
    expect(res.body).toMatchObject({ callId: callIds.anna1, managerId: anna.id, reviewerId: curator.id, total: 75, summary: 'Хорошо / Good' });
    expect(res.body.comments.map((c: any) => [c.atSecond, c.toSecond, c.text])).toEqual([[42.5, 60, 'Перебил клиента'], [120, null, 'Цена']]);
    commentId = res.body.comments[0].id;
    const frame = await screen.waitFor('call.reviewed');
    expect(frame).toMatchObject({ callId: callIds.anna1, reviewId, total: 75, reviewerId: curator.id });
    screen.socket.close();
    // In the history, with the reviewer as the actor.
    const [row] = await database.db.select().from(changeHistory).where(and(eq(changeHistory.tableName, 'call_reviews'), eq(changeHistory.rowId, String(reviewId))));
    expect(row).toMatchObject({ op: 'insert', actorId: curator.id, via: 'api' });
  });

  it('refuses what cannot be reviewed', async () => {
    const answers = { greeting: true, needs: 1 };
    // Another department's call, or one's own: as if it did not exist.
    expect((await call(a.baseUrl, curator, 'POST', `/api/calls/${callIds.vera1}/reviews`, { scorecardId: cardId, answers })).status).toBe(404);
    expect((await call(a.baseUrl, anna, 'POST', `/api/calls/${callIds.anna2}/reviews`, { scorecardId: cardId, answers })).status).toBe(404);
    const unrecorded = await call(a.baseUrl, curator, 'POST', `/api/calls/${callIds.unrecorded}/reviews`, { scorecardId: cardId, answers });
    expect(unrecorded.status).toBe(400);
    expect((await call(a.baseUrl, curator, 'POST', `/api/calls/${callIds.live}/reviews`, { scorecardId: cardId, answers })).status).toBe(400);
    const wrong = await call(a.baseUrl, curator, 'POST', `/api/calls/${callIds.anna2}/reviews`, { scorecardId: cardId, answers: { greeting: true, needs: 9 } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toContain('answers.needs');
    const range = await call(a.baseUrl, curator, 'POST', `/api/calls/${callIds.anna2}/reviews`, { scorecardId: cardId, answers, comments: [{ atSecond: 50, toSecond: 10, text: 'x' }] });
    expect(range.status).toBe(400);
    expect((await call(a.baseUrl, curator, 'POST', `/api/calls/999999/reviews`, { scorecardId: cardId, answers })).status).toBe(404);
  });

  it('the manager reads their own review, not a colleague’s; a curator’s read is audited, the manager’s not', async () => {
    expect((await call(b.baseUrl, anna, 'GET', `/api/reviews/${reviewId}`)).status).toBe(200);
    expect((await call(b.baseUrl, boris, 'GET', `/api/reviews/${reviewId}`)).status).toBe(404);
    expect((await call(b.baseUrl, boris, 'GET', `/api/calls/${callIds.anna1}/reviews`)).status).toBe(404);
    expect((await call(b.baseUrl, otherCurator, 'GET', `/api/reviews/${reviewId}`)).status).toBe(404);
    const reads = () => database.db.select().from(auditLog).where(eq(auditLog.action, 'review.read'));
    expect(await reads()).toEqual([]);
    expect((await call(b.baseUrl, director, 'GET', `/api/calls/${callIds.anna1}/reviews`)).body.map((r: any) => r.id)).toEqual([reviewId]);
    expect(await reads()).toEqual([expect.objectContaining({ actorId: director.id, entity: 'call', entityId: String(callIds.anna1), details: { reviewId, managerId: anna.id } })]);
  });

  it('the manager replies to a comment; the reviewer gets review.comment; a manager pins no new moments', async () => {
    const screen = await connectScreen(a.wsUrl, curator.token);
    const reply = await call(b.baseUrl, anna, 'POST', `/api/reviews/${reviewId}/comments`, { parentId: commentId, text: 'Клиент сам перебивал' });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body).toMatchObject({ parentId: commentId, authorId: anna.id, atSecond: null });
    expect(await screen.waitFor('review.comment')).toMatchObject({ reviewId, commentId: reply.body.id, authorId: anna.id });
    screen.socket.close();
    expect((await call(b.baseUrl, anna, 'POST', `/api/reviews/${reviewId}/comments`, { atSecond: 5, text: 'x' })).status).toBe(403);
    expect((await call(b.baseUrl, anna, 'POST', `/api/reviews/${reviewId}/comments`, { parentId: reply.body.id, text: 'x' })).status).toBe(400);
    expect((await call(b.baseUrl, boris, 'POST', `/api/reviews/${reviewId}/comments`, { parentId: commentId, text: 'x' })).status).toBe(404);
    const more = await call(a.baseUrl, curator, 'POST', `/api/reviews/${reviewId}/comments`, { atSecond: 200, toSecond: 210, text: 'Закрытие / Closing' });
    expect(more.status).toBe(201);
    const full = await call(b.baseUrl, anna, 'GET', `/api/reviews/${reviewId}`);
    expect(full.body.comments.map((c: any) => [c.parentId, c.text])).toEqual([
      [null, 'Перебил клиента'], [null, 'Цена'], [commentId, 'Клиент сам перебивал'], [null, 'Закрытие / Closing'],
    ]);
    const [history] = await database.db.select().from(changeHistory).where(and(eq(changeHistory.tableName, 'review_comments'), eq(changeHistory.rowId, String(reply.body.id))));
    expect(history).toMatchObject({ actorId: anna.id, op: 'insert' });
  });
});

describe('review queue', () => {
  const ids = (body: any) => body.items.map((i: any) => i.id).sort((x: number, y: number) => x - y);

  it('lists recorded, ended calls in the viewer’s scope', async () => {
    const all = await call(a.baseUrl, director, 'GET', '/api/review/queue');
    expect(all.status, JSON.stringify(all.body)).toBe(200);
    expect(ids(all.body)).toEqual([callIds.anna1, callIds.anna2, callIds.anna3, callIds.boris1, callIds.vera1].sort((x, y) => x! - y!));
    expect(all.body.total).toBe(5);
    expect(ids((await call(a.baseUrl, curator, 'GET', '/api/review/queue')).body)).toEqual([callIds.anna1, callIds.anna2, callIds.anna3, callIds.boris1]);
    expect(ids((await call(a.baseUrl, anna, 'GET', '/api/review/queue')).body)).toEqual([callIds.anna1, callIds.anna2, callIds.anna3]);
  });

  it('filters', async () => {
    const q = async (query: string) => ids((await call(a.baseUrl, director, 'GET', `/api/review/queue?${query}`)).body);
    expect(await q(`managerId=${anna.id}&reviewed=false`)).toEqual([callIds.anna3]);
    expect(await q(`reviewed=true&scoreMin=72`)).toEqual([callIds.anna1, callIds.boris1]);
    expect(await q(`reviewed=true&scoreMax=72`)).toEqual([callIds.anna2]);
    expect(await q(`departmentId=${service}`)).toEqual([callIds.vera1]);
    expect(await q('direction=outbound')).toEqual([callIds.anna3]);
    expect(await q('talkMin=100&talkMax=300')).toEqual([callIds.anna1, callIds.anna3, callIds.boris1, callIds.vera1]);
    expect(await q('dealStatus=contract_signed')).toEqual([callIds.anna1]);
    expect(await q('from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00Z')).toEqual([callIds.anna2]);
    const first = (await call(a.baseUrl, director, 'GET', '/api/review/queue?managerId=' + anna.id)).body.items[0];
    expect(first).toMatchObject({ id: callIds.anna3, managerName: 'anna', reviews: 0, lastTotal: null });
  });

  it('a random sample: N different unreviewed calls of the manager, every one of them drawn over many tries', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 30; i++) {
      const body = (await call(a.baseUrl, curator, 'GET', `/api/review/queue?random=true&reviewed=false&limit=1`)).body;
      expect(body.items).toHaveLength(1);
      seen.add(body.items[0].id);
    }
    // Unreviewed in Sales: anna3 only (anna1, anna2, boris1 are reviewed) — plus none else.
    expect([...seen]).toEqual([callIds.anna3]);
    const director2 = new Set<number>();
    for (let i = 0; i < 40; i++) director2.add((await call(a.baseUrl, director, 'GET', `/api/review/queue?random=true&limit=1`)).body.items[0].id);
    // Five calls, 40 draws: each is missed with probability (4/5)^40 ≈ 0.00013.
    expect(director2.size).toBe(5);
  });
});
