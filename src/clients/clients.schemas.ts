import { Type, type Static } from '@sinclair/typebox';
import { Id as IdOf, Limit, Offset } from '../http/schemas.js';

const Id = IdOf();
// Handlers return Date; the serializer writes ISO 8601.
const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));

export const ClientParams = Type.Object({ id: Id });

// Unknown parameters are ignored, as usual for query strings (`?token=` is read by auth).
export const ClientsQuery = Type.Object(
  {
    phone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'any format; exact match on the normalised number' })),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'part of the name or company, case-insensitive' })),
    ownerId: Type.Optional(Id),
    stale: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'only clients without a touch (call or note) for this many days, never-touched ones included' })),
    nextContactOverdue: Type.Optional(Type.Boolean({ description: 'true: only clients whose next-contact date has passed' })),
    limit: Limit(200, 50),
    offset: Offset,
  },
);
export type ClientsFilter = Static<typeof ClientsQuery>;

export const ClientPhoneBody = Type.Object({
  phone: Type.String({ description: 'E.164' }),
  raw: Type.String({ description: 'as typed' }),
});

export const ClientBody = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  company: Type.Union([Type.String(), Type.Null()]),
  ownerId: Type.Integer(),
  phones: Type.Array(ClientPhoneBody),
  lastActivityAt: Type.Union([Timestamp, Type.Null()]),
  lastContactAt: Type.Union([Timestamp, Type.Null()], { description: 'the last touch: a call that ended or a note' }),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type ClientView = Static<typeof ClientBody>;

export const ClientListBody = Type.Object({ items: Type.Array(ClientBody), total: Type.Integer() });

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  company: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
  ownerId: IdOf({
    description: "managers: always themselves; assistants: always their manager; curators: a user of their department; director: any active user",
  }),
  phones: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
    minItems: 1,
    maxItems: 20,
    description: 'any format; stored as E.164, duplicates collapse',
  }),
};

export const CreateClientBody = Type.Object(
  { name: fields.name, company: Type.Optional(fields.company), ownerId: Type.Optional(fields.ownerId), phones: fields.phones },
  { additionalProperties: false },
);
export type CreateClientInput = Static<typeof CreateClientBody>;

export const PatchClientBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });
export type PatchClientInput = Static<typeof PatchClientBody>;
