// The record to persist for a call, derived from its state (pure, cheap enough to run per change).
import type { CallState, CdrInfo, Direction, Disposition, FailureReason, LegRole, Transfer } from './call-state.js';
import { directionOf, firstLeg } from './call-legs.js';

export interface LegSummary {
  uniqueid: string;
  channel: string;
  role: LegRole;
  extension: string | null;
  number: string | null;
  dialedAt: Date | null;
  dialStatus: string | null;
  answeredAt: Date | null;
  hungUpAt: Date | null;
  cause: number | null;
}

export interface CallSummary {
  linkedid: string;
  direction: Direction;
  did: string | null;
  /** Who called: the caller id (inbound) or the user's extension (outbound, internal). */
  callerNumber: string | null;
  /** The outside party, to find the client: the caller (inbound) or the dialled customer (outbound). */
  clientNumber: string | null;
  startedAt: Date;
  ringingAt: Date | null;
  answeredAt: Date | null;
  endedAt: Date | null;
  /** null while the call is in progress; 0 when nobody talked. */
  talkSeconds: number | null;
  /** null while the call is in progress. */
  disposition: Disposition | null;
  hangupCause: number | null;
  rang: Array<{ extension: string; at: Date }>;
  answeredByExtension: string | null;
  finalExtension: string | null;
  transfers: Array<{ kind: Transfer['kind']; from: string | null; to: string | null; at: Date }>;
  /** A recording is not a conversation: with transmit_silence it also holds the ring time. */
  recording: { uniqueid: string; file: string | null } | null;
  legs: LegSummary[];
  failureReason: FailureReason | null;
  /** The first channel was created by an Originate (ours or another program's). */
  originated: boolean;
  /** Our click-to-call: who clicked and our call id (from expectOriginate or CRM_CALL_ID). */
  clickToCall: { userId: string | null; callId: string | null; clientId: number | null } | null;
}

const date = (ms: number | null): Date | null => (ms === null ? null : new Date(ms));

export function summarize(s: CallState): CallSummary {
  const direction = directionOf(s);
  const first = firstLeg(s);
  const outcome = s.endedAt === null ? null : dispositionOf(s, direction);
  const callerNumber = direction === 'inbound' ? s.callerNumber : first?.extension ?? s.callerNumber;
  const callId = s.clickToCall?.callId ?? s.crmCallId;
  return {
    linkedid: s.linkedid,
    direction,
    did: direction === 'inbound' ? s.did : null,
    callerNumber,
    clientNumber: direction === 'inbound' ? s.callerNumber : direction === 'outbound' ? s.dialledNumber : null,
    startedAt: new Date(s.startedAt),
    ringingAt: date(s.ringingAt),
    answeredAt: date(s.answeredAt),
    endedAt: date(s.endedAt),
    talkSeconds: talkSecondsOf(s),
    disposition: outcome?.disposition ?? null,
    hangupCause: s.endedAt === null ? null : hangupCauseOf(s),
    rang: s.rang.map((r) => ({ extension: r.extension, at: new Date(r.at) })),
    answeredByExtension: s.answeredBy,
    finalExtension: s.finalAgent,
    transfers: s.transfers.map((t) => ({ ...t, at: new Date(t.at) })),
    recording: s.recording && { uniqueid: s.recording.uniqueid, file: s.recording.file },
    legs: s.legOrder.map((u) => {
      const l = s.legs[u]!;
      return {
        uniqueid: l.uniqueid, channel: l.channel, role: l.role, extension: l.extension, number: l.number,
        dialedAt: date(l.dialedAt), dialStatus: l.dialStatus, answeredAt: date(l.answeredAt),
        hungUpAt: date(l.hungUpAt), cause: l.cause,
      };
    }),
    failureReason: outcome?.failureReason ?? null,
    originated: s.originated,
    clickToCall: s.clickToCall || callId ? { userId: s.clickToCall?.userId ?? null, callId: callId ?? null, clientId: s.clickToCall?.clientId ?? null } : null,
  };
}

/**
 * Disposition of an ended call. In this order:
 * - outbound (click-to-call or a user dialling out):
 *   · failed when the user's own phone never answered the Originate, with the reason from
 *     OriginateResponse (3 manager_no_answer, 5 manager_busy, 0/1 hung_up, 8 congestion) or, when
 *     that is missing, from the leg (BUSY / cause 17 → manager_busy, else manager_no_answer);
 *   · answered when the customer answered (DialEnd ANSWER or a bridge with the user's leg);
 *   · busy when the last attempt got BUSY (customer_busy);
 *   · failed otherwise: customer_no_answer, cancelled (the user hung up first),
 *     customer_unavailable (CHANUNAVAIL/CONGESTION), no_dial (nothing was dialled).
 * - inbound and internal:
 *   · answered when an agent (or an outside number we forwarded to) answered;
 *   · abandoned when the caller hung up while a phone was still ringing (DialEnd CANCEL, or the
 *     caller's Hangup before the ringing leg's DialEnd; scenario g);
 *   · busy when the last Dial() attempt ended BUSY (a busy owner followed by an unanswered
 *     department fallback is missed, scenario c);
 *   · failed when the last attempt was CHANUNAVAIL/CONGESTION (unavailable), or for an internal
 *     call that dialled nothing (no_dial);
 *   · missed otherwise: phones rang out, or nobody could be rung at all (closed, no route).
 */
