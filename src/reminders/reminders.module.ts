import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { ReadRecorder } from '../auth/read-budget.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { Audience, EventBus } from '../events/event-bus.js';
import type { ClientMessageHandler, ConnectHook } from '../screenpop/ws.routes.js';
import { handleCallEnded, type CallEndedResult, type EndedCall } from './missed-calls.js';
import type { Fired } from './reminder-firing.js';
import { audienceOf } from './reminder-rules.js';
import { createReminderScheduler } from './reminder-scheduler.js';
import { remindersRoutes } from './reminders.routes.js';
import type { ReminderView } from './reminders.schemas.js';
import { assistantsOf, type ReminderRow } from './reminders.service.js';
import { createReminderWs, reminderFrames } from './reminders.ws.js';

export type Originate = (userId: number, clientId: number | null, phone: string | null) => Promise<unknown>;

export interface ReminderModuleDeps {
  db: Db;
  redisUrl: string;
  bus: Pick<EventBus, 'publish'>;
  logger: Logger;
  config: Pick<Config, 'MISSED_CALL_CALLBACK_MINUTES' | 'MISSED_CALL_ESCALATE_MINUTES' | 'REMINDER_RECONCILE_SECONDS'>;
  /** Click-to-call for `autoDial` reminders; wired by the lead when click-to-call exists. */
  originate?: Originate;
  /** BullMQ key prefix (default `switchboard`); tests and benchmarks use their own. */
  prefix?: string;
  /** Jobs one worker runs at once (default 50): each is one short UPDATE. */
  concurrency?: number;
}

export interface ReminderModule {
  /** Register with `{ prefix: '/api/reminders' }`, after the auth plugin. */
  routes: FastifyPluginAsyncTypebox;
  onConnect: ConnectHook;
  onClientMessage: ClientMessageHandler;
  /** The alarm queue, for its depth on /metrics. */
  queue: { getJobCounts(...types: string[]): Promise<Record<string, number>> };
  /** Give it every ended call; it never throws (errors are logged), null when it failed. */
  onCallEnded(call: EndedCall): Promise<CallEndedResult | null>;
  /** Runs the reconciler once now; `start()` also runs it on a timer. */
  reconcile(): Promise<{ checked: number; added: number; moved: number }>;
  /** Starts this instance's worker and reconciler. Every instance may: firing is guarded in SQL. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createReminderModule(deps: ReminderModuleDeps): ReminderModule {
  const { db, bus, logger, config } = deps;
  const log = logger.child({ feature: 'reminders' });

  const onFired = (fired: Fired) => {
    const { reminder } = fired;
    bus.publish(audienceOf(reminder, fired.assistantIds), reminderFrames.due(reminder));
    if (reminder.autoDial && deps.originate && reminder.userId !== null) {
      // Not awaited: a slow PBX must not hold a worker slot, and a failed dial is not a failed reminder.
      const originate = deps.originate;
      const userId = reminder.userId;
      void Promise.resolve()
        .then(() => originate(userId, reminder.clientId, reminder.phone))
        .catch((err) => log.warn({ err, reminderId: reminder.id, userId }, 'auto-dial of a reminder failed'));
    }
  };

  const onEscalated = (fired: Fired) => {
    const { reminder } = fired;
    // The owner keeps the callback (they know the client); the curator is told and sees it in the
    // department list, and directors as supervisors of every department.
    const to: Audience = {
      ...(reminder.userId !== null && { userIds: [reminder.userId, ...fired.assistantIds] }),
      ...(reminder.departmentId !== null && { supervisorsOf: [reminder.departmentId] }),
    };
    bus.publish(to, reminderFrames.escalated(reminder));
  };

  const scheduler = createReminderScheduler({
    db,
    redisUrl: deps.redisUrl,
    logger: log,
    prefix: deps.prefix,
    concurrency: deps.concurrency,
    reconcileSeconds: config.REMINDER_RECONCILE_SECONDS,
    onFired,
    onEscalated,
  });

  const afterClose = async (reminder: Pick<ReminderRow, 'id' | 'userId' | 'departmentId' | 'status'>) => {
    await scheduler.unschedule(reminder.id);
    const status = reminder.status === 'cancelled' ? 'cancelled' : 'done';
    bus.publish(audienceOf(reminder, await assistantsOf(db, reminder.userId)), reminderFrames.closed(reminder.id, status));
  };

  const routes: FastifyPluginAsyncTypebox<{ readBudget?: ReadRecorder | undefined }> = async (app, opts) => {
    await app.register(remindersRoutes, { db, alarms: scheduler, afterClose: (r: ReminderView) => afterClose(r), readBudget: opts.readBudget });
  };

  const ws = createReminderWs({ db, bus });

  return {
    routes,
    onConnect: ws.onConnect,
    onClientMessage: ws.onClientMessage,

    async onCallEnded(call) {
      try {
        const result = await handleCallEnded(db, config, call);
        if (result.created) {
          await scheduler.schedule(result.created.id, result.created.dueAt);
          if (result.created.escalateAt) await scheduler.scheduleEscalation(result.created.id, result.created.escalateAt);
        }
        for (const done of result.completed) await afterClose(done);
        return result;
      } catch (err) {
        log.error({ err, callId: call.id }, 'missed-call callback handling failed');
        return null;
      }
    },

    queue: scheduler.queue,
    reconcile: () => scheduler.reconcile(),
    start: () => scheduler.start(),
    stop: () => scheduler.stop(),
  };
}
