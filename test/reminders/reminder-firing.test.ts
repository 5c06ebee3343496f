import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eq, inArray } from 'drizzle-orm';
import { reminders } from '../../src/reminders/reminders.table.js';
import { createReminderHarness, eventually, pause, type ReminderHarness } from './reminders-harness.js';

let h: ReminderHarness;
let dep: number;
let manager: Awaited<ReturnType<ReminderHarness['user']>>;
let assistant: Awaited<ReturnType<ReminderHarness['user']>>;
let clientId: number;

beforeAll(async () => {
  h = await createReminderHarness();
  dep = await h.department();
  manager = await h.user('manager', { departmentId: dep });
  assistant = await h.user('assistant', { departmentId: dep, managerId: manager.id });
  clientId = (await h.client(manager.id)).id;
  await h.module.start();
});
afterAll(async () => h?.close());
beforeEach(() => {
  h.captured.length = 0;
});

async function remind(inMs: number, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await h.app.inject({
    method: 'POST',
    url: '/api/reminders',
    headers: manager.headers,
    payload: { clientId, dueAt: new Date(Date.now() + inMs).toISOString(), note: 'call about the contract', ...extra },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

const firedCounts = async (ids: number[]) => {
  const rows = await h.db.select().from(reminders).where(inArray(reminders.id, ids));
  return { rows, frames: ids.map((id) => h.framesOf('reminder.due', id).length) };
};

describe('firing', () => {
  it('fires once and publishes reminder.due to the owner and their assistant', async () => {
    const id = await remind(100);
    await eventually(() => expect(h.framesOf('reminder.due', id)).toHaveLength(1));
    const [{ to, frame }] = h.framesOf('reminder.due', id) as [ReminderHarness['captured'][number]];
    expect(to).toEqual({ userIds: [manager.id, assistant.id] });
    expect(frame.reminder).toMatchObject({ id, userId: manager.id, clientId, clientName: `Client of ${manager.id}`, note: 'call about the contract', status: 'fired' });
    const row = await h.row(id);
    expect(row.status).toBe('fired');
    expect(row.firedAt).toBeInstanceOf(Date);
    await pause(300);
    expect(h.framesOf('reminder.due', id)).toHaveLength(1);
  });

  it('a reminder due in 300 ms fires within a second of its due time', async () => {
    const dueAt = Date.now() + 300;
    const id = await remind(300);
    await eventually(() => expect(h.framesOf('reminder.due', id)).toHaveLength(1), 2_000);
    const observedLateness = Date.now() - dueAt;
    expect(observedLateness).toBeLessThan(1_000);
    const row = await h.row(id);
    expect(row.firedAt!.getTime() - row.dueAt.getTime()).toBeGreaterThanOrEqual(-1_000);
    expect(row.firedAt!.getTime() - row.dueAt.getTime()).toBeLessThan(1_000);
  });

  it('after a Redis flush the reconciler re-creates the alarms: every reminder fires, each exactly once', async () => {
    const early = await Promise.all(Array.from({ length: 5 }, () => remind(50)));
    await eventually(async () => expect((await firedCounts(early)).frames).toEqual([1, 1, 1, 1, 1]));
    const later = await Promise.all(Array.from({ length: 20 }, () => remind(2_000)));

    await h.flushRedis();
    expect(await h.queue.getJob(`reminder-${later[0]}`)).toBeUndefined();
    // Nothing can fire without an alarm, so this count holds until the reconciler runs. (On a busy
    // machine one of the 20 may have fired before the flush; that one must not get an alarm again.)
    const pending = (await firedCounts(later)).rows.filter((r) => r.status === 'pending').length;
    expect(pending).toBeGreaterThan(10);
    const repaired = await h.module.reconcile();
    expect(repaired.added).toBe(pending);
    expect((await h.module.reconcile()).added).toBe(0);

    await eventually(async () => expect((await firedCounts(later)).frames).toEqual(later.map(() => 1)), 5_000);
    await pause(300);
    await h.module.reconcile();
    const after = await firedCounts([...early, ...later]);
    expect(after.frames.every((n) => n === 1)).toBe(true);
    expect(after.rows.every((r) => r.status === 'fired' && r.firedAt !== null)).toBe(true);
  });

  it('two workers and two reconcilers racing (even on two separate queues) still fire each reminder once', async () => {
    const second = h.newModule(); // same prefix: BullMQ spreads jobs between the two workers
    const foreign = h.newModule({ prefix: `${h.prefix}-other` }); // a second alarm for every reminder
    await second.start();
    await foreign.start();
    const ids = await Promise.all(Array.from({ length: 30 }, () => remind(1_200)));
    await h.flushRedis();
    await Promise.all([h.module.reconcile(), second.reconcile(), foreign.reconcile(), h.module.reconcile()]);
    await eventually(async () => expect((await firedCounts(ids)).frames).toEqual(ids.map(() => 1)), 5_000);
    await pause(500);
    expect((await firedCounts(ids)).frames).toEqual(ids.map(() => 1));
    await second.stop();
    await foreign.stop();
  });

  it('any alarm that rings also fires due reminders whose own alarm is late or lost', async () => {
    const lost = await Promise.all(Array.from({ length: 3 }, () => remind(100)));
    for (const id of lost) await h.queue.remove(`reminder-${id}`);
    await pause(300);
    expect(lost.map((id) => h.framesOf('reminder.due', id).length)).toEqual([0, 0, 0]);
    const ringing = await remind(0);
    await eventually(() => expect([ringing, ...lost].map((id) => h.framesOf('reminder.due', id).length)).toEqual([1, 1, 1, 1]));
  });

  it('snooze moves it: nothing at the old time, a delayed alarm at the new one', async () => {
    const id = await remind(400);
    const res = await h.app.inject({ method: 'POST', url: `/api/reminders/${id}/snooze`, headers: manager.headers, payload: { minutes: 5 } });
    expect(res.statusCode, res.body).toBe(200);
    await pause(900);
    expect(h.framesOf('reminder.due', id)).toHaveLength(0);
    const job = await h.queue.getJob(`reminder-${id}`);
    expect(await job?.getState()).toBe('delayed');
    expect(job!.timestamp + job!.delay).toBeGreaterThan(Date.now() + 4 * 60_000);
    expect((await h.row(id)).status).toBe('pending');
  });

  it('an old alarm that runs after the row moved later re-delays itself instead of firing', async () => {
    const id = await remind(300);
    // As if the snooze committed but could not replace the alarm (Redis hiccup).
    await h.db.update(reminders).set({ dueAt: new Date(Date.now() + 120_000) }).where(eq(reminders.id, id));
    await pause(900);
    expect(h.framesOf('reminder.due', id)).toHaveLength(0);
    expect(await (await h.queue.getJob(`reminder-${id}`))?.getState()).toBe('delayed');
  });

  it('a fired reminder snoozed fires again at the new time', async () => {
    const id = await remind(50);
    await eventually(() => expect(h.framesOf('reminder.due', id)).toHaveLength(1));
    const until = new Date(Date.now() + 1_000).toISOString();
    const res = await h.app.inject({ method: 'POST', url: `/api/reminders/${id}/snooze`, headers: manager.headers, payload: { until } });
    expect(res.json()).toMatchObject({ status: 'pending', firedAt: null });
    await eventually(() => expect(h.framesOf('reminder.due', id)).toHaveLength(2), 3_000);
  });

  it('cancel prevents it and tells the screens', async () => {
    const id = await remind(500);
    const res = await h.app.inject({ method: 'POST', url: `/api/reminders/${id}/cancel`, headers: manager.headers });
    expect(res.json()).toMatchObject({ status: 'cancelled' });
    expect(h.framesOf('reminder.closed', id)).toEqual([{ to: { userIds: [manager.id, assistant.id] }, frame: { type: 'reminder.closed', id, status: 'cancelled' } }]);
    expect(await h.queue.getJob(`reminder-${id}`)).toBeUndefined();
    await pause(900);
    await h.module.reconcile();
    expect(h.framesOf('reminder.due', id)).toHaveLength(0);
    expect((await h.row(id)).firedAt).toBeNull();
  });

  it('a user who was offline gets it on connect; an acknowledgement marks it delivered', async () => {
    const id = await remind(50);
    await eventually(() => expect(h.framesOf('reminder.due', id)).toHaveLength(1));

    const onConnect = async (viewer: typeof manager.viewer) => {
      const sent: Array<{ type: string; reminder?: { id: number }; replay?: boolean }> = [];
      await h.module.onConnect(viewer, (f) => void sent.push(JSON.parse(JSON.stringify(f))));
      return sent.filter((f) => f.reminder?.id === id);
    };
    expect(await onConnect(manager.viewer)).toEqual([expect.objectContaining({ type: 'reminder.due', replay: true })]);
    expect(await onConnect(assistant.viewer)).toHaveLength(1);

    const replies: object[] = [];
    await h.module.onClientMessage(assistant.viewer, { type: 'reminder.ack', id }, (f) => void replies.push(f));
    expect((await h.row(id)).deliveredAt).toBeInstanceOf(Date);
    // The assistant is in the audience, so the ack reaches their screens through the bus, not twice.
    expect(replies).toEqual([]);
    expect(h.framesOf('reminder.acked', id)).toEqual([{ to: { userIds: [manager.id, assistant.id] }, frame: { type: 'reminder.acked', id } }]);
    expect(await onConnect(manager.viewer)).toEqual([]);

    await expect(h.module.onClientMessage(manager.viewer, { type: 'reminder.ack', id: 999_999 }, () => {})).rejects.toMatchObject({ statusCode: 404 });
    await expect(h.module.onClientMessage(manager.viewer, { type: 'reminder.ack', id: 'x' }, () => {})).rejects.toMatchObject({ statusCode: 400 });
  });

  it('autoDial starts click-to-call for the owner after firing', async () => {
    const id = await remind(50, { autoDial: true });
    await eventually(() => expect(h.dialled).toContainEqual([manager.id, clientId, null]));
    expect(h.framesOf('reminder.due', id)).toHaveLength(1);
  });
});
