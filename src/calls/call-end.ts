// Hang-ups and the end of a call, Cdr reconciliation, OriginateResponse, recordings.
import type {
  CdrEvent, HangupEvent, MixMonitorStartEvent, NewextenEvent, OriginateResponseEvent, VarSetEvent,
} from '../pbx/events.js';
import { isUnknown } from '../pbx/events.js';
import type { CallEffect, CallState, CdrInfo, ReduceContext, ReduceResult } from './call-state.js';
import { originateFailure, summarize } from './call-summary.js';
import { answer } from './call-dial.js';
import { absorbSnapshot, ensureLeg, firstLeg, newCall, ring, setLeg, stopRinging } from './call-legs.js';

const CALL_ID_VARIABLES = new Set(['CRM_CALL_ID', 'SWITCHBOARD_CALL_ID']);

export function onHangup(s: CallState, e: HangupEvent, ctx: ReduceContext, fx: CallEffect[]): CallState {
  let n = absorbSnapshot(s, e, ctx);
  const leg = n.legs[e.uniqueid];
  if (leg === undefined || leg.hungUpAt !== null) return n;
  const now = ctx.now.getTime();
  n = setLeg(n, { ...leg, hungUpAt: now, cause: Number.isNaN(e.cause) ? null : e.cause });
  n = stopRinging(n, leg.uniqueid, 'hung_up', fx);
  if (leg.role === 'caller' && n.answeredAt === null && isRinging(n)) n = { ...n, callerHungUpWhileRinging: true };
  // Ended only when every channel of the Linkedid is gone: Local halves and fallback legs too.
  if (n.endedAt === null && n.legOrder.every((u) => n.legs[u]!.hungUpAt !== null)) {
    n = { ...n, endedAt: now, endReason: 'hangup' };
    if (n.relevant) fx.push({ type: 'ended', linkedid: n.linkedid, summary: summarize(n) });
  }
  return n;
}

/** Some agent or outside leg is still being dialled (DialBegin without DialEnd, not hung up). */
function isRinging(s: CallState): boolean {
  return s.legOrder.some((u) => {
    const l = s.legs[u]!;
    return (l.role === 'agent' || l.role === 'external') && !!l.dialedBy && l.dialStatus === null && l.hungUpAt === null;
  });
}

function cdrInfo(e: CdrEvent): CdrInfo {
  return {
    key: [e.uniqueid, e.startTime, e.destinationChannel, e.lastApplication, e.lastData, e.disposition].join('|'),
    uniqueid: e.uniqueid, channel: e.channel, destinationChannel: e.destinationChannel,
    destinationContext: e.destinationContext, source: e.source, destination: e.destination,
    disposition: e.disposition, billableSeconds: Number.isNaN(e.billableSeconds) ? 0 : e.billableSeconds,
    startTime: e.startTime, answerTime: e.answerTime, endTime: e.endTime,
  };
}

/** Cdr times are PBX local time without a zone (`2026-11-22 11:59:43`). */
export function cdrTime(value: string, offsetMinutes = 0): number | null {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)/.exec(value);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec] = m.map(Number) as [number, number, number, number, number, number, number];
  return Date.UTC(y, mo - 1, d, h, mi, sec) - offsetMinutes * 60_000;
}

/** One Cdr per Dial() attempt, before or after the Hangup of its channel. Kept for the talk time
 *  (see call-summary) and to fill in an answer we missed while disconnected. */
