import type { Viewer } from '../auth/viewer.js';
import type { Config } from '../config.js';
import type { Audience } from '../events/event-bus.js';

// When reminders are due and who sees and receives them: plain functions over plain data, so the
// rules are tested without a database, a queue or a clock.

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/** A dueAt this far in the past is still accepted: "remind me now" from a slow client or clock. */
export const DUE_PAST_GRACE_MS = MINUTE;
/** Nobody plans a call-back more than a year ahead; a typo in the year should be a 400. */
export const MAX_AHEAD_MS = 366 * DAY;
export const MAX_SNOOZE_MINUTES = 7 * 24 * 60;
export const MAX_NOTE_LENGTH = 2000;
/**
 * A job may run this much before the row's due time without counting as early: the app that
 * computed the delay and the one that runs the job read different clocks. A snooze moves the
 * time by at least a minute, so it is never mistaken for clock skew.
 */
export const EARLY_TOLERANCE_MS = 1_000;

export const OPEN_STATUSES = ['pending', 'fired'] as const;
/** Dispositions of an inbound call that nobody took: each one owes the caller a call back. */
export const MISSED_DISPOSITIONS = ['missed', 'abandoned', 'busy'] as const;

// BullMQ refuses custom ids that are plain integers or contain ':'; one job per reminder and kind.
export const fireJobId = (id: number): string => `reminder-${id}`;
export const escalateJobId = (id: number): string => `escalate-${id}`;

/** Milliseconds from now until `at`; a time in the past means "run now". */
export const delayUntil = (at: Date, now: number): number => Math.max(0, at.getTime() - now);

/** Why a requested due time is refused, or null. */
export function dueAtProblem(dueAt: Date, now: Date): string | null {
  if (Number.isNaN(dueAt.getTime())) return 'dueAt: not a valid date-time';
  if (dueAt.getTime() < now.getTime() - DUE_PAST_GRACE_MS) return `dueAt: ${dueAt.toISOString()} is in the past`;
  if (dueAt.getTime() > now.getTime() + MAX_AHEAD_MS) return 'dueAt: at most a year ahead';
  return null;
}

export type SnoozeInput = { minutes: number } | { until: string };

/** The new due time of a snoozed reminder, or why the request is refused. */
export function snoozeTarget(input: SnoozeInput, now: Date): { dueAt: Date } | { error: string } {
  if ('minutes' in input) {
    if (!Number.isInteger(input.minutes) || input.minutes < 1 || input.minutes > MAX_SNOOZE_MINUTES) {
      return { error: `minutes: a whole number from 1 to ${MAX_SNOOZE_MINUTES}` };
    }
    return { dueAt: new Date(now.getTime() + input.minutes * MINUTE) };
  }
  const until = new Date(input.until);
  if (Number.isNaN(until.getTime())) return { error: 'until: not a valid date-time' };
  if (until.getTime() <= now.getTime()) return { error: `until: ${until.toISOString()} is not in the future` };
  if (until.getTime() > now.getTime() + MAX_AHEAD_MS) return { error: 'until: at most a year ahead' };
  return { dueAt: until };
}

export type MissedCallTiming = Pick<Config, 'MISSED_CALL_CALLBACK_MINUTES' | 'MISSED_CALL_ESCALATE_MINUTES'>;

/**
 * Times of the callback a missed call creates, counted from the end of the call (not from when
 * we processed it, so a backlog does not push callbacks later). Escalation never comes before the
 * owner was reminded, whatever the configuration says.
 */
export function missedCallbackTimes(endedAt: Date, timing: MissedCallTiming): { dueAt: Date; escalateAt: Date } {
  const dueAt = new Date(endedAt.getTime() + timing.MISSED_CALL_CALLBACK_MINUTES * MINUTE);
  const escalateAt = new Date(Math.max(endedAt.getTime() + timing.MISSED_CALL_ESCALATE_MINUTES * MINUTE, dueAt.getTime()));
  return { dueAt, escalateAt };
}

export function isMissedInbound(call: { direction: string; disposition: string | null }): boolean {
  return call.direction === 'inbound' && (MISSED_DISPOSITIONS as readonly string[]).includes(call.disposition ?? '');
}

/**
 * What a callback records of its missed calls: a count and the last one's end, as data. The
 * console writes them in the reader's language and time zone; the note stays people's text.
 * A repeated missed call counts up instead of adding a second callback.
 */
export function missedCallFacts(previous: { missedCalls: number; lastMissedAt: Date | null } | null, at: Date): { missedCalls: number; lastMissedAt: Date } {
  // Calls end in any order across instances: the last one is the latest, not the latest told.
  const last = previous?.lastMissedAt && previous.lastMissedAt > at ? previous.lastMissedAt : at;
  return { missedCalls: (previous?.missedCalls ?? 0) + 1, lastMissedAt: last };
}

/**
 * Whose reminder it is when the viewer creates one. An assistant works the manager's book, so
 * the reminder is the manager's (the assistant receives it too, as every assistant does).
 */
export function reminderOwnerFor(viewer: Viewer): { userId: number } | { error: string } {
  if (viewer.role !== 'assistant') return { userId: viewer.id };
  if (viewer.managerId === null) return { error: 'an assistant without a manager cannot create reminders' };
  return { userId: viewer.managerId };
}

/**
 * Which reminders a viewer sees: those of the listed users, every reminder of the listed
 * departments, and the common callback list (user null) of the listed departments.
 */
export type ReminderScope = { kind: 'all' } | { kind: 'some'; userIds: number[]; departmentIds: number[]; listDepartmentIds: number[] };

export function reminderScope(viewer: Viewer): ReminderScope {
  const dep = viewer.departmentId === null ? [] : [viewer.departmentId];
  switch (viewer.role) {
    case 'director':
      return { kind: 'all' };
    case 'curator':
      return { kind: 'some', userIds: [viewer.id], departmentIds: dep, listDepartmentIds: [] };
    case 'manager':
      // Unknown callers to the department's line are called back by whichever manager is free.
      return { kind: 'some', userIds: [viewer.id], departmentIds: [], listDepartmentIds: dep };
    case 'assistant':
      return { kind: 'some', userIds: viewer.managerId === null ? [viewer.id] : [viewer.id, viewer.managerId], departmentIds: [], listDepartmentIds: dep };
  }
}

/** The reminders a `scope=mine` list shows: the viewer's own, or the manager's for an assistant. */
export function mineUserIds(viewer: Viewer): number[] {
  return viewer.role === 'assistant' && viewer.managerId !== null ? [viewer.managerId, viewer.id] : [viewer.id];
}

/** Who gets the frames of a reminder: the owner and their assistants, or the department's supervisors. */
export function audienceOf(r: { userId: number | null; departmentId: number | null }, assistantIds: readonly number[]): Audience {
  if (r.userId !== null) return { userIds: [r.userId, ...assistantIds] };
  return r.departmentId === null ? {} : { supervisorsOf: [r.departmentId] };
}

/** Whether a frame for `audience` reaches the viewer's own sockets (so a direct reply would duplicate it). */
export function audienceIncludes(audience: Audience, viewer: Viewer): boolean {
  if (audience.userIds?.includes(viewer.id)) return true;
  const deps = audience.supervisorsOf ?? [];
  if (deps.length === 0) return false;
  return viewer.role === 'director' || (viewer.role === 'curator' && viewer.departmentId !== null && deps.includes(viewer.departmentId));
}
