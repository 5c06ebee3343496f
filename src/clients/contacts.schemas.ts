import { Type, type Static } from '@sinclair/typebox';
import { Id as IdOf } from '../http/schemas.js';
import { ClientBody, ClientPhoneBody } from './clients.schemas.js';

const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));

export const ContactParams = Type.Object({ id: IdOf(), contactId: IdOf() });

export const ContactBody = Type.Object(
  {
    id: Type.Integer(),
    clientId: Type.Integer(),
    name: Type.String(),
    position: Type.Union([Type.String(), Type.Null()]),
    phones: Type.Array(ClientPhoneBody),
    emails: Type.Array(Type.String()),
    decisionMaker: Type.Boolean(),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  {
    examples: [
      {
        id: 4, clientId: 12, name: 'Olga Smirnova', position: 'Head of purchasing', phones: [{ phone: '+79161234567', raw: '8 916 123-45-67' }],
        emails: ['olga@romashka.example'], decisionMaker: true, createdAt: '2026-11-01T10:00:00.000Z', updatedAt: '2026-11-01T10:00:00.000Z',
      },
    ],
  },
);
export type ContactView = Static<typeof ContactBody>;

export const ContactListBody = Type.Object({ items: Type.Array(ContactBody) });

const fields = {
  name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
  position: Type.Union([Type.String({ maxLength: 200 }), Type.Null()]),
  phones: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
    maxItems: 20,
    description: 'any format; stored as E.164; a call from one of them routes to the client\'s owner and names this contact on the pop',
  }),
  emails: Type.Array(Type.String({ format: 'email', maxLength: 254 }), { maxItems: 20, uniqueItems: true }),
  decisionMaker: Type.Boolean({ description: 'the person who decides; shown on the pop card' }),
};

const { name, ...optional } = fields;
export const CreateContactBody = Type.Object(
  { name, ...Type.Partial(Type.Object(optional)).properties },
  { additionalProperties: false, examples: [{ name: 'Olga Smirnova', position: 'Head of purchasing', phones: ['8 916 123-45-67'], decisionMaker: true }] },
);
export type CreateContactInput = Static<typeof CreateContactBody>;

export const PatchContactBody = Type.Partial(Type.Object(fields), {
  additionalProperties: false,
  minProperties: 1,
  examples: [{ position: 'Director', decisionMaker: true }],
});
export type PatchContactInput = Static<typeof PatchContactBody>;

/** GET /api/clients/:id: the client with its contact persons, decision makers first. */
export const ClientCardBody = Type.Composite([ClientBody, Type.Object({ contacts: Type.Array(ContactBody) })], {
  examples: [{ ...ClientBody.examples[0], contacts: ContactBody.examples }],
});
