import { Type, type Static } from '@sinclair/typebox';
import { Id, Limit } from '../http/schemas.js';
import { CHANNELS } from './with-actor.js';

const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));

export const HistoryParams = Type.Object({ id: Id() });

// Keyset paging: `before` is the last `id` of the previous page; ids grow with time.
export const HistoryQuery = Type.Object({
  before: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'the `nextBefore` of the previous page' })),
  limit: Limit(500, 100),
});
export type HistoryFilter = Static<typeof HistoryQuery>;

const FieldChange = Type.Object(
  {
    old: Type.Optional(Type.Unknown()),
    new: Type.Optional(Type.Unknown()),
    changed: Type.Optional(Type.Literal(true, { description: 'a secret (password hash): that it changed, never the value' })),
  },
  { additionalProperties: false },
);

export const HistoryEntryBody = Type.Object({
  id: Type.Integer(),
  at: Timestamp,
  table: Type.String({ description: 'clients, client_phones, deals, client_notes, reminders, users, departments, …' }),
  rowId: Type.Union([Type.String(), Type.Null()]),
  op: Type.Union([Type.Literal('insert'), Type.Literal('update'), Type.Literal('delete'), Type.Literal('truncate')]),
  actorId: Type.Union([Type.Integer(), Type.Null()], { description: 'null when the change did not come through the service' }),
  actorName: Type.Union([Type.String(), Type.Null()]),
  dbUser: Type.String({ description: 'the PostgreSQL role that wrote it' }),
  via: Type.Union(CHANNELS.map((c) => Type.Literal(c))),
  importId: Type.Union([Type.Integer(), Type.Null()], { description: 'set when via is import: "import #importId by actorName"' }),
  changes: Type.Record(Type.String(), FieldChange, { description: 'column (snake_case) → old and new value' }),
});
export type HistoryEntry = Static<typeof HistoryEntryBody>;

export const HistoryPageBody = Type.Object(
  {
    items: Type.Array(HistoryEntryBody, { description: 'newest first' }),
    nextBefore: Type.Union([Type.Integer(), Type.Null()], { description: 'pass as `before` for the next page; null on the last one' }),
  },
  {
    examples: [
      {
        items: [
          {
            id: 812,
            at: '2026-12-02T10:15:00.000Z',
            table: 'clients',
            rowId: '42',
            op: 'update',
            actorId: 7,
            actorName: 'Anna Petrova',
            dbUser: 'switchboard',
            via: 'api',
            importId: null,
            changes: { name: { old: 'OOO Romashka', new: 'OOO Romashka Plus' }, owner_id: { old: 7, new: 9 } },
          },
          {
            id: 640,
            at: '2026-12-01T08:02:11.000Z',
            table: 'users',
            rowId: '7',
            op: 'update',
            actorId: null,
            actorName: null,
            dbUser: 'postgres',
            via: 'psql',
            importId: null,
            changes: { password_hash: { changed: true } },
          },
        ],
        nextBefore: 640,
      },
    ],
  },
);
