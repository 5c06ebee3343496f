import { stageOf, type DealStatus } from './deal-statuses.js';

/**
 * Whether a deal may go from `from` to `to`, or why not. Managers skip steps (a client who pays
 * at once) and step back (a contract sent again for approval), so any move between open statuses
 * is allowed; a refusal may be re-opened, since "will call back" and "no money but interested"
 * often come back. A completed deal is closed for good: new work on the client is a new deal,
 * otherwise the won deals of a past month would change under the statistics.
 */
export function canMoveDeal(from: DealStatus, to: DealStatus): { ok: true } | { ok: false; reason: string } {
  if (from === to) return { ok: false, reason: `the deal is already ${to}` };
  if (stageOf(from) === 'won') return { ok: false, reason: 'a completed deal is closed; open a new deal for new work' };
  return { ok: true };
}
