import { sql, type SQL } from 'drizzle-orm';
import type { Pool } from 'pg';
import type { Db } from '../db/client.js';
import { EARLY_TOLERANCE_MS } from './reminder-rules.js';
import type { ReminderView } from './reminders.schemas.js';

// The SQL behind the alarm clock. Every transition is one guarded UPDATE, so however many jobs,
// workers or instances race for a reminder, only one of them gets a row back and publishes.
// Raw SQL because the worker's hot path wants one round trip: fire, client name and assistants.

export interface Fired {
  reminder: ReminderView;
  /** Active assistants of the owner: they receive the owner's reminders. */
  assistantIds: number[];
}

export type FireOutcome = { fired: Fired } | { later: Date } | { skipped: string };

const asDate = (v: unknown): Date | null => (v === null || v === undefined ? null : v instanceof Date ? v : new Date(String(v)));
const asInt = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A row of `<update> returning *` joined with the client's name; pg returns int8 as text. */
function fromRaw(r: Record<string, unknown>): ReminderView {
  return {
    id: Number(r.id),
    kind: r.kind as ReminderView['kind'],
    userId: asInt(r.user_id),
    departmentId: asInt(r.department_id),
    clientId: asInt(r.client_id),
    clientName: (r.client_name as string | null) ?? null,
    phone: (r.phone as string | null) ?? null,
    callId: asInt(r.call_id),
    createdById: asInt(r.created_by_id),
    dueAt: asDate(r.due_at)!,
    note: String(r.note),
    missedCalls: Number(r.missed_calls ?? 0),
    lastMissedAt: asDate(r.last_missed_at),
    autoDial: Boolean(r.auto_dial),
    status: r.status as ReminderView['status'],
    firedAt: asDate(r.fired_at),
    deliveredAt: asDate(r.delivered_at),
    escalateAt: asDate(r.escalate_at),
    escalatedAt: asDate(r.escalated_at),
    completedAt: asDate(r.completed_at),
    createdAt: asDate(r.created_at)!,
    updatedAt: asDate(r.updated_at)!,
  };
}

async function transition(db: Db, update: SQL): Promise<Fired | null> {
  const result = await db.execute(sql`
    with t as (${update})
    select t.*, c.name as client_name,
      coalesce((select array_agg(u.id order by u.id) from users u
                where t.user_id is not null and u.manager_id = t.user_id and u.active), '{}') as assistant_ids
    from t left join clients c on c.id = t.client_id`);
  const raw = result.rows[0];
  return raw ? { reminder: fromRaw(raw), assistantIds: (raw.assistant_ids as number[]).map(Number) } : null;
}

// Any alarm that rings fires every reminder that is due, not only its own: one statement takes
// the requested ids plus up to SWEEP_LIMIT other due rows (oldest first). So when BullMQ falls
// behind (a burst, a slow Redis, a lost job) reminders still fire on time; their own jobs later
// find them fired and end as no-ops. SKIP LOCKED lets workers on several instances sweep side by
// side without waiting on each other; the status re-check in the UPDATE keeps it exactly once.
// Named (prepared) statements: PostgreSQL plans them once per connection, not once per reminder.
const SWEEP_LIMIT = 500;
const FIRE_SQL = `
  with mine as (
    select id from reminders
    where id = any($1::bigint[]) and status = 'pending' and due_at <= $2
    for update skip locked),
  swept as (
    select id from reminders
    where status = 'pending' and due_at <= now() and id <> all($1::bigint[])
    order by due_at limit $3
    for update skip locked),
  t as (
    update reminders r set status = 'fired', fired_at = now(), updated_at = now()
    where r.id in (select id from mine union all select id from swept) and r.status = 'pending'
    returning r.*)
  select t.*, c.name as client_name,
    coalesce((select array_agg(u.id order by u.id) from users u
              where t.user_id is not null and u.manager_id = t.user_id and u.active), '{}') as assistant_ids
  from t left join clients c on c.id = t.client_id`;
const STATE_SQL = 'select id, status, due_at from reminders where id = any($1::bigint[])';

/** What one firing statement did: the reminders it fired, and why the other requested ones did not. */
export interface FireBatch {
  fired: Fired[];
  /** Requested ids that this statement did not fire. */
  others: Map<number, Exclude<FireOutcome, { fired: Fired }>>;
}

/**
 * pending → fired, once, for the requested reminders and any others that are due. A requested
 * reminder that does not come back was fired elsewhere, closed, snoozed (the caller re-delays its
 * job to the new time), or locked by another worker at this instant (it is re-checked shortly).
 */
