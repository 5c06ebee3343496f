import { Type } from '@sinclair/typebox';
import { DISPOSITIONS, DIRECTIONS } from '../calls/calls.table.js';
import { DEAL_STATUSES } from '../deals/deal-statuses.js';
import { Id, Limit, Offset } from '../http/schemas.js';

const Seconds = (description: string) => Type.Number({ minimum: 0, maximum: 86_400, description });

export const Criterion = Type.Object(
  {
    key: Type.String({ pattern: '^[a-z][a-z0-9_]{0,39}$', description: 'stable key the answers use' }),
    label: Type.String({ minLength: 1, maxLength: 200 }),
    weight: Type.Number({ exclusiveMinimum: 0, maximum: 100 }),
    kind: Type.Union([Type.Literal('yes_no'), Type.Literal('scale')]),
    max: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, description: 'for a scale: the best mark (0 is the worst)' })),
  },
  { additionalProperties: false },
);

export const ScorecardBody = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  departmentId: Type.Union([Type.Integer(), Type.Null()], { description: 'null: the company’s, for every department' }),
  archived: Type.Boolean(),
  version: Type.Integer({ description: 'the version shown; every change of the criteria adds one' }),
  versionId: Type.Integer(),
  criteria: Type.Array(Criterion),
  updatedAt: Type.String({ format: 'date-time' }),
});

const exampleCriteria = [
  { key: 'greeting', label: 'Приветствие по стандарту / Greeted by the script', weight: 1, kind: 'yes_no' },
  { key: 'needs', label: 'Выявил потребность / Found out the need', weight: 3, kind: 'scale', max: 5 },
];

export const CreateScorecard = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    departmentId: Type.Optional(Type.Union([Id(), Type.Null()], { description: 'default: a curator’s own department; a director’s: null (the company’s)' })),
    criteria: Type.Array(Criterion, { minItems: 1, maxItems: 50 }),
  },
  { additionalProperties: false, examples: [{ name: 'Входящий звонок / Inbound call', criteria: exampleCriteria }] },
);

export const PatchScorecard = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    archived: Type.Optional(Type.Boolean()),
    criteria: Type.Optional(Type.Array(Criterion, { minItems: 1, maxItems: 50, description: 'new criteria make a new version; past reviews keep theirs' })),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ criteria: exampleCriteria }] },
);

export const IdParams = Type.Object({ id: Id() });
export const ScorecardQuery = Type.Object({ version: Type.Optional(Type.Integer({ minimum: 1, description: 'an older version (default: the latest)' })) });
export const ScorecardListQuery = Type.Object({ archived: Type.Optional(Type.Boolean({ description: 'include archived scorecards' })) });

const Moment = {
  atSecond: Seconds('the moment of the recording the comment is about'),
  toSecond: Type.Optional(Seconds('the end, for a comment about a range')),
};

export const CommentBody = Type.Object({
  id: Type.Integer(),
  parentId: Type.Union([Type.Integer(), Type.Null()], { description: 'the comment this one replies to' }),
  authorId: Type.Union([Type.Integer(), Type.Null()]),
  atSecond: Type.Union([Type.Number(), Type.Null()]),
  toSecond: Type.Union([Type.Number(), Type.Null()]),
  text: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});

const Answer = Type.Union([Type.Boolean(), Type.Integer({ minimum: 0, maximum: 10 }), Type.Null()]);

export const CreateReview = Type.Object(
  {
    scorecardId: Id(),
    answers: Type.Record(Type.String({ maxLength: 40 }), Answer, { description: 'per criterion key: true/false, a mark 0..max, or null (does not apply)' }),
    summary: Type.Optional(Type.String({ maxLength: 5000 })),
    comments: Type.Optional(Type.Array(Type.Object({ ...Moment, text: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }), { maxItems: 100 })),
  },
  {
    additionalProperties: false,
    examples: [{ scorecardId: 1, answers: { greeting: true, needs: 3 }, summary: 'Хорошо выявил потребность / Found the need well', comments: [{ atSecond: 42.5, toSecond: 60, text: 'Перебил клиента / Interrupted the client' }] }],
  },
);

export const ReviewBody = Type.Object({
  id: Type.Integer(),
  callId: Type.Integer(),
  managerId: Type.Union([Type.Integer(), Type.Null()]),
  reviewerId: Type.Union([Type.Integer(), Type.Null()]),
  scorecardId: Type.Integer(),
  scorecardName: Type.String(),
  version: Type.Integer({ description: 'the scorecard version the review was made with' }),
  criteria: Type.Array(Criterion),
  answers: Type.Record(Type.String(), Answer),
  total: Type.Number({ description: 'weighted total, 0..100' }),
  summary: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
  comments: Type.Array(CommentBody, { description: 'oldest first; replies carry parentId' }),
});

export const AddComment = Type.Object(
  {
    parentId: Type.Optional(Id({ description: 'reply to this comment (then no atSecond)' })),
    atSecond: Type.Optional(Moment.atSecond),
    toSecond: Moment.toSecond,
    text: Type.String({ minLength: 1, maxLength: 2000 }),
  },
  { additionalProperties: false, examples: [{ parentId: 7, text: 'Клиент сам попросил перезвонить / The client asked me to call back' }, { atSecond: 95, text: 'Здесь нужно было назвать цену / Say the price here' }] },
);

export const QueueQuery = Type.Object({
  managerId: Type.Optional(Id()),
  departmentId: Type.Optional(Id()),
  from: Type.Optional(Type.String({ format: 'date-time', description: 'calls started at or after', examples: ['2026-11-30T00:00:00+03:00'] })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'calls started before' })),
  direction: Type.Optional(Type.Union(DIRECTIONS.map((d) => Type.Literal(d)))),
  disposition: Type.Optional(Type.Union(DISPOSITIONS.map((d) => Type.Literal(d)))),
  talkMin: Type.Optional(Type.Integer({ minimum: 0, description: 'talk seconds at least' })),
  talkMax: Type.Optional(Type.Integer({ minimum: 0, description: 'talk seconds at most' })),
  clientId: Type.Optional(Id()),
  dealStatus: Type.Optional(Type.Union(DEAL_STATUSES.map((s) => Type.Literal(s)), { description: 'the client has a deal in this status' })),
  reviewed: Type.Optional(Type.Boolean()),
  scoreMin: Type.Optional(Type.Number({ minimum: 0, maximum: 100, description: 'latest review total at least' })),
  scoreMax: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  random: Type.Optional(Type.Boolean({ description: 'random order (fair sample): with reviewed=false, managerId, from/to and limit=N', examples: [true] })),
  limit: Limit(200, 50),
  offset: Offset,
});

export const QueueBody = Type.Object({
  total: Type.Integer({ description: 'matching calls' }),
  items: Type.Array(
    Type.Object({
      id: Type.Integer(),
      linkedid: Type.String(),
      direction: Type.String(),
      disposition: Type.String(),
      startedAt: Type.String({ format: 'date-time' }),
      talkSeconds: Type.Union([Type.Integer(), Type.Null()]),
      clientId: Type.Union([Type.Integer(), Type.Null()]),
      clientName: Type.Union([Type.String(), Type.Null()]),
      managerId: Type.Integer(),
      managerName: Type.String(),
      departmentId: Type.Union([Type.Integer(), Type.Null()]),
      reviews: Type.Integer(),
      lastTotal: Type.Union([Type.Number(), Type.Null()]),
    }),
  ),
});
