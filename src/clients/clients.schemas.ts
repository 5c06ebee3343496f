import { Type, type Static } from '@sinclair/typebox';
import { Id as IdOf, Limit } from '../http/schemas.js';
import { DEAL_STATUSES } from '../deals/deal-statuses.js';
import { CLIENT_KINDS, CLIENT_STATUSES, TEMPERATURES } from './clients.table.js';
import { SORT_NAMES } from './search-cursor.js';

const Id = IdOf();
// Handlers return Date; the serializer writes ISO 8601.
const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);
const Enum = <T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>(Type.String({ enum: [...values], ...(description && { description }) }));

export const ClientParams = Type.Object({ id: Id });

// Unknown parameters are ignored, as usual for query strings (`?token=` is read by auth).
const listFilters = {
  phone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'any format; exact match on the normalised number (a contact\'s too)' })),
  ownerId: Type.Optional(Id),
  status: Type.Optional(Enum(CLIENT_STATUSES)),
  tag: Type.Optional(Type.String({ minLength: 1, maxLength: 50, description: 'clients carrying this tag' })),
  important: Type.Optional(Type.Boolean()),
  stale: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650, description: 'only clients without a touch (call or note) for this many days, never-touched ones included' })),
  nextContactOverdue: Type.Optional(Type.Boolean({ description: 'true: only clients whose next-contact date has passed' })),
  limit: Limit(200, 50),
};
// Keyset pages for the list and the search alike: page 5,000 costs what page 1 costs.
const keysetPaging = {
  sort: Type.Optional(Enum(SORT_NAMES, 'name (A→Z, default), lastContact (freshest first), nextContact (soonest first); empty dates last')),
  cursor: Type.Optional(
    Type.String({ maxLength: 1000, description: 'nextCursor of the previous page, with the same filters and sort', examples: ['WyJsYXN0Q29udGFjdCIsIjIwMjYtMTItMDIgMTA6MDA6MDArMDAiLDEyXQ'] }),
  ),
};

export const ClientsQuery = Type.Object(
  {
    ...listFilters,
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'part of the name, legal name or company; case-insensitive, ё = е (no typo tolerance: that is /search)' })),
    ...keysetPaging,
    // Declared so that the document says it is gone; any value is a 400 (clients.routes.ts).
    offset: Type.Optional(
      Type.String({ deprecated: true, description: 'removed: any value is a 400. Page with `cursor` (the previous page\'s `nextCursor`) instead' }),
    ),
  },
);
export type ClientsFilter = Static<typeof ClientsQuery>;

// The list's filters plus the search over the whole base; keyset pages.
export const ClientSearchQuery = Type.Object({
  ...listFilters,
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'part of the name, legal name or company; case-insensitive, ё = е, a typo tolerated' })),
  phoneContains: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: "any fragment of a client's or contact's number in any format, at least 3 digits ('4567', '916 123')" })),
  email: Type.Optional(Type.String({ minLength: 3, maxLength: 254, description: 'part of an e-mail, case-insensitive' })),
  inn: Type.Optional(Type.String({ minLength: 1, maxLength: 20, pattern: '^[0-9 ]+$', description: 'the ИНН or its beginning' })),
  temperature: Type.Optional(Enum(TEMPERATURES)),
  dealStatus: Type.Optional(Enum(DEAL_STATUSES, 'clients with at least one deal in this status')),
  nextContactFrom: Type.Optional(Type.String({ format: 'date-time', description: 'next contact at or after' })),
  nextContactTo: Type.Optional(Type.String({ format: 'date-time', description: 'next contact before' })),
  ...keysetPaging,
});
export type ClientSearchFilter = Static<typeof ClientSearchQuery>;

export const ClientPhoneBody = Type.Object({
  phone: Type.String({ description: 'E.164; in lists masked for managers and assistants (`+7 916 ***-**-67`, MASK_PHONES_IN_LISTS)' }),
  raw: Type.String({ description: 'as typed' }),
});

