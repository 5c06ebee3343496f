import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { and, eq } from 'drizzle-orm';
import { users } from '../../src/users/users.table.js';
import { reminders } from '../../src/reminders/reminders.table.js';
import { createReminderHarness, endedCall, eventually, pause, type ReminderHarness } from './reminders-harness.js';

type User = Awaited<ReturnType<ReminderHarness['user']>>;

describe('missed calls with the configured delays (no worker: times only)', () => {
  let h: ReminderHarness;
  let dep: number;
  let owner: User;
  beforeAll(async () => {
    h = await createReminderHarness({ MISSED_CALL_CALLBACK_MINUTES: 15, MISSED_CALL_ESCALATE_MINUTES: 120 });
    dep = await h.department();
    owner = await h.user('manager', { departmentId: dep });
  });
  afterAll(async () => h?.close());

  it("a missed call from a known client becomes one callback for the owner, due after N minutes", async () => {
    const client = await h.client(owner.id);
    const endedAt = new Date('2030-01-01T10:00:00Z');
    const call = endedCall({ direction: 'inbound', disposition: 'missed', clientId: client.id, ownerId: owner.id, externalNumber: client.phone, endedAt, departmentId: dep });
    const result = await h.module.onCallEnded(call);
    expect(result?.created).toMatchObject({
      kind: 'callback',
      userId: owner.id,
      departmentId: dep,
      clientId: client.id,
      phone: client.phone,
      callId: call.id,
      status: 'pending',
      dueAt: new Date('2030-01-01T10:15:00Z'),
      escalateAt: new Date('2030-01-01T12:00:00Z'),
      note: '',
      missedCalls: 1,
    });
    const job = await h.queue.getJob(`reminder-${result!.created!.id}`);
    expect(await job?.getState()).toBe('delayed');
    expect(await h.queue.getJob(`escalate-${result!.created!.id}`)).toBeDefined();

    // A second missed call (abandoned this time) counts up instead of adding a second callback.
    const again = await h.module.onCallEnded(endedCall({ direction: 'inbound', disposition: 'abandoned', clientId: client.id, ownerId: owner.id, externalNumber: client.phone }));
    expect(again?.created).toBeNull();
    expect(again?.updated).toMatchObject({ id: result!.created!.id, dueAt: new Date('2030-01-01T10:15:00Z') });
    expect(again?.updated).toMatchObject({ missedCalls: 2, note: '' });
    expect(again!.updated!.lastMissedAt!.getTime()).toBeGreaterThanOrEqual(result!.created!.lastMissedAt!.getTime());
    const open = await h.db.select().from(reminders).where(and(eq(reminders.clientId, client.id), eq(reminders.kind, 'callback')));
    expect(open).toHaveLength(1);
  });

  it('simultaneous missed calls from one client still make one callback', async () => {
    const client = await h.client(owner.id);
    const call = () => endedCall({ direction: 'inbound', disposition: 'busy', clientId: client.id, ownerId: owner.id, externalNumber: client.phone });
    await Promise.all([h.module.onCallEnded(call()), h.module.onCallEnded(call()), h.module.onCallEnded(call())]);
    const rows = await h.db.select().from(reminders).where(eq(reminders.clientId, client.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.missedCalls).toBe(3);
  });

  it('answered, outbound-missed and internal calls create nothing', async () => {
    const client = await h.client(owner.id);
    for (const c of [
      endedCall({ direction: 'inbound', disposition: 'answered', clientId: client.id }),
      endedCall({ direction: 'outbound', disposition: 'missed', clientId: client.id }),
      endedCall({ direction: 'internal', disposition: 'missed' }),
      endedCall({ direction: 'inbound', disposition: 'missed', departmentId: dep }), // hidden number
      endedCall({ direction: 'inbound', disposition: 'missed', externalNumber: '+74951112233' }), // no department
    ]) {
      expect(await h.module.onCallEnded(c)).toMatchObject({ created: null, updated: null });
    }
  });

  it("a disabled owner's client lands on the department list, without escalation", async () => {
    const gone = await h.user('manager', { departmentId: dep });
    const client = await h.client(gone.id);
    await h.db.update(users).set({ active: false }).where(eq(users.id, gone.id));
    const result = await h.module.onCallEnded(endedCall({ direction: 'inbound', disposition: 'missed', clientId: client.id, externalNumber: client.phone }));
    expect(result?.created).toMatchObject({ userId: null, departmentId: dep, clientId: client.id, escalateAt: null });
  });
});

describe('missed calls through the queue (callback now, escalation after 600 ms)', () => {
  let h: ReminderHarness;
  let dep: number;
  let owner: User;
  let assistant: User;
  let curator: User;
  beforeAll(async () => {
    // Minutes are read as minutes * 60,000 ms, so a fraction stands in for "M minutes later".
    h = await createReminderHarness({ MISSED_CALL_CALLBACK_MINUTES: 0, MISSED_CALL_ESCALATE_MINUTES: 0.01 });
    dep = await h.department();
    owner = await h.user('manager', { departmentId: dep });
    assistant = await h.user('assistant', { departmentId: dep, managerId: owner.id });
    curator = await h.user('curator', { departmentId: dep });
    await h.module.start();
  });
  afterAll(async () => h?.close());
  beforeEach(() => {
    h.captured.length = 0;
  });

  it('fires to the owner, then escalates once to the curator when not done', async () => {
    const client = await h.client(owner.id);
    const result = await h.module.onCallEnded(endedCall({ direction: 'inbound', disposition: 'missed', clientId: client.id, ownerId: owner.id, externalNumber: client.phone, departmentId: dep }));
    const id = result!.created!.id;
    await eventually(() => expect(h.framesOf('reminder.due', id)).toHaveLength(1));
    expect(h.framesOf('reminder.due', id)[0]!.to).toEqual({ userIds: [owner.id, assistant.id] });

    await eventually(() => expect(h.framesOf('reminder.escalated', id)).toHaveLength(1), 3_000);
    const [escalated] = h.framesOf('reminder.escalated', id);
    expect(escalated!.to).toEqual({ userIds: [owner.id, assistant.id], supervisorsOf: [dep] });
    expect(escalated!.frame.reminder).toMatchObject({ id, userId: owner.id, status: 'fired' });
    const row = await h.row(id);
    expect(row.escalatedAt).toBeInstanceOf(Date);

    // Redis loses everything; the reconciler must neither fire nor escalate it again.
    await h.flushRedis();
    await h.module.reconcile();
    await pause(300);
    expect(h.framesOf('reminder.due', id)).toHaveLength(1);
    expect(h.framesOf('reminder.escalated', id)).toHaveLength(1);

    // The curator sees it in the department list, flagged as escalated.
    const list = await h.app.inject({ method: 'GET', url: '/api/reminders?scope=department&escalated=true', headers: curator.headers });
    expect(list.json().items.map((r: { id: number }) => r.id)).toContain(id);
  });

  it('does not escalate when the client was called back in time, and the call completes the callback', async () => {
    const client = await h.client(owner.id);
    const result = await h.module.onCallEnded(endedCall({ direction: 'inbound', disposition: 'missed', clientId: client.id, ownerId: owner.id, externalNumber: client.phone, departmentId: dep }));
    const id = result!.created!.id;
    await eventually(() => expect(h.framesOf('reminder.due', id)).toHaveLength(1));

    // The manager calls back (outbound click-to-call, answered).
    const back = await h.module.onCallEnded(endedCall({ direction: 'outbound', disposition: 'answered', clientId: client.id, externalNumber: client.phone, initiatedById: owner.id }));
    expect(back?.completed.map((r) => r.id)).toEqual([id]);
    expect(h.framesOf('reminder.closed', id)).toEqual([{ to: { userIds: [owner.id, assistant.id] }, frame: { type: 'reminder.closed', id, status: 'done' } }]);
    const row = await h.row(id);
    expect(row).toMatchObject({ status: 'done', escalatedAt: null });
    expect(row.completedAt).toBeInstanceOf(Date);

    await pause(1_000);
    await h.module.reconcile();
    expect(h.framesOf('reminder.escalated', id)).toHaveLength(0);
    expect((await h.row(id)).escalatedAt).toBeNull();
  });

  it("an unknown caller lands on the department's list; an answered call with that number completes it", async () => {
    const phone = '+74957654321';
    const call = () => endedCall({ direction: 'inbound', disposition: 'missed', externalNumber: phone, callerNumber: '84957654321', departmentId: dep });
    const result = await h.module.onCallEnded(call());
    expect(result?.created).toMatchObject({ kind: 'callback', userId: null, departmentId: dep, clientId: null, phone, escalateAt: null });
    const id = result!.created!.id;
    await eventually(() => expect(h.framesOf('reminder.due', id)).toHaveLength(1));
    expect(h.framesOf('reminder.due', id)[0]!.to).toEqual({ supervisorsOf: [dep] });

    expect((await h.module.onCallEnded(call()))?.updated?.id).toBe(id);

    // Managers of the department see the common list; so does the curator, who receives it on connect.
    const managerList = await h.app.inject({ method: 'GET', url: '/api/reminders?scope=department', headers: owner.headers });
    expect(managerList.json().items.map((r: { id: number }) => r.id)).toEqual([id]);
    const sent: Array<{ reminder?: { id: number } }> = [];
    await h.module.onConnect(curator.viewer, (f) => void sent.push(f as { reminder?: { id: number } }));
    expect(sent.map((f) => f.reminder?.id)).toContain(id);

    const answered = await h.module.onCallEnded(endedCall({ direction: 'inbound', disposition: 'answered', externalNumber: phone, departmentId: dep, answeredById: owner.id }));
    expect(answered?.completed.map((r) => r.id)).toEqual([id]);
    expect(h.framesOf('reminder.closed', id)[0]!.to).toEqual({ supervisorsOf: [dep] });
  });
});
