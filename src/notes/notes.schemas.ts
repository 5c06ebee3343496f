import { Type, type Static } from '@sinclair/typebox';
import { Id as IdOf, Limit } from '../http/schemas.js';
import { NOTE_KINDS } from './notes.table.js';

const Id = IdOf();
const Timestamp = Type.Unsafe<Date>(Type.String({ format: 'date-time' }));

export const NoteKindSchema = Type.Union(NOTE_KINDS.map((k) => Type.Literal(k)));
export const NoteParams = Type.Object({ id: Id });

export const NoteBody = Type.Object(
  {
    id: Type.Integer(),
    clientId: Type.Integer(),
    dealId: Type.Union([Type.Integer(), Type.Null()]),
    kind: NoteKindSchema,
    text: Type.String(),
    authorId: Type.Integer(),
    createdAt: Timestamp,
  },
  { examples: [{ id: 41, clientId: 12, dealId: 7, kind: 'call_summary', text: 'Wants 40 t by March; send the offer', authorId: 3, createdAt: '2026-11-03T11:00:00.000Z' }] },
);
export type NoteView = Static<typeof NoteBody>;

export const NoteListBody = Type.Object({
  items: Type.Array(NoteBody),
  nextCursor: Type.Union([Type.Integer(), Type.Null()], { description: 'pass as `before` for older notes; null on the last page' }),
});

export const CreateNoteBody = Type.Object(
  {
    kind: Type.Optional(NoteKindSchema),
    text: Type.String({ minLength: 1, maxLength: 20_000, pattern: '\\S' }),
  },
  { additionalProperties: false, examples: [{ kind: 'meeting', text: 'Met at the warehouse; they want a discount for 100 t' }] },
);
export type CreateNoteInput = Static<typeof CreateNoteBody>;

export const NotesQuery = Type.Object({
  kind: Type.Optional(NoteKindSchema),
  before: Type.Optional(Id),
  limit: Limit(200, 50),
});
export type NotesFilter = Static<typeof NotesQuery>;
