import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Viewer } from '../../src/auth/viewer.js';
import {
  audienceIncludes,
  audienceOf,
  dueAtProblem,
  escalateJobId,
  fireJobId,
  isMissedInbound,
  mineUserIds,
  missedCallbackTimes,
  missedCallFacts,
  reminderOwnerFor,
  reminderScope,
  snoozeTarget,
} from '../../src/reminders/reminder-rules.js';

const viewer = (role: Viewer['role'], extra: Partial<Viewer> = {}): Viewer => ({ id: 10, login: 'u', name: 'U', role, departmentId: 3, managerId: null, ...extra });
const T0 = new Date('2025-03-03T09:00:00Z');

describe('reminder time rules', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(T0);
  });
  afterEach(() => vi.useRealTimers());

  it('accepts a due time in the future or up to a minute ago, not older, not beyond a year', () => {
    expect(dueAtProblem(new Date(Date.now() + 1000), new Date())).toBeNull();
    expect(dueAtProblem(new Date(Date.now() - 59_000), new Date())).toBeNull();
    expect(dueAtProblem(new Date(Date.now() - 61_000), new Date())).toMatch(/in the past/);
    expect(dueAtProblem(new Date(Date.now() + 367 * 86_400_000), new Date())).toMatch(/a year/);
  });

  it('snoozes by minutes or until a future time', () => {
    expect(snoozeTarget({ minutes: 10 }, new Date())).toEqual({ dueAt: new Date(T0.getTime() + 600_000) });
    vi.advanceTimersByTime(5 * 60_000);
    expect(snoozeTarget({ minutes: 10 }, new Date())).toEqual({ dueAt: new Date(T0.getTime() + 900_000) });
    expect(snoozeTarget({ until: '2025-03-03T12:00:00+03:00' }, new Date())).toMatchObject({ error: expect.stringMatching(/not in the future/) });
    expect(snoozeTarget({ until: '2025-03-03T13:00:00+03:00' }, new Date())).toEqual({ dueAt: new Date('2025-03-03T10:00:00Z') });
    expect(snoozeTarget({ minutes: 0 }, new Date())).toHaveProperty('error');
    expect(snoozeTarget({ until: 'tomorrow' }, new Date())).toHaveProperty('error');
  });

  it('a missed call is due after the callback minutes and escalates after the escalation minutes, counted from its end', () => {
    const endedAt = new Date();
    vi.advanceTimersByTime(3 * 60_000); // processed late: does not move the times
    expect(missedCallbackTimes(endedAt, { MISSED_CALL_CALLBACK_MINUTES: 15, MISSED_CALL_ESCALATE_MINUTES: 120 })).toEqual({
      dueAt: new Date(T0.getTime() + 15 * 60_000),
      escalateAt: new Date(T0.getTime() + 120 * 60_000),
    });
    // Escalation never comes before the owner was reminded.
    expect(missedCallbackTimes(endedAt, { MISSED_CALL_CALLBACK_MINUTES: 30, MISSED_CALL_ESCALATE_MINUTES: 10 }).escalateAt).toEqual(new Date(T0.getTime() + 30 * 60_000));
  });
});

describe('missed calls', () => {
  it('counts inbound missed, abandoned and busy calls only', () => {
    expect(isMissedInbound({ direction: 'inbound', disposition: 'missed' })).toBe(true);
    expect(isMissedInbound({ direction: 'inbound', disposition: 'abandoned' })).toBe(true);
    expect(isMissedInbound({ direction: 'inbound', disposition: 'busy' })).toBe(true);
    expect(isMissedInbound({ direction: 'inbound', disposition: 'answered' })).toBe(false);
    expect(isMissedInbound({ direction: 'inbound', disposition: 'failed' })).toBe(false);
    expect(isMissedInbound({ direction: 'outbound', disposition: 'missed' })).toBe(false);
  });

  it('counts repeated missed calls as data and keeps the last one\'s time', () => {
    const later = new Date(T0.getTime() + 60_000);
    const first = missedCallFacts(null, T0);
    expect(first).toEqual({ missedCalls: 1, lastMissedAt: T0 });
    const second = missedCallFacts(first, later);
    expect(second).toEqual({ missedCalls: 2, lastMissedAt: later });
    expect(missedCallFacts(second, later).missedCalls).toBe(3);
  });
});

describe('who owns, sees and receives', () => {
  it("an assistant's reminder belongs to the manager", () => {
    expect(reminderOwnerFor(viewer('manager'))).toEqual({ userId: 10 });
    expect(reminderOwnerFor(viewer('assistant', { managerId: 7 }))).toEqual({ userId: 7 });
    expect(reminderOwnerFor(viewer('assistant'))).toHaveProperty('error');
    expect(mineUserIds(viewer('assistant', { managerId: 7 }))).toEqual([7, 10]);
  });

  it('scopes: director all, curator the department, manager own plus the common list, assistant the manager too', () => {
    expect(reminderScope(viewer('director'))).toEqual({ kind: 'all' });
    expect(reminderScope(viewer('curator'))).toEqual({ kind: 'some', userIds: [10], departmentIds: [3], listDepartmentIds: [] });
    expect(reminderScope(viewer('manager'))).toEqual({ kind: 'some', userIds: [10], departmentIds: [], listDepartmentIds: [3] });
    expect(reminderScope(viewer('assistant', { managerId: 7 }))).toEqual({ kind: 'some', userIds: [10, 7], departmentIds: [], listDepartmentIds: [3] });
  });

  it("frames go to the owner and assistants, or to the department's supervisors", () => {
    expect(audienceOf({ userId: 7, departmentId: 3 }, [11, 12])).toEqual({ userIds: [7, 11, 12] });
    expect(audienceOf({ userId: null, departmentId: 3 }, [])).toEqual({ supervisorsOf: [3] });
    expect(audienceIncludes({ supervisorsOf: [3] }, viewer('curator'))).toBe(true);
    expect(audienceIncludes({ supervisorsOf: [4] }, viewer('curator'))).toBe(false);
    expect(audienceIncludes({ supervisorsOf: [4] }, viewer('director'))).toBe(true);
    expect(audienceIncludes({ userIds: [7] }, viewer('director'))).toBe(false);
  });

  it('job ids are accepted by BullMQ (not integers, no colon) and distinct per kind', () => {
    expect(fireJobId(42)).toBe('reminder-42');
    expect(escalateJobId(42)).toBe('escalate-42');
  });
});
