import { DelayedError, Queue, Worker, type Job, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { createRedis } from '../infra/redis.js';
import { alarmPage, createFireBatcher, escalateReminder, type Alarm, type Fired, type FireOutcome } from './reminder-firing.js';
import { delayUntil, EARLY_TOLERANCE_MS, escalateJobId, fireJobId } from './reminder-rules.js';

// BullMQ as the alarm clock, never the record: a job only says "look at reminder N now". The row
// decides (reminder-firing.ts), and the reconciler re-creates alarms that Redis lost.

/** Queue payloads by job name. */
export interface ReminderJobs {
  fire: { reminderId: number };
  escalate: { reminderId: number };
}
export type AlarmKind = keyof ReminderJobs;
type AlarmJob = Job<ReminderJobs[AlarmKind], string, AlarmKind>;

export interface SchedulerOptions {
  db: Db;
  redisUrl: string;
  logger: Logger;
  /** BullMQ key prefix; tests give each file its own. */
  prefix?: string;
  queueName?: string;
  concurrency?: number;
  reconcileSeconds: number;
  /** Called once per reminder that this process fired or escalated (after the UPDATE committed). */
  onFired: (fired: Fired) => void | Promise<void>;
  onEscalated: (fired: Fired) => void | Promise<void>;
}

const PAGE = 1000;
const JOB_OPTIONS: JobsOptions = {
  // Removed at once, so an id can be added again when the row needs a new alarm; a failed job is
  // removed too (the worker logs it) and the reconciler re-creates it while the row is pending.
  removeOnComplete: true,
  removeOnFail: true,
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
};
const jobIdOf = (kind: AlarmKind, id: number) => (kind === 'fire' ? fireJobId(id) : escalateJobId(id));

/** The one shape of an alarm job: the name says what to do, the id makes adding it idempotent. */
export const alarmJob = (kind: AlarmKind, id: number, at: Date, now: number) => ({
  name: kind,
  data: { reminderId: id },
  opts: { ...JOB_OPTIONS, jobId: jobIdOf(kind, id), delay: delayUntil(at, now) },
});
// BullMQ's delayed zset score is `timestamp * 0x1000 + counter` (getDelayedScore.lua).
const DELAYED_SCORE_UNIT = 0x1000;

export type ReminderScheduler = ReturnType<typeof createReminderScheduler>;

export function createReminderScheduler(opts: SchedulerOptions) {
  const { db, logger } = opts;
  const prefix = opts.prefix ?? 'switchboard';
  const queueName = opts.queueName ?? 'reminders';
  // Producer side: also used inside HTTP handlers, so it fails fast instead of queueing commands
  // while Redis is away (the row is committed anyway; the reconciler adds the alarm later).
  const producer: Redis = createRedis(opts.redisUrl, 'command');
  const queue = new Queue<ReminderJobs[AlarmKind], string, AlarmKind>(queueName, { connection: producer, prefix });
  queue.on('error', (err) => logger.warn({ err }, 'reminder queue error'));
  let worker: Worker<ReminderJobs[AlarmKind], string, AlarmKind> | null = null;
  let workerRedis: Redis | null = null;
  let timer: NodeJS.Timeout | null = null;
  let reconciling: Promise<unknown> | null = null;
  // onFired must not throw into the batch: one failing publish would fail the other jobs with it.
  const batcher = createFireBatcher(db, (fired) => {
    try {
      void Promise.resolve(opts.onFired(fired)).catch((err) => logger.error({ err, reminderId: fired.reminder.id }, 'publishing a fired reminder failed'));
    } catch (err) {
      logger.error({ err, reminderId: fired.reminder.id }, 'publishing a fired reminder failed');
    }
  });

  const add = (kind: AlarmKind, id: number, at: Date) => {
    const job = alarmJob(kind, id, at, Date.now());
    return queue.add(job.name, job.data, job.opts);
  };

  /** Best effort: a lost alarm is re-created by the reconciler, a stale one is re-checked by the row. */
  const quietly = async (what: string, id: number, action: () => Promise<unknown>) => {
    try {
      await action();
    } catch (err) {
      logger.warn({ err, reminderId: id }, `reminder alarm: ${what} failed; the reconciler will repair it`);
    }
  };

  async function runAlarm(job: AlarmJob, token?: string): Promise<string> {
    const id = job.data.reminderId;
    const outcome: FireOutcome = job.name === 'fire' ? await batcher.fire(id) : await escalateReminder(db, id, Date.now());
    if ('fired' in outcome) {
      // The batcher has published fired reminders already (its sweeps fire ones without a job here).
      if (job.name === 'escalate') await opts.onEscalated(outcome.fired);
      return 'fired';
    }
    if ('later' in outcome) {
      // Snoozed after this alarm was set: keep the job (same id) and move it to the new time. (A
      // row another worker held locked at this instant comes back due now: look again shortly.)
      await job.moveToDelayed(Math.max(outcome.later.getTime(), Date.now() + 100), token);
      throw new DelayedError();
    }
    return outcome.skipped;
  }

  /**
   * Makes sure every alarm in `alarms` exists in Redis and is not set later than the row says.
   * One pipeline per page (EXISTS + ZSCORE per job) instead of a getJob round trip per row.
   */
  async function ensure(kind: AlarmKind, alarms: Alarm[]): Promise<{ added: number; moved: number }> {
    const pipe = producer.pipeline();
    for (const a of alarms) {
      pipe.exists(queue.toKey(jobIdOf(kind, a.id)));
      pipe.zscore(queue.keys.delayed!, jobIdOf(kind, a.id));
    }
    const replies = (await pipe.exec()) ?? [];
    const missing: Alarm[] = [];
    const late: Alarm[] = [];
    alarms.forEach((a, i) => {
      const [existsErr, exists] = replies[2 * i] ?? [];
      const [, score] = replies[2 * i + 1] ?? [];
      if (existsErr) throw existsErr;
      if (exists === 0) missing.push(a);
      else if (score !== null && score !== undefined && Math.floor(Number(score) / DELAYED_SCORE_UNIT) > a.at.getTime() + EARLY_TOLERANCE_MS) late.push(a);
    });
    if (missing.length > 0) {
      const now = Date.now();
      // addBulk skips ids that appeared meanwhile (another reconciler): duplicates are harmless.
      await queue.addBulk(missing.map((a) => alarmJob(kind, a.id, a.at, now)));
    }
    for (const a of late) {
      // Moved earlier (snooze "until" sooner) while the old alarm could not be replaced.
      await quietly('move', a.id, async () => (await queue.getJob(jobIdOf(kind, a.id)))?.changeDelay(delayUntil(a.at, Date.now())));
    }
    return { added: missing.length, moved: late.length };
  }

  /**
   * Re-creates the alarms of open rows due before the next run (plus a margin for a late tick),
   * page by page. Rows further ahead keep the alarm made at creation, or get one on a later run.
   */
  async function reconcile(): Promise<{ checked: number; added: number; moved: number }> {
    // The producer connection refuses commands until it is connected (no offline queue).
    await queue.waitUntilReady();
    const horizon = new Date(Date.now() + opts.reconcileSeconds * 2_000 + 10_000);
    const total = { checked: 0, added: 0, moved: 0 };
    for (const kind of ['fire', 'escalate'] as const) {
      let after: Alarm | null = null;
      for (;;) {
        const page: Alarm[] = await alarmPage(db, kind, horizon, after, PAGE);
        if (page.length === 0) break;
        const { added, moved } = await ensure(kind, page);
        total.checked += page.length;
        total.added += added;
        total.moved += moved;
        after = page[page.length - 1]!;
        if (page.length < PAGE) break;
      }
    }
    if (total.added + total.moved > 0) logger.info(total, 'reminder reconciler repaired alarms');
    return total;
  }

  // Overlapping runs would only do the same work twice; a tick that finds one running skips.
  const runReconcile = () => {
    if (reconciling) return reconciling as Promise<{ checked: number; added: number; moved: number }>;
    const run = reconcile().finally(() => {
      reconciling = null;
    });
    reconciling = run;
    return run;
  };

  return {
    queue,
    reconcile: runReconcile,

    schedule: (id: number, dueAt: Date) => quietly('add', id, () => add('fire', id, dueAt)),
    scheduleEscalation: (id: number, at: Date) => quietly('add escalation', id, () => add('escalate', id, at)),

    /** New due time: replace the alarm. An alarm that is running right now cannot be removed; it re-reads the row. */
    reschedule: (id: number, dueAt: Date) =>
      quietly('reschedule', id, async () => {
        await queue.remove(fireJobId(id));
        await add('fire', id, dueAt);
      }),

    unschedule: (id: number) =>
      quietly('remove', id, async () => {
        await queue.remove(fireJobId(id));
        await queue.remove(escalateJobId(id));
      }),

    /** Starts the worker and the reconciler (at once, then every reconcileSeconds). */
    async start(): Promise<void> {
      if (worker) return;
      // Workers block on Redis and must retry forever (maxRetriesPerRequest: null).
      workerRedis = createRedis(opts.redisUrl, 'blocking');
      worker = new Worker<ReminderJobs[AlarmKind], string, AlarmKind>(queueName, runAlarm, {
        connection: workerRedis,
        prefix,
        concurrency: opts.concurrency ?? 50,
      });
      worker.on('failed', (job, err) => logger.error({ err, jobId: job?.id, attempts: job?.attemptsMade }, 'reminder job failed'));
      worker.on('error', (err) => logger.error({ err }, 'reminder worker error'));
      await runReconcile().catch((err) => logger.error({ err }, 'reminder reconciler failed at start'));
      timer = setInterval(() => void runReconcile().catch((err) => logger.error({ err }, 'reminder reconciler failed')), opts.reconcileSeconds * 1000);
      timer.unref();
    },

    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await reconciling?.catch(() => {});
      // close() waits for running jobs: a reminder being fired is published before we go.
      await worker?.close();
      worker = null;
      await queue.close();
      workerRedis?.disconnect();
      producer.disconnect();
    },
  };
}
