// Dial and bridge events: who rang, who answered, who ended up with the caller (transfer events: call-transfer.ts).
import type {
  BridgeEnterEvent, BridgeLeaveEvent, DialBeginEvent, DialEndEvent, DialStateEvent,
} from '../pbx/events.js';
import type { CallEffect, CallState, Leg, ReduceContext, RingingStopReason, Transfer } from './call-state.js';
import { absorbSnapshot, directionOf, ensureLeg, notifyAnswered, ring, setLeg, stopRinging } from './call-legs.js';
import { transferTo } from './call-transfer.js';

const techOf = (channel: string): string => channel.slice(0, Math.max(0, channel.indexOf('/')));

export function onDialBegin(s: CallState, e: DialBeginEvent, ctx: ReduceContext, fx: CallEffect[]): CallState {
  const source = e.uniqueid || '';
  let n = source ? absorbSnapshot(s, e, ctx) : s;
  n = ensureLeg(n, e.destUniqueid, e.destChannel, ctx);
  let dest = n.legs[e.destUniqueid];
  if (dest === undefined || dest.dialedAt !== null) return n;
  const now = ctx.now.getTime();
  dest = { ...dest, dialedBy: source, dialedAt: now, sourceWasUp: e.channelStateDesc === 'Up' };
  n = setLeg(n, dest);
  if (!source && dest.uniqueid === n.linkedid) {
    n = { ...n, originated: true, originateTarget: `${techOf(dest.channel)}/${e.dialString}` };
  }
  if (dest.role === 'agent') return ring(n, dest, now, fx);
  if (dest.role === 'external') {
    const number = dest.number ?? ctx.identity.numberFromDialString(e.dialString);
    n = { ...n, ringingAt: n.ringingAt ?? now, externalDialled: true, dialledNumber: n.dialledNumber ?? number };
  }
  return n;
}

/** Only RINGING matters, and only when the DialBegin was missed; it repeats, so stay cheap. */
export function onDialState(s: CallState, e: DialStateEvent, ctx: ReduceContext, fx: CallEffect[]): CallState {
  if (e.dialStatus !== 'RINGING') return s;
  const known = s.legs[e.destUniqueid];
  if (known !== undefined && (known.ringingSent || known.role !== 'agent')) return s;
  const n = ensureLeg(s, e.destUniqueid, e.destChannel, ctx);
  const dest = n.legs[e.destUniqueid];
  return dest && dest.role === 'agent' && dest.hungUpAt === null ? ring(n, dest, ctx.now.getTime(), fx) : n;
}

export function onDialEnd(s: CallState, e: DialEndEvent, ctx: ReduceContext, fx: CallEffect[]): CallState {
  const source = e.uniqueid || '';
  let n = source ? absorbSnapshot(s, e, ctx) : s;
  n = ensureLeg(n, e.destUniqueid, e.destChannel, ctx);
  let dest = n.legs[e.destUniqueid];
  if (dest === undefined || dest.dialStatus !== null) return n;
  const now = ctx.now.getTime();
  const status = e.dialStatus;
  dest = {
    ...dest, dialStatus: status, dialedBy: dest.dialedBy ?? source, dialedAt: dest.dialedAt ?? now,
    answeredAt: status === 'ANSWER' ? dest.answeredAt ?? now : dest.answeredAt,
  };
  n = setLeg(n, dest);
  if (!source) {
    // The Originate's own dial: the user's phone (click-to-call) or a test caller leg.
    if (status === 'ANSWER') return dest.uniqueid === n.linkedid ? { ...n, originatorAnswered: true } : n;
    return stopRinging(n, dest.uniqueid, stopReason(n, status), fx);
  }
  n = { ...n, lastAttempt: { status, uniqueid: dest.uniqueid } };
  if (status === 'ANSWER') return answer(n, dest, now, fx, 'dial');
  if (status === 'CANCEL' && n.answeredAt === null && (dest.role === 'agent' || dest.role === 'external')) {
    n = { ...n, cancelled: true };
  }
  return stopRinging(n, dest.uniqueid, stopReason(n, status), fx);
}

function stopReason(s: CallState, status: string): RingingStopReason {
  switch (status) {
    case 'CANCEL': return s.answeredAt !== null ? 'answered_elsewhere' : 'cancelled';
    case 'BUSY': return 'busy';
    case 'CHANUNAVAIL':
    case 'CONGESTION':
      return 'unavailable';
    default: return 'no_answer';
  }
}