export function onCdr(s: CallState, e: CdrEvent, ctx: ReduceContext, fx: CallEffect[]): CallState {
  const info = cdrInfo(e);
  if (s.cdrs.some((c) => c.key === info.key)) return s;
  let n: CallState = { ...s, cdrs: [...s.cdrs, info] };
  if (n.cdrOnly) return fromCdrs(n, ctx);
  // Asterisk posts a channel's Cdr when that channel hangs up, and the first channel (Uniqueid =
  // Linkedid) ends the call. Trusted only after a cut link: while connected its Hangups follow,
  // and the first channel may leave a call that goes on (blind transfer of a click-to-call).
  if (n.linkCut && n.endedAt === null && info.uniqueid === n.linkedid) {
    const now = ctx.now.getTime();
    const end = cdrTime(info.endTime, ctx.cdrUtcOffsetMinutes);
    // The PBX clock may disagree with ours: outside the call's known span, the receipt time.
    const endedAt = end !== null && end >= n.startedAt && end <= now ? end : now;
    n = { ...n, endedAt, endReason: 'cdr' };
    if (n.relevant) fx.push({ type: 'ended', linkedid: n.linkedid, summary: summarize(n) });
    return n;
  }
  if (n.answeredAt === null && info.disposition === 'ANSWERED' && info.destinationChannel) {
    const leg = n.legOrder.map((u) => n.legs[u]!).find((l) => l.channel === info.destinationChannel);
    const at = cdrTime(info.answerTime, ctx.cdrUtcOffsetMinutes) ?? ctx.now.getTime();
    if (leg) n = answer(n, leg, at, fx, 'dial');
  }
  return n;
}

/** A Cdr for a Uniqueid no tracked call knows: the call happened while we were disconnected.
 *  Its UniqueID is taken as the Linkedid (true for the first channel, i.e. the trunk leg of an
 *  inbound call or the agent leg of a click-to-call; a Cdr of a later leg makes a separate
 *  record unless cdr_manager adds `linkedid` to the event). */
export function callFromCdr(e: CdrEvent, ctx: ReduceContext): ReduceResult {
  const linkedid = e.linkedid || e.uniqueid;
  if (!linkedid) return { state: undefined, effects: [] };
  let s: CallState = { ...newCall(linkedid, ctx.now.getTime()), cdrOnly: true, cdrs: [cdrInfo(e)] };
  s = ensureLeg(s, e.uniqueid, e.channel, ctx);
  s = fromCdrs(s, ctx);
  const effects: CallEffect[] = s.relevant ? [{ type: 'ended', linkedid, summary: summarize(s) }] : [];
  return { state: s, effects };
}

const CDR_STATUS: Record<string, string> = {
  ANSWERED: 'ANSWER', 'NO ANSWER': 'NOANSWER', BUSY: 'BUSY', FAILED: 'CHANUNAVAIL', CONGESTION: 'CONGESTION',
};

/** Rebuild a Cdr-only call from all its Cdrs (order-independent, so duplicates change nothing). */
function fromCdrs(s: CallState, ctx: ReduceContext): CallState {
  const off = ctx.cdrUtcOffsetMinutes;
  const id = ctx.identity;
  let n: CallState = { ...newCall(s.linkedid, s.startedAt), cdrOnly: true, cdrs: s.cdrs };
  for (const u of s.legOrder) n = ensureLeg(n, u, s.legs[u]!.channel, ctx);
  const cdrs = [...s.cdrs].sort((a, b) => (cdrTime(a.startTime, off) ?? 0) - (cdrTime(b.startTime, off) ?? 0));
  let started = Infinity;
  let ended = -Infinity;
  const none: CallEffect[] = [];
  for (const c of cdrs) {
    const start = cdrTime(c.startTime, off);
    const end = cdrTime(c.endTime, off);
    if (start !== null) started = Math.min(started, start);
    if (end !== null) ended = Math.max(ended, end);
    const inbound = id.isInboundContext(c.destinationContext);
    const outbound = id.isOutboundContext(c.destinationContext);
    n = {
      ...n,
      inboundContextSeen: n.inboundContextSeen || inbound,
      outboundContextSeen: n.outboundContextSeen || outbound,
      relevant: n.relevant || inbound || outbound,
      callerNumber: n.callerNumber ?? (isUnknown(c.source) ? null : c.source),
      did: n.did ?? (inbound && /^\+?\d+$/.test(c.destination) ? c.destination : null),
    };
    if (!c.destinationChannel) continue;
    // The dialled leg's Uniqueid is not in the Cdr: its channel name stands in for it.
    const key = `cdr:${c.destinationChannel}`;
    n = ensureLeg(n, key, c.destinationChannel, ctx);
    const leg = { ...n.legs[key]!, dialedBy: c.uniqueid, dialedAt: start, dialStatus: CDR_STATUS[c.disposition] ?? c.disposition };
    n = setLeg(n, leg);
    if (leg.role === 'agent') n = ring(n, leg, start ?? n.startedAt, none);
    if (leg.role === 'external') n = { ...n, externalDialled: true };
    n = { ...n, lastAttempt: { status: leg.dialStatus, uniqueid: key } };
    if (c.disposition === 'ANSWERED' && n.answeredAt === null) {
      n = answer(n, leg, cdrTime(c.answerTime, off) ?? start ?? n.startedAt, none, 'dial');
    }
  }
  if (started !== Infinity) n = { ...n, startedAt: started };
  const endedAt = ended === -Infinity ? ctx.now.getTime() : ended;
  const legs = Object.fromEntries(Object.entries(n.legs).map(([u, l]) => [u, { ...l, hungUpAt: l.hungUpAt ?? endedAt }]));
  return { ...n, legs, originatorAnswered: true, endedAt, endReason: 'cdr' };
}