export async function fireReminders(db: Db, ids: number[], now: number, sweepLimit = SWEEP_LIMIT): Promise<FireBatch> {
  // drizzle keeps the pg Pool it was built on as `$client`; the Db type (schema.ts) leaves it out.
  const pool = (db as unknown as { $client: Pool }).$client;
  const { rows } = await pool.query({ name: 'reminders-fire', text: FIRE_SQL, values: [ids, new Date(now + EARLY_TOLERANCE_MS), sweepLimit] });
  const fired = rows.map((raw) => ({ reminder: fromRaw(raw), assistantIds: (raw.assistant_ids as number[]).map(Number) }));
  const firedIds = new Set(fired.map((f) => f.reminder.id));
  const rest = ids.filter((id) => !firedIds.has(id));
  const others: FireBatch['others'] = new Map();
  if (rest.length > 0) {
    const { rows: states } = await pool.query({ name: 'reminders-state', text: STATE_SQL, values: [rest] });
    for (const r of states) {
      others.set(Number(r.id), r.status === 'pending' ? { later: asDate(r.due_at)! } : { skipped: String(r.status) });
    }
    for (const id of rest) if (!others.has(id)) others.set(id, { skipped: 'deleted' });
  }
  return { fired, others };
}

/**
 * Coalesces the fire requests of concurrent jobs into one statement: the first request goes out
 * at once (no added latency when idle); those arriving while it runs go together in the next one.
 * Every reminder the statements fire is handed to `onFired` exactly once, requested or swept.
 */
export function createFireBatcher(db: Db, onFired: (fired: Fired) => void, maxBatch = 500) {
  type Waiter = { id: number; resolve: (o: FireOutcome) => void; reject: (e: unknown) => void };
  let waiting: Waiter[] = [];
  let running = false;

  async function drain() {
    running = true;
    let more = true;
    // Keep sweeping while a statement came back full: more due reminders may be waiting.
    while (waiting.length > 0 || more) {
      const batch = waiting.slice(0, maxBatch);
      waiting = waiting.slice(maxBatch);
      try {
        const { fired, others } = await fireReminders(db, [...new Set(batch.map((w) => w.id))], Date.now());
        more = fired.length >= SWEEP_LIMIT;
        for (const f of fired) onFired(f);
        const byId = new Map(fired.map((f) => [f.reminder.id, f]));
        for (const w of batch) w.resolve(byId.has(w.id) ? { fired: byId.get(w.id)! } : others.get(w.id)!);
      } catch (err) {
        more = false;
        for (const w of batch) w.reject(err);
      }
    }
    running = false;
  }

  return {
    /** Resolves once the reminder's fate is known; a `fired` outcome was already handed to onFired. */
    fire(id: number): Promise<FireOutcome> {
      return new Promise((resolve, reject) => {
        waiting.push({ id, resolve, reject });
        if (!running) void drain();
      });
    },
  };
}

/** Sets escalatedAt once, for a callback still open at its escalation time. */
export async function escalateReminder(db: Db, id: number, now: number): Promise<FireOutcome> {
  const threshold = new Date(now + EARLY_TOLERANCE_MS);
  const escalated = await transition(
    db,
    sql`update reminders set escalated_at = now(), updated_at = now()
        where id = ${id} and kind = 'callback' and escalated_at is null and escalate_at <= ${threshold}
          and status in ('pending', 'fired') returning *`,
  );
  if (escalated) return { fired: escalated };
  const { rows } = await db.execute(sql`select status, escalate_at, escalated_at from reminders where id = ${id}`);
  const row = rows[0];
  if (row && row.escalated_at === null && (row.status === 'pending' || row.status === 'fired') && row.escalate_at !== null) {
    return { later: asDate(row.escalate_at)! };
  }
  return { skipped: row ? 'not due for escalation' : 'deleted' };
}

export interface Alarm {
  id: number;
  at: Date;
  /** The time as PostgreSQL wrote it: microseconds that a Date would drop, for the keyset. */
  key: string;
}

/** One page of alarms that should exist in Redis before `horizon`, in (time, id) order. */
export async function alarmPage(db: Db, kind: 'fire' | 'escalate', horizon: Date, after: Alarm | null, limit: number): Promise<Alarm[]> {
  // Keyset pagination on (time, id): a page costs the same at row 1 and at row 100,000.
  const col = kind === 'fire' ? sql.raw('due_at') : sql.raw('escalate_at');
  const filter =
    kind === 'fire'
      ? sql`status = 'pending'`
      : sql`kind = 'callback' and escalated_at is null and escalate_at is not null and status in ('pending', 'fired')`;
  const keyset = after ? sql`and (${col}, id) > (${after.key}::timestamptz, ${after.id})` : sql``;
  const { rows } = await db.execute(sql`
    select id, ${col} as at, ${col}::text as key from reminders
    where ${filter} and ${col} <= ${horizon} ${keyset}
    order by ${col}, id limit ${limit}`);
  return rows.map((r) => ({ id: Number(r.id), at: asDate(r.at)!, key: String(r.key) }));
}
