import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { ClientMessageHandler, ConnectHook } from '../screenpop/ws.routes.js';
import { audienceIncludes, audienceOf } from './reminder-rules.js';
import type { ReminderView } from './reminders.schemas.js';
import { ackReminder, assistantsOf, undeliveredFor } from './reminders.service.js';

/** The frames this feature sends on the WebSocket. Dates travel as ISO 8601 strings. */
export const reminderFrames = {
  /** A reminder is due; `replay` when sent on connect because no screen acknowledged it yet. */
  due: (reminder: ReminderView, replay = false) => ({ type: 'reminder.due' as const, reminder, ...(replay && { replay: true }) }),
  /** A callback was not done in time; its department's supervisors are told (and the owner). */
  escalated: (reminder: ReminderView) => ({ type: 'reminder.escalated' as const, reminder }),
  /** One screen acknowledged it: the others close the pop. */
  acked: (id: number) => ({ type: 'reminder.acked' as const, id }),
  /** Done (by hand or by calling the client back) or cancelled: screens drop it. */
  closed: (id: number, status: 'done' | 'cancelled') => ({ type: 'reminder.closed' as const, id, status }),
};

/** Frame types a browser may send to this feature; the lead's dispatcher routes them here. */
export const REMINDER_CLIENT_MESSAGE_TYPES = ['reminder.ack'] as const;

/**
 * A reminder counts as delivered when a screen acknowledges it, not when it was published: a
 * user who was offline (or whose instance lost the pub/sub message) gets it on the next connect.
 */
export function createReminderWs(deps: { db: Db; bus: Pick<EventBus, 'publish'> }) {
  const onConnect: ConnectHook = async (viewer, send) => {
    for (const reminder of await undeliveredFor(deps.db, viewer)) send(reminderFrames.due(reminder, true));
  };

  const onClientMessage: ClientMessageHandler = async (viewer, message, reply) => {
    if (message.type !== 'reminder.ack') return;
    const id = message.id;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
      throw new AppError('VALIDATION', 'reminder.ack: "id" must be a reminder id (a positive integer)');
    }
    const row = await ackReminder(deps.db, viewer, id);
    const audience = audienceOf(row, await assistantsOf(deps.db, row.userId));
    const frame = reminderFrames.acked(id);
    deps.bus.publish(audience, frame);
    // A director or covering curator acknowledging someone else's reminder is not in its audience.
    if (!audienceIncludes(audience, viewer)) reply(frame);
  };

  return { onConnect, onClientMessage };
}
