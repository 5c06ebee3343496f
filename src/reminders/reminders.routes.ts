import { type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { actorOf } from '../audit/audit.js';
import { viewerOf } from '../auth/auth.plugin.js';
import { readOf, type ReadRecorder } from '../auth/read-budget.js';
import type { Db } from '../db/client.js';
import { AppError, ErrorBody } from '../errors.js';
import { snoozeTarget } from './reminder-rules.js';
import { CreateReminderBody, ReminderBody, ReminderListBody, ReminderParams, RemindersQuery, SnoozeBody, type ReminderView } from './reminders.schemas.js';
import { closeReminder, createReminder, getReminder, listReminders, snoozeReminder } from './reminders.service.js';

export interface RemindersRoutesOptions {
  db: Db;
  /** The alarm clock; failures there are logged, never surfaced (the reconciler repairs them). */
  alarms: { schedule(id: number, dueAt: Date): Promise<void>; reschedule(id: number, dueAt: Date): Promise<void> };
  /** After a complete or cancel committed: drop the alarms, tell the screens. */
  afterClose(reminder: ReminderView): Promise<void>;
  now?: () => Date;
  readBudget?: ReadRecorder | undefined;
}

const tags = ['reminders'];
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

export const remindersRoutes: FastifyPluginAsyncTypebox<RemindersRoutesOptions> = async (app, opts) => {
  const { db } = opts;
  const now = opts.now ?? (() => new Date());

  app.post(
    '/',
    {
      preHandler: app.requireUser,
      schema: {
        tags,
        summary: "Set a reminder to call a client back; an assistant's reminders belong to their manager",
        body: CreateReminderBody,
        response: { 201: ReminderBody, ...errors },
      },
    },
    async (request, reply) => {
      const reminder = await createReminder(db, actorOf(request), viewerOf(request), request.body, now());
      await opts.alarms.schedule(reminder.id, reminder.dueAt);
      return reply.status(201).send(reminder);
    },
  );

  app.get(
    '/',
    {
      preHandler: app.requireUser,
      schema: {
        tags,
        summary: 'Reminders and callbacks, soonest first (default: open ones)',
        querystring: RemindersQuery,
        response: { 200: ReminderListBody, ...errors },
      },
    },
    async (request) => {
      const page = await listReminders(db, viewerOf(request), request.query);
      // Done callbacks of a department over months carry most clients' names and numbers.
      await opts.readBudget?.record(viewerOf(request), readOf.page('reminders', request.query), request.ip);
      return page;
    },
  );

  app.get(
    '/:id',
    { preHandler: app.requireUser, schema: { tags, summary: 'One reminder', params: ReminderParams, response: { 200: ReminderBody, ...errors } } },
    async (request) => {
      const reminder = await getReminder(db, viewerOf(request), request.params.id);
      if (reminder.clientId !== null) await opts.readBudget?.record(viewerOf(request), readOf.client(reminder.clientId), request.ip);
      return reminder;
    },
  );

  app.post(
    '/:id/snooze',
    {
      preHandler: app.requireUser,
      schema: {
        tags,
        summary: 'Move an open reminder to later: {minutes} from now or {until} a time; a fired one will fire again',
        params: ReminderParams,
        body: SnoozeBody,
        response: { 200: ReminderBody, ...errors },
      },
    },
    async (request) => {
      const target = snoozeTarget(request.body, now());
      if ('error' in target) throw new AppError('VALIDATION', target.error);
      const reminder = await snoozeReminder(db, actorOf(request), viewerOf(request), request.params.id, target.dueAt);
      await opts.alarms.reschedule(reminder.id, reminder.dueAt);
      return reminder;
    },
  );

  for (const [action, to] of [['complete', 'done'], ['cancel', 'cancelled']] as const) {
    app.post(
      `/:id/${action}`,
      {
        preHandler: app.requireUser,
        schema: {
          tags,
          summary: action === 'complete' ? 'Mark a reminder or callback done' : 'Cancel a reminder',
          params: ReminderParams,
          response: { 200: ReminderBody, ...errors },
        },
      },
      async (request) => {
        const { reminder, changed } = await closeReminder(db, actorOf(request), viewerOf(request), request.params.id, to);
        if (changed) await opts.afterClose(reminder);
        return reminder;
      },
    );
  }
};
