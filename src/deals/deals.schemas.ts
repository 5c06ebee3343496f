import { Type, type Static } from '@sinclair/typebox';
import { Id as IdOf, Limit } from '../http/schemas.js';
import { DEAL_STATUSES } from './deal-statuses.js';

const Id = IdOf();
// Handlers return Date; the serializer writes ISO 8601.
const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));
const NullableId = Type.Union([Type.Integer(), Type.Null()]);

export const DealStatusSchema = Type.Union(DEAL_STATUSES.map((s) => Type.Literal(s)));
export const DealParams = Type.Object({ id: Id });

const Amount = Type.String({ pattern: '^\\d{1,12}(\\.\\d{1,2})?$', description: 'a decimal in a string, so kopecks are never rounded', examples: ['125000.00'] });
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217', examples: ['RUB'] });

export const StatusChangeBody = Type.Object({
  fromStatus: Type.Union([DealStatusSchema, Type.Null()], { description: 'null: the deal was created in `toStatus`' }),
  toStatus: DealStatusSchema,
  changedById: NullableId,
  changedAt: Timestamp,
});

const dealFields = {
  id: Type.Integer(),
  clientId: Type.Integer(),
  title: Type.String(),
  status: DealStatusSchema,
  amount: Type.Union([Type.String(), Type.Null()]),
  currency: Type.String(),
  typeId: NullableId,
  important: Type.Boolean(),
  description: Type.String(),
  ownerId: NullableId,
  source: Type.Union([Type.String(), Type.Null()]),
  createdById: NullableId,
  createdAt: Timestamp,
  updatedAt: Timestamp,
};

export const DealBody = Type.Object(dealFields, {
  examples: [
    {
      id: 7, clientId: 12, title: 'Pallets, 40 t', status: 'proposal_sent', amount: '125000.00', currency: 'RUB', typeId: 1,
      important: true, description: '', ownerId: 3, source: 'website', createdById: 3,
      createdAt: '2026-11-02T09:15:00.000Z', updatedAt: '2026-11-03T11:00:00.000Z',
    },
  ],
});
export type DealRow = Static<typeof DealBody>;

/** One deal with every status it went through, oldest first. */
export const DealDetailBody = Type.Object({ ...dealFields, statusChanges: Type.Array(StatusChangeBody) });
export type DealDetail = Static<typeof DealDetailBody>;

export const DealListBody = Type.Object({
  items: Type.Array(DealBody),
  nextCursor: Type.Union([Type.Integer(), Type.Null()], { description: 'pass as `after` for the next page; null on the last one' }),
});

export const DealsQuery = Type.Object({
  clientId: Type.Optional(Id),
  ownerId: Type.Optional(Id),
  status: Type.Optional(Type.Array(DealStatusSchema, { maxItems: DEAL_STATUSES.length, description: 'repeat for several: `?status=new&status=interest`' })),
  stage: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('won'), Type.Literal('refused')])),
  typeId: Type.Optional(Id),
  important: Type.Optional(Type.Boolean()),
  after: Type.Optional(Id),
  limit: Limit(200, 50),
});
export type DealsFilter = Static<typeof DealsQuery>;

export const CreateDealBody = Type.Object(
  {
    clientId: Id,
    title: Type.String({ minLength: 1, maxLength: 300, pattern: '\\S' }),
    status: Type.Optional(DealStatusSchema),
    amount: Type.Optional(Type.Union([Amount, Type.Null()])),
    currency: Type.Optional(Currency),
    typeId: Type.Optional(Type.Union([Id, Type.Null()])),
    important: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String({ maxLength: 10_000 })),
    ownerId: Type.Optional(IdOf({ description: "default: the client's owner; only curators and directors choose another" })),
    source: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  },
  { additionalProperties: false, examples: [{ clientId: 12, title: 'Pallets, 40 t', amount: '125000.00', typeId: 1, important: true }] },
);
export type CreateDealInput = Static<typeof CreateDealBody>;

export const PatchDealBody = Type.Object(
  {
    title: Type.Optional(Type.String({ minLength: 1, maxLength: 300, pattern: '\\S' })),
    amount: Type.Optional(Type.Union([Amount, Type.Null()])),
    currency: Type.Optional(Currency),
    typeId: Type.Optional(Type.Union([Id, Type.Null()])),
    important: Type.Optional(Type.Boolean()),
    description: Type.Optional(Type.String({ maxLength: 10_000 })),
    source: Type.Optional(Type.Union([Type.String({ maxLength: 200 }), Type.Null()])),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    description: 'The status moves only through POST /api/deals/:id/status, so every move is recorded',
    examples: [{ amount: '140000.00', important: false }],
  },
);
export type PatchDealInput = Static<typeof PatchDealBody>;

export const MoveDealBody = Type.Object({ status: DealStatusSchema }, { additionalProperties: false, examples: [{ status: 'refused_price' }] });

export const PipelineBody = Type.Array(
  Type.Object({ status: DealStatusSchema, stage: Type.Union([Type.Literal('open'), Type.Literal('won'), Type.Literal('refused')]), ru: Type.String(), en: Type.String() }),
  { examples: [[{ status: 'new', stage: 'open', ru: 'Новая', en: 'New' }]] },
);

export const DealTypeBody = Type.Object(
  { id: Type.Integer(), name: Type.String(), color: Type.String(), archived: Type.Boolean() },
  { examples: [{ id: 1, name: 'Supply', color: '#2e7d32', archived: false }] },
);
const Color = Type.String({ pattern: '^#[0-9a-fA-F]{6}$', description: '#rrggbb', examples: ['#2e7d32'] });
export const CreateDealTypeBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' }), color: Color },
  { additionalProperties: false, examples: [{ name: 'Supply', color: '#2e7d32' }] },
);
export const PatchDealTypeBody = Type.Object(
  { name: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' })), color: Type.Optional(Color), archived: Type.Optional(Type.Boolean()) },
  { additionalProperties: false, minProperties: 1, examples: [{ archived: true }] },
);