export function dispositionOf(s: CallState, direction = directionOf(s)): { disposition: Disposition; failureReason: FailureReason | null } {
  const status = s.lastAttempt?.status;
  if (direction === 'outbound') {
    if (s.originated && !s.originatorAnswered) return { disposition: 'failed', failureReason: managerFailure(s) };
    if (s.answeredAt !== null) return { disposition: 'answered', failureReason: null };
    switch (status) {
      case 'BUSY': return { disposition: 'busy', failureReason: 'customer_busy' };
      case 'CANCEL': return { disposition: 'failed', failureReason: 'cancelled' };
      case 'CHANUNAVAIL':
      case 'CONGESTION':
        return { disposition: 'failed', failureReason: 'customer_unavailable' };
      case undefined: return { disposition: 'failed', failureReason: 'no_dial' };
      default: return { disposition: 'failed', failureReason: 'customer_no_answer' };
    }
  }
  if (s.answeredAt !== null) return { disposition: 'answered', failureReason: null };
  if (s.cancelled || s.callerHungUpWhileRinging) return { disposition: 'abandoned', failureReason: null };
  if (status === 'BUSY') return { disposition: 'busy', failureReason: null };
  if (status === 'CHANUNAVAIL' || status === 'CONGESTION') return { disposition: 'failed', failureReason: 'unavailable' };
  if (direction === 'internal' && status === undefined) return { disposition: 'failed', failureReason: 'no_dial' };
  return { disposition: 'missed', failureReason: null };
}

/** OriginateResponse Reason (the last control frame seen) → why the user's phone did not take it. */
export function originateFailure(reason: number): FailureReason {
  switch (reason) {
    case 3: return 'manager_no_answer';
    case 5: return 'manager_busy';
    case 8: return 'congestion';
    case 0:
    case 1:
      return 'hung_up';
    default: return 'originate_failed';
  }
}

function managerFailure(s: CallState): FailureReason {
  const r = s.originateResult;
  if (r !== null && r.response === 'Failure') return originateFailure(r.reason);
  const first = firstLeg(s);
  if (first?.dialStatus === 'BUSY' || first?.cause === 17) return 'manager_busy';
  if (first?.dialStatus === 'CHANUNAVAIL' || first?.dialStatus === 'CONGESTION') return 'manager_unavailable';
  return 'manager_no_answer';
}

/**
 * Whole seconds of conversation, floored like Asterisk's billsec. Preferred source: the Cdr of the
 * Dial() that connected the call (same source Uniqueid and destination channel, ANSWERED). Its
 * BillableSeconds is measured by Asterisk on its own clock from the answer to the hang-up,
 * whereas our times are receive times: they carry network and event-loop delay and are
 * meaningless for events replayed after a reconnect. The Cdr is not used when the dialling channel
 * was already answered (click-to-call, IVR: billsec then counts from that earlier answer) or
 * after a transfer (the first Dial's Cdr covers only the first agent).
 */
export function talkSecondsOf(s: CallState): number | null {
  if (s.endedAt === null) return null;
  if (s.answeredAt === null) return 0;
  const cdr = talkCdr(s);
  if (cdr) return cdr.billableSeconds;
  return Math.max(0, Math.floor((s.endedAt - s.answeredAt) / 1000));
}

function talkCdr(s: CallState): CdrInfo | undefined {
  if (s.cdrOnly) return s.cdrs.find((c) => c.disposition === 'ANSWERED' && c.destinationChannel !== '');
  const leg = s.answeredUniqueid === null ? undefined : s.legs[s.answeredUniqueid];
  if (!leg || !leg.dialedBy || leg.sourceWasUp || s.transfers.length > 0) return undefined;
  return s.cdrs.find((c) => c.disposition === 'ANSWERED' && c.uniqueid === leg.dialedBy && c.destinationChannel === leg.channel);
}

/** The first channel's cause; Local channels torn down by Dial() or an Originate report 0
 *  (Unknown), so then the first non-zero cause of any leg (their `;2` half has the real one). */
function hangupCauseOf(s: CallState): number | null {
  const first = firstLeg(s);
  if (first?.cause) return first.cause;
  const byTime = s.legOrder.map((u) => s.legs[u]!).filter((l) => l.cause).sort((a, b) => (a.hungUpAt ?? 0) - (b.hungUpAt ?? 0));
  return byTime[0]?.cause ?? first?.cause ?? null;
}