/** The tracker found the call (Uniqueid, ActionID or the Originate's dial string). Only a call
 *  whose first leg is a user's device is a click-to-call; for anything else it is just noted. */
export function onOriginateResponse(s: CallState, e: OriginateResponseEvent, ctx: ReduceContext, fx: CallEffect[]): CallState {
  if (s.originateResult !== null) return s;
  const ok = e.response === 'Success';
  let n: CallState = { ...s, originateResult: { actionId: e.actionId, response: e.response, reason: e.reason } };
  const first = firstLeg(n);
  if (first?.role !== 'agent') return n;
  if (ok) n = { ...n, originatorAnswered: true };
  if (e.context && ctx.identity.isOutboundContext(e.context) && !n.outboundContextSeen) {
    n = { ...n, outboundContextSeen: true, relevant: true };
  }
  if (n.dialledNumber === null && e.exten && /^\+?\d+$/.test(e.exten)) n = { ...n, dialledNumber: e.exten };
  if (!ok) {
    fx.push({
      type: 'originate_failed', linkedid: n.linkedid, extension: first.extension, reason: originateFailure(e.reason),
      actionId: e.actionId, userId: ctx.originate?.userId ?? n.clickToCall?.userId ?? null,
      callId: ctx.originate?.callId ?? n.clickToCall?.callId ?? n.crmCallId,
    });
  }
  return n;
}

/** MixMonitorStart has no file name: it comes from Newexten(MixMonitor) AppData or VarSet
 *  MIXMONITOR_FILENAME. The first recording of the call is the one kept. */
export function onRecordingOrVar(
  s: CallState, e: MixMonitorStartEvent | VarSetEvent | NewextenEvent, ctx: ReduceContext,
): CallState {
  let n = absorbSnapshot(s, e, ctx);
  let file: string | null = null;
  if (e.event === 'Newexten') file = e.fileName || null;
  else if (e.event === 'VarSet') {
    if (CALL_ID_VARIABLES.has(e.variable) && e.value && n.crmCallId === null) return { ...n, crmCallId: e.value, relevant: true };
    if (e.variable !== 'MIXMONITOR_FILENAME' || !e.value) return n;
    file = e.value;
  }
  const rec = n.recording;
  if (rec === null) n = { ...n, recording: { uniqueid: e.uniqueid, file } };
  else if (rec.file === null && file !== null && rec.uniqueid === e.uniqueid) n = { ...n, recording: { uniqueid: rec.uniqueid, file } };
  return n;
}


/** Force the end of a call that stopped getting events (the Hangups were sent while the AMI
 *  link was down and Asterisk does not replay them). Its legs keep what was known. */
export function expireCall(s: CallState, now: Date): ReduceResult {
  if (s.endedAt !== null) return { state: s, effects: [] };
  const n: CallState = { ...s, endedAt: now.getTime(), endReason: 'expired' };
  return { state: n, effects: n.relevant ? [{ type: 'ended', linkedid: n.linkedid, summary: summarize(n) }] : [] };
}
