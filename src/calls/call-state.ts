// One call per Linkedid, as a pure reducer over typed AMI events: reduce(state, event, ctx).
// No I/O, no clock (ctx.now is the receive time: stock AMI events carry no timestamp), no
// mutation (every change returns new objects that share what did not change; an event that
// changes nothing returns the very same state, so the tracker can skip work).
//
// Idempotence is built in rather than bolted on: every fact is set once (first DialBegin of a
// leg, first DialEnd, first Hangup, first answer, Cdr keyed by its content), so a duplicate
// event, a reconnect replay or the same transcript fed twice cannot change the outcome or emit
// an effect twice (per-leg flags remember which pop went out).
import type { AmiEvent } from '../pbx/events.js';
import type { ChannelIdentity } from './channel-identity.js';
import type { CallSummary } from './call-summary.js';
import { summarize } from './call-summary.js';
import { absorbSnapshot, ensureLeg, eventLinkedid, milestoneChanged, newCall } from './call-legs.js';
import { onBridgeEnter, onBridgeLeave, onDialBegin, onDialEnd, onDialState } from './call-dial.js';
import { markConsultation, onAttendedTransfer, onBlindTransfer } from './call-transfer.js';
import { callFromCdr, onCdr, onHangup, onOriginateResponse, onRecordingOrVar } from './call-end.js';

export type Direction = 'inbound' | 'outbound' | 'internal';
export type Disposition = 'answered' | 'missed' | 'busy' | 'failed' | 'abandoned';
/** caller: the outside party that called in · agent: a user's device · pbx: dialplan plumbing
 *  (Local `;2` halves, other Local channels) · external: an outside number we dialled. */
export type LegRole = 'caller' | 'agent' | 'pbx' | 'external';
export type FailureReason =
  | 'manager_no_answer' | 'manager_busy' | 'manager_unavailable' | 'hung_up' | 'congestion' | 'originate_failed'
  | 'customer_no_answer' | 'customer_busy' | 'customer_unavailable' | 'cancelled' | 'no_dial' | 'unavailable';
export type RingingStopReason = 'answered_elsewhere' | 'cancelled' | 'no_answer' | 'busy' | 'unavailable' | 'hung_up';

/** Times are epoch milliseconds of receipt (ctx.now), or of the Cdr for calls known only from Cdrs. */
export interface Leg {
  readonly uniqueid: string;
  readonly channel: string;
  readonly role: LegRole;
  readonly extension: string | null;
  readonly number: string | null;
  /** Uniqueid of the channel that dialled this one; '' when an Originate did (no source channel). */
  readonly dialedBy: string | null;
  readonly dialedAt: number | null;
  /** The dialling channel was already Up at DialBegin: its Cdr's billsec then counts from that
   *  earlier answer (click-to-call, IVR), so it is not the talk time of this leg. */
  readonly sourceWasUp: boolean;
  readonly dialStatus: string | null;
  readonly answeredAt: number | null;
  readonly hungUpAt: number | null;
  readonly cause: number | null;
  readonly bridgesEntered: readonly string[];
  /** The transferer's channel when this leg is the consultation leg of an attended transfer
   *  (VarSet ATTENDEDTRANSFER: that leg has no DialBegin to tell who dialled it). */
  readonly consultedBy: string | null;
  readonly ringingSent: boolean;
  readonly stoppedSent: boolean;
  readonly answeredSent: boolean;
}

export interface RangEntry { readonly extension: string; readonly uniqueid: string; readonly at: number }
/** blind / attended: Asterisk's BlindTransfer / AttendedTransfer (or the atxfer consultation
 *  leg joining the caller). dial / bridge: inferred, a new agent answered or joined the caller
 *  after the answer with no transfer event (a transfer done in the dialplan, a pickup). */
