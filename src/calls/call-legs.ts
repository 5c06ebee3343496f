// Legs of a call and the facts read from every channel snapshot (context, DID, caller id).
import type { AmiEvent, ChannelSnapshot } from '../pbx/events.js';
import { isUnknown } from '../pbx/events.js';
import type { CallEffect, CallState, Direction, Leg, LegRole, ReduceContext, RingingStopReason } from './call-state.js';

const DIGITS = /^\+?\d+$/;

export function newCall(linkedid: string, at: number): CallState {
  return {
    linkedid, legs: {}, legOrder: [], bridges: {}, startedAt: at, relevant: false,
    inboundContextSeen: false, outboundContextSeen: false, originated: false, originateTarget: null,
    originatorAnswered: false, externalDialled: false, did: null, callerNumber: null, dialledNumber: null,
    rang: [], ringingAt: null, answeredAt: null, answeredBy: null, answeredUniqueid: null, finalAgent: null,
    transfers: [], lastAttempt: null, cancelled: false, callerHungUpWhileRinging: false, recording: null,
    clickToCall: null, originateResult: null, crmCallId: null, cdrs: [], cdrOnly: false, linkCut: false, endedAt: null, endReason: null,
    mergedInto: null,
  };
}

/** The call an event belongs to, from the event alone (Cdr and OriginateResponse need the tracker). */
export function eventLinkedid(e: AmiEvent): string | null {
  switch (e.event) {
    case 'DialBegin':
    case 'DialState':
    case 'DialEnd':
      return e.linkedid || e.destLinkedid || null;
    case 'LocalBridge': return e.localOneLinkedid || null;
    case 'Cdr': return e.linkedid || e.uniqueid || null;
    case 'BlindTransfer': return e.transfererLinkedid || e.transfereeLinkedid || null;
    case 'AttendedTransfer': return e.transfereeLinkedid || e.origTransfererLinkedid || null;
    case 'OriginateResponse':
    case 'DeviceStateChange':
    case 'FullyBooted':
      return null;
    default:
      return e.linkedid || null;
  }
}

/** The first channel (Uniqueid = Linkedid) is the caller unless it is a user's device; the
 *  rest are placed by name (see channel-identity). */
function placeLeg(linkedid: string, uniqueid: string, channel: string, ctx: ReduceContext):
  { role: LegRole; extension: string | null; number: string | null } {
  const kind = ctx.identity.classify(channel);
  if (kind.kind === 'device') return { role: 'agent', extension: kind.extension, number: null };
  if (uniqueid === linkedid) return { role: 'caller', extension: null, number: null };
  if (kind.kind === 'external') return { role: 'external', extension: null, number: kind.number };
  return { role: 'pbx', extension: null, number: null };
}

export function ensureLeg(s: CallState, uniqueid: string, channel: string, ctx: ReduceContext): CallState {
  if (!uniqueid || s.legs[uniqueid] !== undefined) return s;
  const place = placeLeg(s.linkedid, uniqueid, channel, ctx);
  const leg: Leg = {
    uniqueid, channel, ...place, dialedBy: null, dialedAt: null, sourceWasUp: false, dialStatus: null,
    answeredAt: null, hungUpAt: null, cause: null, bridgesEntered: [], consultedBy: null,
    ringingSent: false, stoppedSent: false, answeredSent: false,
  };
  return {
    ...s,
    legs: { ...s.legs, [uniqueid]: leg },
    legOrder: [...s.legOrder, uniqueid],
    relevant: s.relevant || place.role === 'agent',
  };
}

export function setLeg(s: CallState, leg: Leg): CallState {
  return { ...s, legs: { ...s.legs, [leg.uniqueid]: leg } };
}

export function firstLeg(s: CallState): Leg | undefined {
  return s.legs[s.linkedid] ?? (s.legOrder[0] === undefined ? undefined : s.legs[s.legOrder[0]]);
}

/** inbound unless the first channel is a user's device; then outbound when we originated it,
 *  it went through an outbound context or dialled an outside number, else internal. */
