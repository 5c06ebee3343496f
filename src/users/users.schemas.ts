import { Type, type Static } from '@sinclair/typebox';
import { Id as IdOf } from '../http/schemas.js';
import { ABSENT_RULES, PRESENCES, ROLES } from './users.table.js';

export const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));
export const PresenceSchema = Type.Union(PRESENCES.map((p) => Type.Literal(p)));
export const AbsentRuleSchema = Type.Union(ABSENT_RULES.map((r) => Type.Literal(r)));

export const ViewerBody = Type.Object({
  id: Type.Integer(),
  login: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  departmentId: Type.Union([Type.Integer(), Type.Null()]),
  managerId: Type.Union([Type.Integer(), Type.Null()]),
});

const Id = IdOf();
const NullableId = Type.Union([Id, Type.Null()]);
// Handlers return Date; the serializer writes ISO 8601.
const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));

export const UserParams = Type.Object({ id: Id });

// Unknown parameters are ignored, as usual for query strings (`?token=` is read by auth).
export const UsersQuery = Type.Object(
  {
    role: Type.Optional(RoleSchema),
    departmentId: Type.Optional(Id),
    active: Type.Optional(Type.Boolean()),
  },
);
export type UsersFilter = Static<typeof UsersQuery>;

/** A user as the API shows it; the password hash never leaves the database. */
export const UserBody = Type.Object({
  id: Type.Integer(),
  login: Type.String(),
  name: Type.String(),
  role: RoleSchema,
  departmentId: Type.Union([Type.Integer(), Type.Null()]),
  managerId: Type.Union([Type.Integer(), Type.Null()]),
  extension: Type.Union([Type.String(), Type.Null()]),
  mobile: Type.Union([Type.String(), Type.Null()]),
  absentRule: AbsentRuleSchema,
  presence: PresenceSchema,
  presenceChangedAt: Timestamp,
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type UserView = Static<typeof UserBody>;

const userFields = {
  // Case-insensitive here, stored lower-cased: `Anna` and `anna` are one login.
  login: Type.String({ pattern: '^[A-Za-z0-9._-]{2,50}$', description: 'letters, digits, . _ -; stored lower-cased' }),
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  password: Type.String({ minLength: 8, maxLength: 200 }),
  role: RoleSchema,
  departmentId: NullableId,
  managerId: Type.Union([Id, Type.Null()], { description: "an assistant's manager (required for assistants)" }),
  extension: Type.Union([Type.String({ pattern: '^\\d{2,10}$' }), Type.Null()], { description: 'internal number, 2–10 digits' }),
  mobile: Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()], { description: 'any format; stored as E.164' }),
  absentRule: AbsentRuleSchema,
};

export const CreateUserBody = Type.Object(
  {
    login: userFields.login,
    name: userFields.name,
    password: userFields.password,
    role: userFields.role,
    departmentId: Type.Optional(userFields.departmentId),
    managerId: Type.Optional(userFields.managerId),
    extension: Type.Optional(userFields.extension),
    mobile: Type.Optional(userFields.mobile),
    absentRule: Type.Optional(userFields.absentRule),
    presence: Type.Optional(PresenceSchema),
  },
  { additionalProperties: false },
);
export type CreateUserInput = Static<typeof CreateUserBody>;

export const PatchUserBody = Type.Partial(Type.Object({ ...userFields, active: Type.Boolean() }), {
  additionalProperties: false,
  minProperties: 1,
});
export type PatchUserInput = Static<typeof PatchUserBody>;

export const PresenceBody = Type.Object({ presence: PresenceSchema }, { additionalProperties: false });

export const HandoverBody = Type.Object(
  { toUserId: IdOf({ description: 'the heir: an active manager (or curator/director); a curator hands over within their department' }) },
  { additionalProperties: false, examples: [{ toUserId: 12 }] },
);

export const HandoverResultBody = Type.Object(
  {
    clients: Type.Integer({ description: 'clients whose owner became the heir' }),
    deals: Type.Integer({ description: 'open deals whose owner became the heir (closed ones keep theirs, for the statistics)' }),
    reminders: Type.Integer({ description: 'open reminders moved' }),
    callbacks: Type.Integer({ description: 'open callbacks moved' }),
  },
  { examples: [{ clients: 148, deals: 23, reminders: 9, callbacks: 2 }] },
);