/** `leg` answered (DialEnd ANSWER, a bridge, or a Cdr seen after a reconnect). For outbound the
 *  agent of the call is the one who clicked, whoever the customer leg is; elsewhere it is the
 *  agent leg that answered. A later agent answering is a transfer: answeredBy stays the first. */
export function answer(s: CallState, leg: Leg, at: number, fx: CallEffect[], kind: Transfer['kind']): CallState {
  const dir = directionOf(s);
  const first = s.legs[s.linkedid];
  if (dir === 'outbound' && s.answeredAt === null) {
    if (leg.uniqueid === first?.uniqueid || first?.extension == null) return s;
    const n = { ...s, answeredAt: at, answeredBy: first.extension, finalAgent: first.extension, answeredUniqueid: leg.uniqueid };
    return notifyAnswered(n, first, fx);
  }
  if (leg.role === 'external' && s.answeredAt === null) {
    // Inbound fallback to a mobile: answered, by a number the routing knows the owner of.
    return { ...s, answeredAt: at, answeredUniqueid: leg.uniqueid };
  }
  if (leg.role !== 'agent' || leg.extension === null || leg.uniqueid === s.linkedid) return s;
  if (s.answeredAt === null) {
    const n = { ...s, answeredAt: at, answeredBy: leg.extension, finalAgent: leg.extension, answeredUniqueid: leg.uniqueid };
    return notifyAnswered(n, leg, fx);
  }
  if (leg.uniqueid === s.answeredUniqueid || leg.extension === s.finalAgent) return s;
  return notifyAnswered(transferTo(s, leg.extension, kind, at, fx), leg, fx);
}

export function onBridgeEnter(s: CallState, e: BridgeEnterEvent, ctx: ReduceContext, fx: CallEffect[]): CallState {
  let n = absorbSnapshot(s, e, ctx);
  const leg = n.legs[e.uniqueid];
  // Entering the same bridge again is a duplicate (a replay must not undo a transfer).
  if (leg === undefined || leg.bridgesEntered.includes(e.bridgeUniqueid)) return n;
  n = setLeg(n, { ...leg, bridgesEntered: [...leg.bridgesEntered, e.bridgeUniqueid] });
  const members = [...(n.bridges[e.bridgeUniqueid] ?? []), leg.uniqueid];
  n = { ...n, bridges: { ...n.bridges, [e.bridgeUniqueid]: members } };
  if (members.length < 2) return n;
  const now = ctx.now.getTime();
  const legs = members.map((u) => n.legs[u]!);
  if (n.answeredAt === null && directionOf(n) === 'outbound') {
    const other = legs.find((l) => l.uniqueid !== n.linkedid);
    return other && members.includes(n.linkedid) ? answer(n, other, now, fx, 'bridge') : n;
  }
  // Agents in the conversation other than the caller's own device and the first answerer.
  const agents = legs.filter((l) => l.role === 'agent' && l.uniqueid !== n.linkedid && l.uniqueid !== n.answeredUniqueid);
  if (n.answeredAt === null) return agents[0] ? answer(n, agents[0], now, fx, 'bridge') : n;
  // Only a bridge with the caller's side in it says who has the caller: the atxfer consultation
  // bridge holds the two agents alone while the caller waits on hold.
  if (legs.every((l) => l.role === 'agent')) return n;
  // One new agent with the caller is a transfer; two (a conference) decide nothing.
  const joined = agents.length === 1 ? agents[0]! : undefined;
  return joined ? answer(n, joined, now, fx, joined.consultedBy !== null ? 'attended' : 'bridge') : n;
}

export function onBridgeLeave(s: CallState, e: BridgeLeaveEvent, ctx: ReduceContext): CallState {
  const n = absorbSnapshot(s, e, ctx);
  const members = n.bridges[e.bridgeUniqueid];
  if (members === undefined || !members.includes(e.uniqueid)) return n;
  const rest = members.filter((u) => u !== e.uniqueid);
  const bridges = { ...n.bridges };
  if (rest.length) bridges[e.bridgeUniqueid] = rest;
  else delete bridges[e.bridgeUniqueid];
  return { ...n, bridges };
}
