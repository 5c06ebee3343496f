import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { eq } from 'drizzle-orm';
import { createReminderHarness, endedCall, type ReminderHarness } from './reminders-harness.js';

type User = Awaited<ReturnType<ReminderHarness['user']>>;

// The HTTP surface; the worker is not started, so nothing fires here (see reminder-firing.test.ts).
let h: ReminderHarness;
let depA: number;
let depB: number;
let manager: User;
let assistant: User;
let otherManager: User;
let curatorA: User;
let curatorB: User;
let director: User;
let clientId: number;
let foreignClientId: number;

const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();

async function post(user: User, url: string, payload?: object) {
  return h.app.inject({ method: 'POST', url: `/api/reminders${url}`, headers: user.headers, ...(payload && { payload }) });
}
async function get(user: User, url: string) {
  return h.app.inject({ method: 'GET', url: `/api/reminders${url}`, headers: user.headers });
}
const ids = (res: { json(): { items: Array<{ id: number }> } }) => res.json().items.map((r) => r.id);

beforeAll(async () => {
  h = await createReminderHarness();
  depA = await h.department();
  depB = await h.department();
  manager = await h.user('manager', { departmentId: depA });
  assistant = await h.user('assistant', { departmentId: depA, managerId: manager.id });
  otherManager = await h.user('manager', { departmentId: depB });
  curatorA = await h.user('curator', { departmentId: depA });
  curatorB = await h.user('curator', { departmentId: depB });
  director = await h.user('director');
  clientId = (await h.client(manager.id)).id;
  foreignClientId = (await h.client(otherManager.id)).id;
});
afterAll(async () => h?.close());

describe('POST /api/reminders', () => {
  it('creates a reminder for the viewer, scheduled in the queue, with an audit entry', async () => {
    const res = await post(manager, '/', { clientId, dueAt: inMinutes(30), note: '  ask about the invoice ', autoDial: true });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ kind: 'reminder', userId: manager.id, departmentId: depA, clientId, createdById: manager.id, note: 'ask about the invoice', autoDial: true, status: 'pending', firedAt: null });
    expect(await (await h.queue.getJob(`reminder-${body.id}`))?.getState()).toBe('delayed');
    const audit = await h.db.select().from(auditLog).where(eq(auditLog.entityId, String(body.id)));
    expect(audit.map((a) => a.action)).toContain('reminder.create');
  });

  it("an assistant's reminder belongs to the manager", async () => {
    const res = await post(assistant, '/', { clientId, dueAt: inMinutes(5) });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ userId: manager.id, createdById: assistant.id, note: '' });
  });

  it('refuses bad input with clear messages', async () => {
    const cases: Array<[object, number, RegExp]> = [
      [{ clientId, dueAt: inMinutes(-5) }, 400, /dueAt: .* is in the past/],
      [{ clientId, dueAt: 'tomorrow' }, 400, /dueAt/],
      [{ clientId, dueAt: inMinutes(5), note: 'x'.repeat(2001) }, 400, /note/],
      [{ clientId, dueAt: inMinutes(60 * 24 * 400) }, 400, /a year/],
      [{ dueAt: inMinutes(5) }, 400, /clientId/],
      [{ clientId, dueAt: inMinutes(5), userId: 3 }, 400, /additional/],
      [{ clientId: foreignClientId, dueAt: inMinutes(5) }, 404, /client \d+ does not exist/],
    ];
    for (const [payload, status, message] of cases) {
      const res = await post(manager, '/', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(status);
      expect(res.json().message).toMatch(message);
    }
    // A minute late is still fine: "remind me now" from a slow clock.
    expect((await post(manager, '/', { clientId, dueAt: new Date(Date.now() - 30_000).toISOString() })).statusCode).toBe(201);
    expect((await h.app.inject({ method: 'POST', url: '/api/reminders', payload: { clientId, dueAt: inMinutes(5) } })).statusCode).toBe(401);
  });
});