export function directionOf(s: CallState): Direction {
  const first = firstLeg(s);
  if (first === undefined || first.role !== 'agent') return 'inbound';
  if (s.originated || s.outboundContextSeen || s.externalDialled || s.clickToCall || s.crmCallId) return 'outbound';
  return 'internal';
}

/** Facts every channel snapshot may carry. Returns `s` itself when it adds nothing. */
export function absorbSnapshot(s: CallState, snap: Partial<ChannelSnapshot>, ctx: ReduceContext): CallState {
  const uniqueid = snap.uniqueid;
  if (!uniqueid) return s;
  let n = ensureLeg(s, uniqueid, snap.channel ?? '', ctx);
  const leg = n.legs[uniqueid]!;
  const context = snap.context ?? '';
  const id = ctx.identity;
  const inbound = context !== '' && id.isInboundContext(context);
  const outbound = context !== '' && id.isOutboundContext(context);
  if ((inbound && !n.inboundContextSeen) || (outbound && !n.outboundContextSeen)) {
    n = { ...n, inboundContextSeen: n.inboundContextSeen || inbound, outboundContextSeen: n.outboundContextSeen || outbound, relevant: true };
  }
  const callerSide = leg.role === 'caller' || (leg.role === 'pbx' && inbound);
  if (callerSide) {
    const exten = snap.exten ?? '';
    if (n.did === null && inbound && DIGITS.test(exten)) n = { ...n, did: exten };
    const cid = snap.callerIdNum;
    if (n.callerNumber === null && !isUnknown(cid)) n = { ...n, callerNumber: cid! };
  } else if (leg.role === 'agent' && outbound && n.dialledNumber === null && DIGITS.test(snap.exten ?? '')) {
    // Click-to-call runs in the outbound context with the customer's number as the extension.
    n = { ...n, dialledNumber: snap.exten! };
  }
  if (snap.channelStateDesc === 'Up' && uniqueid === n.linkedid && leg.role === 'agent' && !n.originatorAnswered) {
    n = { ...n, originatorAnswered: true };
  }
  return n;
}

export function ring(s: CallState, leg: Leg, at: number, fx: CallEffect[]): CallState {
  if (leg.ringingSent || leg.extension === null) return s;
  fx.push({ type: 'ringing', linkedid: s.linkedid, extension: leg.extension, uniqueid: leg.uniqueid });
  return {
    ...setLeg(s, { ...leg, ringingSent: true }),
    rang: [...s.rang, { extension: leg.extension, uniqueid: leg.uniqueid, at }],
    ringingAt: s.ringingAt ?? at,
    relevant: true,
  };
}

export function notifyAnswered(s: CallState, leg: Leg, fx: CallEffect[]): CallState {
  const current = s.legs[leg.uniqueid] ?? leg;
  if (current.answeredSent || current.extension === null || s.endedAt !== null) return s;
  fx.push({ type: 'answered', linkedid: s.linkedid, extension: current.extension, uniqueid: current.uniqueid });
  return setLeg(s, { ...current, answeredSent: true });
}

/** Tell a user whose phone rang and did not pick up that it stopped ringing for them. */
export function stopRinging(s: CallState, uniqueid: string, reason: RingingStopReason, fx: CallEffect[]): CallState {
  const leg = s.legs[uniqueid];
  if (!leg || !leg.ringingSent || leg.stoppedSent || leg.answeredSent || leg.answeredAt !== null || leg.extension === null) return s;
  fx.push({ type: 'ringing_stopped', linkedid: s.linkedid, extension: leg.extension, uniqueid, reason });
  return setLeg(s, { ...leg, stoppedSent: true });
}

/** Cheap reference checks: did anything the calls table shows change? */
export function milestoneChanged(a: CallState, b: CallState): boolean {
  return a.relevant !== b.relevant || a.rang !== b.rang || a.answeredAt !== b.answeredAt || a.finalAgent !== b.finalAgent
    || a.recording !== b.recording || a.did !== b.did || a.callerNumber !== b.callerNumber || a.transfers !== b.transfers
    || a.originateResult !== b.originateResult || a.clickToCall !== b.clickToCall || a.dialledNumber !== b.dialledNumber;
}
