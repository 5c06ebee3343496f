import { Type } from '@sinclair/typebox';
import { DEAL_STATUSES } from '../deals/deal-statuses.js';
import { Id } from '../http/schemas.js';
import { PIPELINE } from './stats-figures.js';
import { GROUPINGS } from './stats-query.js';
import { TIMELINE_KINDS } from './timeline.js';

const LocalDate = (description: string, example = '2026-11-01') => Type.String({ format: 'date', description, examples: [example] });
const Nullable = (schema: ReturnType<typeof Type.Number>) => Type.Union([schema, Type.Null()]);
const PerStatus = Type.Object(Object.fromEntries(DEAL_STATUSES.map((s) => [s, Type.Integer()])));

export const MISSED_DEFINITIONS =
  'missed: an inbound call that ended missed, abandoned or busy. A missed call is called back when an outbound call to the same external number started after it (by anyone, answered or not). ' +
  'missedNotCalledBack: missed calls never called back so far (a hidden number can never be). callbacksOnTime: missed calls called back within callbackHours (default STATS_CALLBACK_HOURS).';

export const FiguresBody = Type.Object({
  inbound: Type.Integer({ description: 'inbound calls ended in the period' }),
  outbound: Type.Integer(),
  answered: Type.Integer({ description: 'inbound calls answered' }),
  missed: Type.Integer({ description: 'inbound calls missed, abandoned or busy' }),
  missedNotCalledBack: Type.Integer({ description: 'missed calls with no outbound call to the same number after them, so far' }),
  callbacksOnTime: Type.Integer({ description: 'missed calls called back within callbackHours' }),
  answerRate: Nullable(Type.Number({ description: 'answered / inbound, 0..1' })),
  avgAnswerSeconds: Nullable(Type.Number({ description: 'answered inbound calls: answer time − start time, on average' })),
  talkSecondsTotal: Type.Integer({ description: 'answered calls, both directions' }),
  talkSecondsAvg: Nullable(Type.Number()),
  dealsCreated: Type.Integer({ description: 'deals created in the period, owned by the person now' }),
  dealsByStatus: Type.Object(PerStatus.properties, { description: 'those deals by their status now' }),
  reached: Type.Object(Object.fromEntries(PIPELINE.map((s) => [s, Type.Integer()])), { description: 'those deals that ever reached each pipeline stage (or a later one); a refusal is no stage' }),
  conversions: Type.Array(
    Type.Object({ from: Type.String(), to: Type.String(), rate: Nullable(Type.Number({ description: 'reached[to] / reached[from]' })) }),
    { description: 'consecutive stages, then new → contract_signed, new → contract_paid, new → completed' },
  ),
  paidDeals: Type.Integer({ description: 'deals that became contract_paid in the period' }),
  paidAmount: Type.Number({ description: 'their amounts added up' }),
  reviews: Type.Integer({ description: 'reviews of the person’s calls made in the period' }),
  avgScore: Nullable(Type.Number({ description: 'their average total, 0..100' })),
});

export const StatsQuery = Type.Object({
  from: LocalDate('first day, local to each department'),
  to: LocalDate('last day, included', '2026-11-30'),
  groupBy: Type.Union(GROUPINGS.map((g) => Type.Literal(g)), { default: 'total', description: 'periods start at local midnight; weeks on Monday' }),
  userIds: Type.Optional(Type.Array(Id(), { maxItems: 100, description: 'compare these people side by side (repeat the parameter)', examples: [[7, 9]] })),
  departmentId: Type.Optional(Id()),
  callbackHours: Type.Optional(Type.Integer({ minimum: 1, maximum: 720, description: 'what "on time" means for a callback' })),
  format: Type.Union([Type.Literal('json'), Type.Literal('xlsx')], { default: 'json' }),
});

const Period = Type.Union([LocalDate('the period’s first local day'), Type.Null()], { description: 'null with groupBy=total' });

export const ManagerStatsBody = Type.Object({
  from: Type.String(),
  to: Type.String(),
  groupBy: Type.String(),
  callbackHours: Type.Integer(),
  rows: Type.Array(
    Type.Object({ userId: Type.Integer(), name: Type.String(), departmentId: Type.Union([Type.Integer(), Type.Null()]), timeZone: Type.String(), period: Period, figures: FiguresBody }),
  ),
});

export const DepartmentStatsBody = Type.Object({
  from: Type.String(),
  to: Type.String(),
  groupBy: Type.String(),
  callbackHours: Type.Integer(),
  rows: Type.Array(
    Type.Object({
      departmentId: Type.Union([Type.Integer(), Type.Null()]),
      name: Type.String(),
      timeZone: Type.String(),
      period: Period,
      people: Type.Integer({ description: 'people of the department counted' }),
      figures: FiguresBody,
    }),
  ),
});

export const TimelineQuery = Type.Object({
  from: Type.Optional(LocalDate('first local day (default: this week’s Monday)')),
  to: Type.Optional(LocalDate('last local day, included (default: this week’s Sunday); at most 31 days')),
  format: Type.Union([Type.Literal('json'), Type.Literal('xlsx')], { default: 'json' }),
});

export const TimelineBody = Type.Object({
  userId: Type.Integer(),
  timeZone: Type.String(),
  from: Type.String(),
  to: Type.String(),
  truncated: Type.Boolean({ description: 'more than 2,000 events: ask for fewer days' }),
  events: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time' }),
      kind: Type.Union(TIMELINE_KINDS.map((k) => Type.Literal(k))),
      callId: Type.Union([Type.Integer(), Type.Null()]),
      clientId: Type.Union([Type.Integer(), Type.Null()]),
      dealId: Type.Union([Type.Integer(), Type.Null()]),
      details: Type.Record(Type.String(), Type.Unknown()),
    }),
  ),
});

export const UserParams = Type.Object({ id: Id() });
