// The deal pipeline's open stages (DESIGN.md, "Deal"), in order: the pop card's "open deals" and
// anything else that asks "is work still going on?" read this one list. `completed` and the
// refusals are not open.
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