export interface Transfer {
  readonly kind: 'blind' | 'attended' | 'dial' | 'bridge';
  readonly from: string | null;
  readonly to: string | null;
  readonly at: number;
}
export interface Recording { readonly uniqueid: string; readonly file: string | null }
export interface CdrInfo {
  readonly key: string;
  readonly uniqueid: string;
  readonly channel: string;
  readonly destinationChannel: string;
  readonly destinationContext: string;
  readonly source: string;
  readonly destination: string;
  readonly disposition: string;
  readonly billableSeconds: number;
  readonly startTime: string;
  readonly answerTime: string;
  readonly endTime: string;
}
export interface ExpectedOriginate {
  readonly actionId: string;
  readonly userId: string;
  readonly callId: string;
  /** The Originate's ChannelId: the Uniqueid, hence the Linkedid, the call will have. */
  readonly channelId?: string;
  /** The client the user clicked to call: the strongest evidence of whose call this is. */
  readonly clientId?: number | null;
}

export interface CallState {
  readonly linkedid: string;
  readonly legs: Readonly<Record<string, Leg>>;
  readonly legOrder: readonly string[];
  /** Bridge → Uniqueids currently in it. */
  readonly bridges: Readonly<Record<string, readonly string[]>>;
  readonly startedAt: number;
  /** A call of ours: an inbound/outbound context, a user's device or a click-to-call was seen.
   *  Anything else (a test Originate in `curl-test`) is tracked to its end but never reported. */
  readonly relevant: boolean;
  readonly inboundContextSeen: boolean;
  readonly outboundContextSeen: boolean;
  /** The first channel was created by Originate (its DialBegin has no source channel). */
  readonly originated: boolean;
  /** `Tech/dialstring` of that Originate: what OriginateResponse shows on failure. */
  readonly originateTarget: string | null;
  readonly originatorAnswered: boolean;
  readonly externalDialled: boolean;
  readonly did: string | null;
  readonly callerNumber: string | null;
  readonly dialledNumber: string | null;
  readonly rang: readonly RangEntry[];
  readonly ringingAt: number | null;
  readonly answeredAt: number | null;
  readonly answeredBy: string | null;
  /** The leg whose answer made the call answered (the agent; for outbound, the customer). */
  readonly answeredUniqueid: string | null;
  readonly finalAgent: string | null;
  readonly transfers: readonly Transfer[];
  /** Last DialEnd of a real Dial() (not the Originate's own), in arrival order. */
  readonly lastAttempt: { readonly status: string; readonly uniqueid: string } | null;
  readonly cancelled: boolean;
  readonly callerHungUpWhileRinging: boolean;
  readonly recording: Recording | null;
  readonly clickToCall: { readonly actionId: string; readonly userId: string; readonly callId: string; readonly clientId: number | null } | null;
  readonly originateResult: { readonly actionId: string; readonly response: 'Success' | 'Failure'; readonly reason: number } | null;
  /** CRM_CALL_ID / SWITCHBOARD_CALL_ID channel variable of our own Originate. */
  readonly crmCallId: string | null;
  readonly cdrs: readonly CdrInfo[];
  /** Built from Cdr events alone (the channel events were missed while disconnected). */
  readonly cdrOnly: boolean;
  /** The AMI link was cut while this call was live: some of its events (maybe its Hangups) are lost. */
  readonly linkCut: boolean;
  readonly endedAt: number | null;
  readonly endReason: 'hangup' | 'cdr' | 'expired' | null;
  /** This call was the consultation of an attended transfer made with a call of its own (a
   *  Linkedid apart from the transferred call's): it is part of that call, never reported. */
  readonly mergedInto: string | null;
}

export type CallEffect =
  | { type: 'ringing'; linkedid: string; extension: string; uniqueid: string }
  | { type: 'ringing_stopped'; linkedid: string; extension: string; uniqueid: string; reason: RingingStopReason }
  | { type: 'answered'; linkedid: string; extension: string; uniqueid: string }
  | { type: 'ended'; linkedid: string; summary: CallSummary }
  | {
    type: 'originate_failed'; linkedid: string | null; extension: string | null; reason: FailureReason;
    actionId: string; userId: string | null; callId: string | null;
  }
  /** The caller was handed from one agent to another; emitted once per entry of `transfers`. */
  | { type: 'transferred'; linkedid: string; kind: Transfer['kind']; from: string | null; to: string | null; at: number }
  /** `linkedid` was folded into `into` (see CallState.mergedInto); from now on it has no effects. */
  | { type: 'merged'; linkedid: string; into: string }
  /** Something worth persisting changed (upsert by system name + linkedid). */
  | { type: 'call_updated'; linkedid: string };

