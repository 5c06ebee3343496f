import { Type, type Static } from '@sinclair/typebox';
import { Id as IdOf, Limit, Offset } from '../http/schemas.js';
import { REMINDER_KINDS, REMINDER_STATUSES } from './reminders.table.js';
import { MAX_NOTE_LENGTH, MAX_SNOOZE_MINUTES } from './reminder-rules.js';

const Id = IdOf();
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);
// Handlers return Date; the serializer writes ISO 8601.
const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));
const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);
const DateTime = Type.String({ format: 'date-time', description: 'ISO 8601 with a time zone, e.g. 2025-03-01T10:30:00+03:00' });

export const StatusSchema = Type.Union(REMINDER_STATUSES.map((s) => Type.Literal(s)));
export const KindSchema = Type.Union(REMINDER_KINDS.map((k) => Type.Literal(k)));

export const ReminderParams = Type.Object({ id: Id });

/** A reminder as the API and the WebSocket frames show it. */
export const ReminderBody = Type.Object({
  id: Type.Integer(),
  kind: KindSchema,
  userId: Type.Union([Type.Integer(), Type.Null()], { description: 'the owner; null = the department callback list' }),
  departmentId: NullableInt,
  clientId: NullableInt,
  clientName: Type.Union([Type.String(), Type.Null()]),
  dealId: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'the deal the reminder is about' })),
  phone: Type.Union([Type.String(), Type.Null()], { description: 'callbacks: the number to call back' }),
  callId: NullableInt,
  createdById: NullableInt,
  dueAt: Timestamp,
  note: Type.String({ description: "people's text; empty on a callback the PBX made (its facts are `missedCalls` and `lastMissedAt`)" }),
  missedCalls: Type.Integer({ description: 'callbacks: calls missed from this number so far (0 on a reminder)' }),
  lastMissedAt: Type.Union([Timestamp, Type.Null()], { description: 'callbacks: when the last missed call ended' }),
  autoDial: Type.Boolean(),
  status: StatusSchema,
  firedAt: NullableTimestamp,
  deliveredAt: NullableTimestamp,
  escalateAt: NullableTimestamp,
  escalatedAt: NullableTimestamp,
  completedAt: NullableTimestamp,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type ReminderView = Static<typeof ReminderBody>;

export const ReminderListBody = Type.Object({ items: Type.Array(ReminderBody), total: Type.Integer() });

export const CreateReminderBody = Type.Object(
  {
    clientId: Id,
    dealId: Type.Optional(IdOf({ description: 'a deal of this client the reminder is about' })),
    dueAt: DateTime,
    note: Type.String({ maxLength: MAX_NOTE_LENGTH, default: '' }),
    autoDial: Type.Boolean({ default: false, description: 'start click-to-call to the client when it fires' }),
  },
  { additionalProperties: false },
);
export type CreateReminderInput = Static<typeof CreateReminderBody>;

export const RemindersQuery = Type.Object(
  {
    scope: Type.Union([Type.Literal('mine'), Type.Literal('department')], {
      default: 'mine',
      description: "mine: the viewer's (an assistant's: the manager's); department: a curator's department, a director's all, a manager's common callback list",
    }),
    status: Type.Optional(Type.Array(StatusSchema, { description: 'repeat to give several; default pending and fired' })),
    kind: Type.Optional(KindSchema),
    departmentId: Type.Optional(IdOf({ description: 'directors: narrow scope=department to one department' })),
    escalated: Type.Optional(Type.Boolean()),
    limit: Limit(500, 100),
    offset: Offset,
  },
  { additionalProperties: false },
);
export type RemindersFilter = Static<typeof RemindersQuery>;

export const SnoozeBody = Type.Union(
  [
    Type.Object({ minutes: Type.Integer({ minimum: 1, maximum: MAX_SNOOZE_MINUTES }) }, { additionalProperties: false }),
    Type.Object({ until: DateTime }, { additionalProperties: false }),
  ],
  { description: '{minutes} from now, or {until} a time' },
);
