import { Type, type Static } from '@sinclair/typebox';
import { Id as IdOf } from '../http/schemas.js';

const Id = IdOf();
// Handlers return Date; the serializer writes ISO 8601.
const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));
const Text = (maxLength: number) => Type.String({ maxLength });

export const SiteParams = Type.Object({ id: Id });

const siteFields = {
  id: Type.Integer(),
  name: Type.String(),
  departmentId: Type.Integer(),
  allowedOrigin: Type.String(),
  keyHint: Type.String({ description: 'the first characters of the key, to tell keys apart' }),
  active: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
};
const siteExample = {
  id: 2, name: 'Pallets landing', departmentId: 1, allowedOrigin: 'https://pallets.example.ru', keyHint: 'isk_Q3vX',
  active: true, createdAt: '2026-11-02T09:15:00.000Z', updatedAt: '2026-11-02T09:15:00.000Z',
};
export const SiteBody = Type.Object(siteFields, { examples: [siteExample] });
export type SiteView = Static<typeof SiteBody>;
export const CreatedSiteBody = Type.Object(
  { ...siteFields, key: Type.String({ description: 'shown only in this answer; the server keeps its hash' }) },
  { examples: [{ ...siteExample, key: 'isk_Q3vXq0m1R2d9yZtV5cW8bN4kL7hJ6fGs' }] },
);

const Origin = Type.String({ maxLength: 300, description: 'scheme://host[:port], no path', examples: ['https://pallets.example.ru'] });
export const CreateSiteBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }), departmentId: Id, allowedOrigin: Origin },
  { additionalProperties: false, examples: [{ name: 'Pallets landing', departmentId: 1, allowedOrigin: 'https://pallets.example.ru' }] },
);
export type CreateSiteInput = Static<typeof CreateSiteBody>;
export const PatchSiteBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' })),
    departmentId: Type.Optional(Id),
    allowedOrigin: Type.Optional(Origin),
    active: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ active: false }] },
);
export type PatchSiteInput = Static<typeof PatchSiteBody>;

export const LeadQuery = Type.Object({
  key: Type.Optional(Type.String({ maxLength: 200, description: "the site's key; in the query so a browser's preflight carries it too (or X-Intake-Key)" })),
});

const UtmField = Type.Optional(Text(200));
export const LeadBody = Type.Object(
  {
    name: Type.Optional(Text(200)),
    phone: Type.Optional(Text(64)),
    email: Type.Optional(Text(254)),
    message: Type.Optional(Text(5_000)),
    pageUrl: Type.Optional(Text(2_000)),
    utm: Type.Optional(
      Type.Object({ source: UtmField, medium: UtmField, campaign: UtmField, term: UtmField, content: UtmField }, { additionalProperties: false }),
    ),
    website: Type.Optional(Type.String({ maxLength: 2_000, description: 'the honeypot: a hidden field people leave empty' })),
  },
  {
    // Forms grow fields; one the server does not know is dropped, not a reason to lose the lead.
    additionalProperties: true,
    description: 'A phone or an e-mail is required.',
    examples: [
      {
        name: 'Ivan Petrov', phone: '+7 (916) 123-45-67', email: 'ivan@example.ru', message: 'Need 40 t of pallets by Friday',
        pageUrl: 'https://pallets.example.ru/order', utm: { source: 'yandex', medium: 'cpc', campaign: 'pallets-autumn' }, website: '',
      },
    ],
  },
);
export type LeadInput = Static<typeof LeadBody>;
export const AcceptedBody = Type.Object(
  { status: Type.Literal('accepted') },
  { description: 'the same answer whatever happens next, so a bot learns nothing', examples: [{ status: 'accepted' }] },
);

export const LeadParams = Type.Object({ id: Id });
export const AssignLeadBody = Type.Object({ userId: Id }, { additionalProperties: false, examples: [{ userId: 7 }] });

const NullableId = Type.Union([Type.Integer(), Type.Null()]);
const NullableText = Type.Union([Type.String(), Type.Null()]);
export const LeadView = Type.Object(
  {
    id: Type.Integer(),
    siteId: Type.Integer(),
    departmentId: Type.Integer(),
    name: Type.String(),
    phone: NullableText,
    phoneRaw: Type.String(),
    email: NullableText,
    message: Type.String(),
    pageUrl: NullableText,
    utm: Type.Object({ source: UtmField, medium: UtmField, campaign: UtmField, term: UtmField, content: UtmField }),
    clientId: NullableId,
    dealId: NullableId,
    assignedToId: NullableId,
    assignedById: NullableId,
    assignedAt: Type.Union([Timestamp, Type.Null()]),
    createdAt: Timestamp,
  },
  {
    examples: [
      {
        id: 31, siteId: 2, departmentId: 1, name: 'Ivan Petrov', phone: '+79161234567', phoneRaw: '+7 (916) 123-45-67', email: 'ivan@example.ru',
        message: 'Need 40 t of pallets by Friday', pageUrl: 'https://pallets.example.ru/order', utm: { source: 'yandex' },
        clientId: 12, dealId: 40, assignedToId: 7, assignedById: 3, assignedAt: '2026-11-02T09:20:00.000Z', createdAt: '2026-11-02T09:15:00.000Z',
      },
    ],
  },
);
export type LeadRow = Static<typeof LeadView>;

export const WaitingLeadsQuery = Type.Object({ departmentId: Type.Optional(Id) });

export const UnassignedCountsBody = Type.Array(
  Type.Object({ departmentId: Type.Integer(), departmentName: Type.String(), count: Type.Integer() }),
  { description: "one row per department the viewer supervises (a curator's own, every one for a director)", examples: [[{ departmentId: 1, departmentName: 'Sales', count: 3 }]] },
);
