import { DEAL_STATUSES, OPEN_DEAL_STATUSES, WON_DEAL_STATUS, type DealStatus } from '../deals/deal-statuses.js';

// The figures of one manager (or department) in one period, kept as sums and counts so that rows
// add up (a department is the sum of its people; averages are derived only at the end).

/** The pipeline in order: how far a deal got. Refusals are not a stage (a refused deal got as far as it had been). */
export const PIPELINE: readonly DealStatus[] = [...OPEN_DEAL_STATUSES, WON_DEAL_STATUS];

export interface Sums {
  inbound: number;
  outbound: number;
  answered: number;
  missed: number;
  missedNotCalledBack: number;
  callbacksOnTime: number;
  answerSecondsSum: number;
  answerCount: number;
  talkSecondsTotal: number;
  talkCount: number;
  dealsCreated: number;
  dealsByStatus: Partial<Record<DealStatus, number>>;
  /** Deals created in the period that reached each pipeline stage (index as in PIPELINE). */
  reached: number[];
  paidDeals: number;
  paidAmount: number;
  reviews: number;
  scoreSum: number;
}

export const emptySums = (): Sums => ({
  inbound: 0, outbound: 0, answered: 0, missed: 0, missedNotCalledBack: 0, callbacksOnTime: 0, answerSecondsSum: 0, answerCount: 0,
  talkSecondsTotal: 0, talkCount: 0, dealsCreated: 0, dealsByStatus: {}, reached: PIPELINE.map(() => 0), paidDeals: 0, paidAmount: 0, reviews: 0, scoreSum: 0,
});

export function addSums(into: Sums, from: Sums): Sums {
  for (const key of ['inbound', 'outbound', 'answered', 'missed', 'missedNotCalledBack', 'callbacksOnTime', 'answerSecondsSum', 'answerCount', 'talkSecondsTotal', 'talkCount', 'dealsCreated', 'paidDeals', 'paidAmount', 'reviews', 'scoreSum'] as const) {
    into[key] += from[key];
  }
  for (const [status, n] of Object.entries(from.dealsByStatus)) into.dealsByStatus[status as DealStatus] = (into.dealsByStatus[status as DealStatus] ?? 0) + n;
  from.reached.forEach((n, i) => (into.reached[i]! += n));
  return into;
}

/** A deal's furthest stage: PIPELINE index, or -1 when it never was in the pipeline (cannot happen: deals start at a stage). */
export const stageRank = (status: string): number => PIPELINE.indexOf(status as DealStatus);

export interface Conversion {
  from: DealStatus;
  to: DealStatus;
  /** Share of the deals that reached `from` which went on to reach `to`; null when none reached `from`. */
  rate: number | null;
}

export interface Figures {
  inbound: number;
  outbound: number;
  answered: number;
  missed: number;
  missedNotCalledBack: number;
  callbacksOnTime: number;
  /** answered / inbound. */
  answerRate: number | null;
  avgAnswerSeconds: number | null;
  talkSecondsTotal: number;
  talkSecondsAvg: number | null;
  dealsCreated: number;
  dealsByStatus: Record<DealStatus, number>;
  reached: Record<DealStatus, number>;
  conversions: Conversion[];
  paidDeals: number;
  paidAmount: number;
  reviews: number;
  avgScore: number | null;
}

const ratio = (a: number, b: number, digits = 4): number | null => (b === 0 ? null : Math.round((a / b) * 10 ** digits) / 10 ** digits);

/**
 * The reported figures. Conversions: between consecutive stages, and from `new` to
 * contract_signed, contract_paid and completed (the director's question).
 */
export function derive(s: Sums): Figures {
  const reached = Object.fromEntries(PIPELINE.map((status, i) => [status, s.reached[i] ?? 0])) as Record<DealStatus, number>;
  const pairs: Array<[DealStatus, DealStatus]> = PIPELINE.slice(1).map((to, i) => [PIPELINE[i]!, to]);
  pairs.push(['new', 'contract_signed'], ['new', 'contract_paid'], ['new', WON_DEAL_STATUS]);
  return {
    inbound: s.inbound,
    outbound: s.outbound,
    answered: s.answered,
    missed: s.missed,
    missedNotCalledBack: s.missedNotCalledBack,
    callbacksOnTime: s.callbacksOnTime,
    answerRate: ratio(s.answered, s.inbound),
    avgAnswerSeconds: ratio(s.answerSecondsSum, s.answerCount, 1),
    talkSecondsTotal: s.talkSecondsTotal,
    talkSecondsAvg: ratio(s.talkSecondsTotal, s.talkCount, 1),
    dealsCreated: s.dealsCreated,
    dealsByStatus: Object.fromEntries(DEAL_STATUSES.map((status) => [status, s.dealsByStatus[status] ?? 0])) as Record<DealStatus, number>,
    reached,
    conversions: pairs.map(([from, to]) => ({ from, to, rate: ratio(reached[to], reached[from]) })),
    paidDeals: s.paidDeals,
    paidAmount: Math.round(s.paidAmount * 100) / 100,
    reviews: s.reviews,
    avgScore: ratio(s.scoreSum, s.reviews, 2),
  };
}