export interface ReduceContext {
  now: Date;
  identity: ChannelIdentity;
  /** The click-to-call this event belongs to, when the tracker could tell. */
  originate?: ExpectedOriginate | undefined;
  /** The PBX's offset from UTC in minutes, to read Cdr times (PBX local time, no zone). Default 0. */
  cdrUtcOffsetMinutes?: number | undefined;
}

/** `state` is undefined only when none came in and the event belongs to no call
 *  (DeviceStateChange, an OriginateResponse nobody could place). */
export interface ReduceResult { state: CallState | undefined; effects: CallEffect[] }

export function reduce(state: CallState | undefined, event: AmiEvent, ctx: ReduceContext): ReduceResult {
  if (state === undefined && event.event === 'Cdr') return callFromCdr(event, ctx);
  let s = state;
  if (s === undefined) {
    const linkedid = eventLinkedid(event);
    if (linkedid === null || event.event === 'OriginateResponse') return { state: undefined, effects: [] };
    s = newCall(linkedid, ctx.now.getTime());
  }
  const fx: CallEffect[] = [];
  let next: CallState;
  switch (event.event) {
    case 'Newchannel':
    case 'Newstate':
    case 'Hold':
    case 'Unhold':
    case 'MixMonitorStop':
      next = absorbSnapshot(s, event, ctx);
      break;
    case 'DialBegin': next = onDialBegin(s, event, ctx, fx); break;
    case 'DialState': next = onDialState(s, event, ctx, fx); break;
    case 'DialEnd': next = onDialEnd(s, event, ctx, fx); break;
    case 'BridgeEnter': next = onBridgeEnter(s, event, ctx, fx); break;
    case 'BridgeLeave': next = onBridgeLeave(s, event, ctx); break;
    case 'BlindTransfer': next = onBlindTransfer(s, event, ctx, fx); break;
    case 'AttendedTransfer': next = onAttendedTransfer(s, event, ctx, fx); break;
    case 'Hangup': next = onHangup(s, event, ctx, fx); break;
    case 'Cdr': next = onCdr(s, event, ctx, fx); break;
    case 'VarSet':
      next = event.variable === 'ATTENDEDTRANSFER' ? markConsultation(s, event, ctx) : onRecordingOrVar(s, event, ctx);
      break;
    case 'MixMonitorStart':
    case 'Newexten':
      next = onRecordingOrVar(s, event, ctx);
      break;
    case 'OriginateResponse': next = onOriginateResponse(s, event, ctx, fx); break;
    case 'LocalBridge':
      next = ensureLeg(ensureLeg(s, event.localOneUniqueid, event.localOneChannel, ctx), event.localTwoUniqueid, event.localTwoChannel, ctx);
      break;
    default:
      next = s;
  }
  if (ctx.originate && next.clickToCall === null) {
    const { actionId, userId, callId, clientId } = ctx.originate;
    next = { ...next, clickToCall: { actionId, userId, callId, clientId: clientId ?? null }, relevant: true };
  }
  return finish(state, next, fx);
}

function finish(prev: CallState | undefined, next: CallState, fx: CallEffect[]): ReduceResult {
  if (next === prev) return { state: next, effects: fx };
  if (!next.relevant || next.mergedInto !== null) return { state: next, effects: [] };
  if (prev !== undefined && prev.endedAt !== null) {
    // After the end only the record can change (late Cdr, late OriginateResponse): no more pops.
    const kept: CallEffect[] = fx.filter((e) => e.type === 'originate_failed');
    if (JSON.stringify(summarize(prev)) !== JSON.stringify(summarize(next))) {
      kept.push({ type: 'call_updated', linkedid: next.linkedid });
    }
    return { state: next, effects: kept };
  }
  if (!fx.some((e) => e.type === 'ended') && (prev === undefined || !prev.relevant || milestoneChanged(prev, next))) {
    fx.push({ type: 'call_updated', linkedid: next.linkedid });
  }
  return { state: next, effects: fx };
}
