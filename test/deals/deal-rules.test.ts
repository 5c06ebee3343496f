import { describe, expect, it } from 'vitest';
import { canMoveDeal } from '../../src/deals/deal-rules.js';
import { DEAL_STATUS_LABELS, DEAL_STATUSES, OPEN_DEAL_STATUSES, REFUSED_DEAL_STATUSES, stageOf } from '../../src/deals/deal-statuses.js';

describe('the pipeline', () => {
  it('is in the order the sales teams use, open statuses first, then completed, then the refusals', () => {
    expect(OPEN_DEAL_STATUSES).toEqual(['new', 'collecting_info', 'proposal_sent', 'interest', 'contract_approval', 'contract_signed', 'contract_paid', 'in_progress']);
    expect(REFUSED_DEAL_STATUSES).toEqual(['refused_not_needed', 'refused_self', 'refused_price', 'refused_call_back', 'refused_no_money']);
    expect(DEAL_STATUSES).toEqual([...OPEN_DEAL_STATUSES, 'completed', ...REFUSED_DEAL_STATUSES]);
    expect(DEAL_STATUS_LABELS.contract_approval).toEqual({ ru: 'Договор на согласовании', en: 'Contract in approval' });
    expect(DEAL_STATUS_LABELS.refused_price).toEqual({ ru: 'Отказ: дорого, ушли к конкуренту', en: 'Too expensive, went to a competitor' });
    expect(stageOf('in_progress')).toBe('open');
    expect(stageOf('completed')).toBe('won');
    expect(stageOf('refused_no_money')).toBe('refused');
  });

  it('lets open deals skip and step back, re-opens refusals, and keeps a completed deal closed', () => {
    expect(canMoveDeal('new', 'contract_paid')).toEqual({ ok: true });
    expect(canMoveDeal('contract_signed', 'contract_approval')).toEqual({ ok: true });
    expect(canMoveDeal('refused_call_back', 'interest')).toEqual({ ok: true });
    expect(canMoveDeal('interest', 'interest')).toMatchObject({ ok: false });
    expect(canMoveDeal('completed', 'in_progress')).toMatchObject({ ok: false, reason: expect.stringContaining('closed') });
    expect(canMoveDeal('completed', 'refused_price')).toMatchObject({ ok: false });
  });
});
