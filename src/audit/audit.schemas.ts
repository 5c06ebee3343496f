import { Type, type Static } from '@sinclair/typebox';
import { Id, Limit } from '../http/schemas.js';

const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));

export const AuditQuery = Type.Object({
  actorId: Type.Optional(Id({ description: 'who did it' })),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'exact, e.g. `client.view`, `auth.sign_in`, `recording.listen`' })),
  entity: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'e.g. `client`, `user`, `call`' })),
  entityId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'inclusive' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'exclusive' })),
  before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'the `nextBefore` of the previous page' })),
  limit: Limit(500, 100),
});
export type AuditFilter = Static<typeof AuditQuery>;

export const AuditEntryBody = Type.Object({
  id: Type.Integer(),
  at: Timestamp,
  actorId: Type.Union([Type.Integer(), Type.Null()]),
  actorName: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  entity: Type.String(),
  entityId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()]),
  ip: Type.Union([Type.String(), Type.Null()]),
});
export type AuditEntryView = Static<typeof AuditEntryBody>;

export const AuditPageBody = Type.Object(
  {
    items: Type.Array(AuditEntryBody, { description: 'newest first' }),
    nextBefore: Type.Union([Type.Integer(), Type.Null()], { description: 'pass as `before` for the next page; null on the last one' }),
  },
  {
    examples: [
      {
        items: [
          { id: 5012, at: '2026-12-02T10:15:00.000Z', actorId: 7, actorName: 'Anna Petrova', action: 'client.view', entity: 'client', entityId: '42', details: null, ip: '10.0.0.12' },
          { id: 5009, at: '2026-12-02T09:00:03.000Z', actorId: 7, actorName: 'Anna Petrova', action: 'auth.sign_in', entity: 'user', entityId: '7', details: null, ip: '10.0.0.12' },
        ],
        nextBefore: 5009,
      },
    ],
  },
);
