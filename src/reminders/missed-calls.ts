import { and, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { calls } from '../calls/calls.table.js';
import type { Db } from '../db/client.js';
import { isMissedInbound, missedCallbackTimes, missedCallFacts, OPEN_STATUSES, type MissedCallTiming } from './reminder-rules.js';
import { reminders } from './reminders.table.js';
import { withActor } from '../history/with-actor.js';
import type { ReminderRow } from './reminders.service.js';

/** A finished call as the call tracker hands it over: the row plus the department of its DID. */
export type EndedCall = typeof calls.$inferSelect & { departmentId: number | null };

export interface CallEndedResult {
  /** A new callback: the caller schedules its alarms. */
  created: ReminderRow | null;
  /** An open callback that counted one more missed call instead of a second callback. */
  updated: ReminderRow | null;
  /** Callbacks this (answered) call settled. */
  completed: ReminderRow[];
}

// Advisory lock namespaces: "one open callback per client / per number" is checked and written
// under a lock, so two missed calls ending at the same moment cannot both insert.
const LOCK_CLIENT = 73_501;
const LOCK_PHONE = 73_502;

const NOTHING: CallEndedResult = { created: null, updated: null, completed: [] };
const isOpen = inArray(reminders.status, [...OPEN_STATUSES]);

/**
 * Every ended call passes here. An answered call with a client (or with the same external number)
 * settles their open callbacks; an inbound call nobody answered creates or updates one.
 */
export async function handleCallEnded(db: Db, timing: MissedCallTiming, call: EndedCall): Promise<CallEndedResult> {
  if (call.direction === 'internal') return NOTHING;
  if (call.disposition === 'answered') return { ...NOTHING, completed: await completeCallbacks(db, call) };
  if (!isMissedInbound(call)) return NOTHING;
  return call.clientId !== null ? knownCaller(db, timing, call, call.clientId) : unknownCaller(db, timing, call);
}

async function completeCallbacks(db: Db, call: EndedCall): Promise<ReminderRow[]> {
  const whose: SQL[] = [];
  if (call.clientId !== null) whose.push(eq(reminders.clientId, call.clientId));
  // A callback for an unknown number is settled by any answered call with that number.
  if (call.externalNumber) whose.push(and(isNull(reminders.clientId), eq(reminders.phone, call.externalNumber))!);
  if (whose.length === 0) return [];
  const now = new Date();
  return db
    .update(reminders)
    .set({ status: 'done', completedAt: now, updatedAt: now })
    .where(and(eq(reminders.kind, 'callback'), isOpen, or(...whose)))
    .returning();
}

async function knownCaller(db: Db, timing: MissedCallTiming, call: EndedCall, clientId: number): Promise<CallEndedResult> {
  const phone = call.externalNumber ?? call.callerNumber;
  const endedAt = call.endedAt ?? new Date();
  return withActor(db, null, 'pbx', async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_CLIENT}, ${clientId})`);
    const [open] = await tx
      .select()
      .from(reminders)
      .where(and(eq(reminders.kind, 'callback'), eq(reminders.clientId, clientId), isOpen))
      .limit(1)
      .for('update');
    if (open) return { ...NOTHING, updated: await countAgain(tx, open, phone, call.id, endedAt) };

    // The owner now (the call row has the owner at ring time; they are the same moment).
    const { rows } = await tx.execute(sql`
      select u.id, u.department_id, u.active from users u
      where u.id = coalesce(${call.ownerId}::int, (select owner_id from clients where id = ${clientId}))`);
    const owner = rows[0] as { id: number; department_id: number | null; active: boolean } | undefined;
    const { dueAt, escalateAt } = missedCallbackTimes(endedAt, timing);
    // A disabled owner (left the company) cannot call back: the callback goes to the department list,
    // which the supervisors see already, so it does not escalate.
    const ownerWorks = owner !== undefined && owner.active;
    const [row] = await tx
      .insert(reminders)
      .values({
        kind: 'callback',
        userId: ownerWorks ? owner.id : null,
        departmentId: owner?.department_id ?? call.departmentId,
        clientId,
        phone,
        callId: call.id,
        dueAt,
        escalateAt: ownerWorks ? escalateAt : null,
        ...missedCallFacts(null, endedAt),
      })
      .returning();
    return { ...NOTHING, created: row! };
  });
}

async function unknownCaller(db: Db, timing: MissedCallTiming, call: EndedCall): Promise<CallEndedResult> {
  const phone = call.externalNumber ?? call.callerNumber;
  // A hidden number cannot be called back, and without a department nobody's list fits.
  if (!phone || call.departmentId === null) return NOTHING;
  const endedAt = call.endedAt ?? new Date();
  return withActor(db, null, 'pbx', async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_PHONE}, hashtext(${phone}))`);
    const [open] = await tx
      .select()
      .from(reminders)
      .where(and(eq(reminders.kind, 'callback'), isNull(reminders.clientId), eq(reminders.phone, phone), isOpen))
      .limit(1)
      .for('update');
    if (open) return { ...NOTHING, updated: await countAgain(tx, open, phone, call.id, endedAt) };
    const { dueAt } = missedCallbackTimes(endedAt, timing);
    const [row] = await tx
      .insert(reminders)
      .values({ kind: 'callback', userId: null, departmentId: call.departmentId, phone, callId: call.id, dueAt, ...missedCallFacts(null, endedAt) })
      .returning();
    return { ...NOTHING, created: row! };
  });
}

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/**
 * A second missed call keeps the first callback's time (sooner is better) and escalation, and
 * only counts up; callId points at the latest missed call.
 */
async function countAgain(tx: Tx, open: ReminderRow, phone: string | null, callId: number, at: Date): Promise<ReminderRow> {
  const [row] = await tx
    .update(reminders)
    .set({ ...missedCallFacts(open, at), phone: phone ?? open.phone, callId, updatedAt: new Date() })
    .where(eq(reminders.id, open.id))
    .returning();
  return row!;
}