describe('reading', () => {
  let mine: number;
  let listCallback: number;
  beforeAll(async () => {
    mine = (await post(manager, '/', { clientId, dueAt: inMinutes(10) })).json().id;
    const missed = await h.module.onCallEnded(endedCall({ direction: 'inbound', disposition: 'missed', externalNumber: '+74951230000', departmentId: depA }));
    listCallback = missed!.created!.id;
  });

  it('scope=mine lists own (and for an assistant the manager’s) open reminders, soonest first', async () => {
    const managerIds = ids(await get(manager, '/'));
    expect(managerIds).toContain(mine);
    expect(managerIds).not.toContain(listCallback);
    expect(ids(await get(assistant, '/?scope=mine'))).toEqual(managerIds);
    expect(ids(await get(otherManager, '/'))).toEqual([]);
    const dues = (await get(manager, '/')).json().items.map((r: { dueAt: string }) => r.dueAt);
    expect([...dues].sort()).toEqual(dues);
  });

  it("scope=department: the curator's whole department, a director's all, a manager's common list only", async () => {
    expect(ids(await get(curatorA, '/?scope=department'))).toEqual(expect.arrayContaining([mine, listCallback]));
    expect(ids(await get(curatorB, '/?scope=department'))).toEqual([]);
    expect(ids(await get(director, `/?scope=department&departmentId=${depA}`))).toEqual(expect.arrayContaining([mine, listCallback]));
    expect(ids(await get(manager, '/?scope=department'))).toEqual([listCallback]);
    expect(ids(await get(otherManager, '/?scope=department'))).toEqual([]);
    expect(ids(await get(curatorA, '/?scope=department&kind=callback'))).toEqual([listCallback]);
    expect((await get(manager, '/?scope=everything')).statusCode).toBe(400);
  });

  it('GET /:id is 404 for reminders the viewer may not see', async () => {
    expect((await get(assistant, `/${mine}`)).json()).toMatchObject({ id: mine, clientName: `Client of ${manager.id}` });
    expect((await get(curatorA, `/${mine}`)).statusCode).toBe(200);
    expect((await get(director, `/${mine}`)).statusCode).toBe(200);
    expect((await get(otherManager, `/${mine}`)).statusCode).toBe(404);
    expect((await get(curatorB, `/${mine}`)).statusCode).toBe(404);
    expect((await get(manager, '/99999999')).statusCode).toBe(404);
  });
});

describe('snooze, complete, cancel', () => {
  it('snoozes by minutes or until a time, and refuses nonsense', async () => {
    const id = (await post(manager, '/', { clientId, dueAt: inMinutes(1) })).json().id;
    const res = await post(manager, `/${id}/snooze`, { minutes: 15 });
    expect(res.statusCode, res.body).toBe(200);
    expect(new Date(res.json().dueAt).getTime()).toBeGreaterThan(Date.now() + 14 * 60_000);
    const until = inMinutes(120);
    expect((await post(assistant, `/${id}/snooze`, { until })).json().dueAt).toBe(until);
    expect((await post(manager, `/${id}/snooze`, { until: inMinutes(-1) })).json().message).toMatch(/not in the future/);
    expect((await post(manager, `/${id}/snooze`, { minutes: 0 })).statusCode).toBe(400);
    expect((await post(manager, `/${id}/snooze`, {})).statusCode).toBe(400);
    expect((await post(otherManager, `/${id}/snooze`, { minutes: 5 })).statusCode).toBe(404);
  });

  it('completes (twice is fine), and a done reminder can be neither cancelled nor snoozed', async () => {
    const id = (await post(manager, '/', { clientId, dueAt: inMinutes(1) })).json().id;
    const done = await post(manager, `/${id}/complete`);
    expect(done.json()).toMatchObject({ status: 'done' });
    expect(done.json().completedAt).not.toBeNull();
    expect(await h.queue.getJob(`reminder-${id}`)).toBeUndefined();
    expect((await post(manager, `/${id}/complete`)).statusCode).toBe(200);
    expect(h.framesOf('reminder.closed', id)).toHaveLength(1);
    const cancel = await post(manager, `/${id}/cancel`);
    expect(cancel.statusCode).toBe(409);
    expect(cancel.json().message).toBe(`reminder ${id} is already done`);
    expect((await post(manager, `/${id}/snooze`, { minutes: 5 })).statusCode).toBe(409);
  });

  it('a curator may close a reminder of their department; a stranger gets 404', async () => {
    const id = (await post(manager, '/', { clientId, dueAt: inMinutes(1) })).json().id;
    expect((await post(curatorB, `/${id}/cancel`)).statusCode).toBe(404);
    expect((await post(curatorA, `/${id}/cancel`)).json()).toMatchObject({ status: 'cancelled' });
    expect(h.framesOf('reminder.closed', id)[0]).toEqual({ to: { userIds: [manager.id, assistant.id] }, frame: { type: 'reminder.closed', id, status: 'cancelled' } });
  });
});
