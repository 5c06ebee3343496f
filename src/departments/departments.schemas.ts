import { Type, type Static } from '@sinclair/typebox';
import { Id as IdOf } from '../http/schemas.js';

const Id = IdOf();
// Handlers return Date; the serializer writes ISO 8601.
const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));

export const DepartmentParams = Type.Object({ id: Id });

/**
 * The common line. The target's shape depends on the kind (queue name or dial string); it is
 * checked by `lineProblem` so the message can say which rule it broke.
 */
export const LineSchema = Type.Object(
  {
    kind: Type.Union([Type.Literal('queue'), Type.Literal('dial')]),
    target: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

/** Weekly schedule; its shape is checked by the routing module's validator, not repeated here. */
export const BusinessHoursSchema = Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
  description: 'Weekly opening hours (see routing/business-hours.ts); null = always open',
});

const fields = {
  name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }),
  line: LineSchema,
  voicemailBox: Type.Union([Type.String({ pattern: '^\\d+(@[\\w-]+)?$', maxLength: 100 }), Type.Null()], {
    description: 'Asterisk mailbox `box` or `box@context`',
  }),
  dids: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
    maxItems: 100,
    description: 'Numbers callers dial to reach this department; any format, stored as E.164',
  }),
  businessHours: BusinessHoursSchema,
  timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Europe/Moscow' }),
};

export const CreateDepartmentBody = Type.Object(
  {
    name: fields.name,
    line: fields.line,
    voicemailBox: Type.Optional(fields.voicemailBox),
    dids: Type.Optional(fields.dids),
    businessHours: Type.Optional(fields.businessHours),
    timeZone: Type.Optional(fields.timeZone),
  },
  { additionalProperties: false },
);
export type CreateDepartmentInput = Static<typeof CreateDepartmentBody>;

export const PatchDepartmentBody = Type.Partial(Type.Object(fields), { additionalProperties: false, minProperties: 1 });
export type PatchDepartmentInput = Static<typeof PatchDepartmentBody>;

export const DepartmentBody = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  line: Type.Object({ kind: Type.Union([Type.Literal('queue'), Type.Literal('dial')]), target: Type.String() }),
  voicemailBox: Type.Union([Type.String(), Type.Null()]),
  dids: Type.Array(Type.String()),
  businessHours: BusinessHoursSchema,
  timeZone: Type.String(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});
export type DepartmentView = Static<typeof DepartmentBody>;
