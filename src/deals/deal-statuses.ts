// The pipeline the sales teams use, in the order the console shows it (issue 11). The order is
// the pipeline's: statistics and the console read it from here, never from the database.

export const OPEN_DEAL_STATUSES = [
  'new',
  'collecting_info',
  'proposal_sent',
  'interest',
  'contract_approval',
  'contract_signed',
  'contract_paid',
  'in_progress',
] as const;

/** Closed and won: the work was done. */
export const WON_DEAL_STATUS = 'completed' as const;

/** Closed and lost, each with the reason the sales team records. */
export const REFUSED_DEAL_STATUSES = [
  'refused_not_needed',
  'refused_self',
  'refused_price',
  'refused_call_back',
  'refused_no_money',
] as const;

export const DEAL_STATUSES = [...OPEN_DEAL_STATUSES, WON_DEAL_STATUS, ...REFUSED_DEAL_STATUSES] as const;

export type OpenDealStatus = (typeof OPEN_DEAL_STATUSES)[number];
export type RefusedDealStatus = (typeof REFUSED_DEAL_STATUSES)[number];
export type DealStatus = (typeof DEAL_STATUSES)[number];

export const DEAL_STATUS_LABELS: Record<DealStatus, { ru: string; en: string }> = {
  new: { ru: 'Новая', en: 'New' },
  collecting_info: { ru: 'Сбор информации', en: 'Collecting information' },
  proposal_sent: { ru: 'КП отправлено', en: 'Proposal sent' },
  interest: { ru: 'Интерес', en: 'Interest' },
  contract_approval: { ru: 'Договор на согласовании', en: 'Contract in approval' },
  contract_signed: { ru: 'Договор подписан', en: 'Contract signed' },
  contract_paid: { ru: 'Договор оплачен', en: 'Contract paid' },
  in_progress: { ru: 'В работе', en: 'In progress' },
  completed: { ru: 'Выполнена', en: 'Completed' },
  refused_not_needed: { ru: 'Отказ: не нужно совсем', en: 'Not needed at all' },
  refused_self: { ru: 'Отказ: делают сами', en: 'Doing it themselves' },
  refused_price: { ru: 'Отказ: дорого, ушли к конкуренту', en: 'Too expensive, went to a competitor' },
  refused_call_back: { ru: 'Отказ: перезвонят сами', en: 'Will call back themselves' },
  refused_no_money: { ru: 'Отказ: нет денег, но интерес есть', en: 'No money but interested' },
};

export type DealStage = 'open' | 'won' | 'refused';

export function stageOf(status: DealStatus): DealStage {
  if ((OPEN_DEAL_STATUSES as readonly string[]).includes(status)) return 'open';
  return status === WON_DEAL_STATUS ? 'won' : 'refused';
}

/** The open statuses as an SQL list literal, for raw queries (the screen-pop card). */
export const OPEN_DEAL_STATUSES_SQL = OPEN_DEAL_STATUSES.map((s) => `'${s}'`).join(', ');