export const ClientBody = Type.Object(
  {
    id: Type.Integer(),
    kind: Enum(CLIENT_KINDS),
    name: Type.String(),
    company: Nullable(Type.String()),
    legalName: Nullable(Type.String()),
    inn: Nullable(Type.String()),
    ownerId: Type.Integer(),
    phones: Type.Array(ClientPhoneBody, { description: "the client's own numbers; contacts' numbers are on the contacts" }),
    emails: Type.Array(Type.String()),
    website: Nullable(Type.String()),
    address: Nullable(Type.String()),
    segmentId: Nullable(Type.Integer()),
    sourceId: Nullable(Type.Integer()),
    status: Enum(CLIENT_STATUSES),
    temperature: Nullable(Enum(TEMPERATURES)),
    important: Type.Boolean(),
    nextContactAt: Nullable(Timestamp),
    tags: Type.Array(Type.String()),
    lastActivityAt: Nullable(Timestamp),
    lastContactAt: Type.Union([Timestamp, Type.Null()], { description: 'the last touch: a call that ended or a note' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    examples: [
      {
        id: 12, kind: 'company', name: 'Romashka', company: 'Romashka LLC', legalName: 'OOO «Romashka»', inn: '7707083893', ownerId: 3,
        phones: [{ phone: '+74951234567', raw: '8 495 123-45-67' }], emails: ['office@romashka.example'], website: 'https://romashka.example',
        address: 'Moscow, Tverskaya 1', segmentId: 7, sourceId: 2, status: 'current', temperature: 'hot', important: true,
        nextContactAt: '2026-12-03T09:00:00.000Z', tags: ['wholesale'], lastActivityAt: '2026-12-02T10:00:00.000Z', lastContactAt: '2026-12-02T10:00:00.000Z',
        createdAt: '2026-11-01T10:00:00.000Z', updatedAt: '2026-12-02T10:00:00.000Z',
      },
    ],
  },
);
export type ClientView = Static<typeof ClientBody>;

const NextCursor = Type.Union([Type.String(), Type.Null()], { description: 'pass as `cursor` for the next page; null on the last page' });
/** No total: counting a million matches would cost more than the page itself. */
export const ClientListBody = Type.Object(
  { items: Type.Array(ClientBody), nextCursor: NextCursor },
  { examples: [{ items: [ClientBody.examples[0]], nextCursor: 'WyJsYXN0Q29udGFjdCIsIjIwMjYtMTItMDIgMTA6MDA6MDArMDAiLDEyXQ' }] },
);
export const ClientSearchBody = Type.Object({ items: Type.Array(ClientBody), nextCursor: NextCursor });

const Text = (max: number) => Type.String({ maxLength: max });
const fields = {
  kind: Enum(CLIENT_KINDS, 'a company or a person; default company'),
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  company: Nullable(Text(200)),
  legalName: Nullable(Text(300)),
  inn: Nullable(Type.String({ maxLength: 20, description: 'ИНН: 10 digits (organisation) or 12 (person), checksum-validated' })),
  ownerId: IdOf({
    description: "managers: always themselves; assistants: always their manager; curators: a user of their department; director: any active user",
  }),
  phones: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
    minItems: 1,
    maxItems: 20,
    description: 'any format; stored as E.164, duplicates collapse',
  }),
  emails: Type.Array(Type.String({ format: 'email', maxLength: 254 }), { maxItems: 20, uniqueItems: true }),
  website: Nullable(Text(500)),
  address: Nullable(Text(500)),
  segmentId: Nullable(IdOf({ description: 'an entry of the `segment` list (/api/client-lists)' })),
  sourceId: Nullable(IdOf({ description: 'an entry of the `source` list (/api/client-lists)' })),
  status: Enum(CLIENT_STATUSES, 'default potential'),
  temperature: Nullable(Enum(TEMPERATURES)),
  important: Type.Boolean(),
  nextContactAt: Nullable(Type.String({ format: 'date-time' })),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: 50, pattern: '\\S' }), { maxItems: 30, description: 'duplicates collapse' }),
};

const { name, phones, ...optional } = fields;
export const CreateClientBody = Type.Object(
  { name, phones, ...Type.Partial(Type.Object(optional)).properties },
  {
    additionalProperties: false,
    examples: [{ kind: 'company', name: 'Romashka', legalName: 'OOO «Romashka»', inn: '7707083893', phones: ['8 495 123-45-67'], status: 'potential', tags: ['wholesale'] }],
  },
);
export type CreateClientInput = Static<typeof CreateClientBody>;

export const PatchClientBody = Type.Partial(Type.Object(fields), {
  additionalProperties: false,
  minProperties: 1,
  examples: [{ status: 'current', temperature: 'hot', important: true, nextContactAt: '2026-12-03T09:00:00.000Z' }],
});
export type PatchClientInput = Static<typeof PatchClientBody>;
