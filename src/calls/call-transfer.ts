// Transfers: who handed the caller to whom, when, and how. What Asterisk 22 shows (transcripts
// README, "Transfers"):
// - BlindTransfer names the target only as Extension@Context. Into a context that dials the
//   phone (i2) a new leg follows with its own DialBegin; into the phone's own context (i) the
//   caller's channel runs the phone's dialplan itself: no new leg, no dial, no bridge.
// - The Atxfer consultation leg has no DialBegin (only DialState/DialEnd with Dest* fields) and
//   shares the call's Linkedid; VarSet ATTENDEDTRANSFER on it names the transferer. On
//   completion it enters the caller's bridge after BridgeMerge, so far always before the
//   AttendedTransfer event, whose TransferTarget* fields are missing in some runs (j3).
import type { AttendedTransferEvent, BlindTransferEvent, VarSetEvent } from '../pbx/events.js';
import type { CallEffect, CallState, Leg, ReduceContext, Transfer } from './call-state.js';
import { absorbSnapshot, notifyAnswered, setLeg } from './call-legs.js';

/** A new agent took the caller (answered or joined the caller's bridge) after the first answer. */
export function transferTo(s: CallState, to: string, kind: Transfer['kind'], at: number, fx: CallEffect[]): CallState {
  const last = s.transfers[s.transfers.length - 1];
  // A transfer event already named this target: its answer completes that entry, no new one.
  if (last?.to === to) return { ...s, finalAgent: to };
  return addTransfer({ ...s, finalAgent: to }, { kind, from: s.finalAgent, to, at }, fx);
}

function addTransfer(s: CallState, entry: Transfer, fx: CallEffect[]): CallState {
  fx.push({ type: 'transferred', linkedid: s.linkedid, ...entry });
  return { ...s, transfers: [...s.transfers, entry] };
}

const isRepeat = (s: CallState, entry: Omit<Transfer, 'at'>): boolean => {
  const last = s.transfers[s.transfers.length - 1];
  return last?.kind === entry.kind && last.from === entry.from && last.to === entry.to;
};

export function onBlindTransfer(s: CallState, e: BlindTransferEvent, ctx: ReduceContext, fx: CallEffect[]): CallState {
  if (e.result !== 'Success') return s;
  const from = ctx.identity.deviceExtension(e.transfererChannel) ?? s.finalAgent;
  const to = ctx.identity.classifyNumber(e.extension) === 'unknown' ? null : e.extension;
  if (isRepeat(s, { kind: 'blind', from, to })) return s;
  const at = ctx.now.getTime();
  const n = addTransfer(s, { kind: 'blind', from, to, at }, fx);
  const device = ctx.identity.deviceAt(e.extension, e.context);
  if (device === null) return n; // the target's own leg rings and answers (DialBegin/DialEnd)
  // The caller's channel now runs the phone's own dialplan: nothing else will say so. The
  // channel is already Up, so the target has the caller from now on.
  const uniqueid = e.transfereeUniqueid ?? '';
  fx.push({ type: 'ringing', linkedid: n.linkedid, extension: device, uniqueid });
  fx.push({ type: 'answered', linkedid: n.linkedid, extension: device, uniqueid });
  return { ...n, finalAgent: device, rang: [...n.rang, { extension: device, uniqueid, at }] };
}

/** VarSet ATTENDEDTRANSFER (= the transferer's channel) marks the consultation leg, which has
 *  no DialBegin. Later VarSets clear it (empty value): the first value is kept. */
export function markConsultation(s: CallState, e: VarSetEvent, ctx: ReduceContext): CallState {
  const n = absorbSnapshot(s, e, ctx);
  const leg = n.legs[e.uniqueid];
  if (!e.value || leg === undefined || leg.consultedBy !== null) return n;
  return setLeg(n, { ...leg, consultedBy: e.value });
}

/** Usually the target already joined the caller's bridge (onBridgeEnter made the entry):
 *  then this event changes nothing. Otherwise it makes the entry and the target's answer. */
export function onAttendedTransfer(s: CallState, e: AttendedTransferEvent, ctx: ReduceContext, fx: CallEffect[]): CallState {
  if (e.result !== 'Success') return s;
  const from = ctx.identity.deviceExtension(e.origTransfererChannel) ?? s.finalAgent;
  const target = targetLeg(s, e);
  const targetChannel = e.transferTargetChannel ?? target?.channel ?? '';
  const kind = targetChannel ? ctx.identity.classify(targetChannel) : null;
  const to = kind?.kind === 'device' ? kind.extension : kind?.kind === 'external' ? kind.number : null;
  const last = s.transfers[s.transfers.length - 1];
  if (to !== null && last?.to === to && s.finalAgent === to) {
    // Joined the bridge without the consultation mark (the VarSet filtered out): name it right.
    if (last.kind === 'attended') return s;
    return { ...s, transfers: [...s.transfers.slice(0, -1), { ...last, kind: 'attended' }] };
  }
  if (isRepeat(s, { kind: 'attended', from, to })) return s;
  let n = addTransfer(s, { kind: 'attended', from, to, at: ctx.now.getTime() }, fx);
  if (to === null) return n;
  n = { ...n, finalAgent: to };
  if (target?.extension != null) return notifyAnswered(n, target, fx);
  // The target's leg belongs to another Linkedid (a consultation call of its own).
  if (kind?.kind === 'device' && n.endedAt === null) {
    fx.push({ type: 'answered', linkedid: n.linkedid, extension: to, uniqueid: e.transferTargetUniqueid ?? '' });
  }
  return n;
}

/** The target's leg in this call: by its Uniqueid, else the leg the transferer consulted, else
 *  the agent in the destination bridge (the transcripts' rule for missing TransferTarget*). */
function targetLeg(s: CallState, e: AttendedTransferEvent): Leg | undefined {
  if (e.transferTargetUniqueid) return s.legs[e.transferTargetUniqueid];
  const transferers = new Set([e.origTransfererChannel, e.secondTransfererChannel]);
  const legs = s.legOrder.map((u) => s.legs[u]!);
  const consulted = legs.filter((l) => l.consultedBy !== null && transferers.has(l.consultedBy) && l.role !== 'pbx');
  if (consulted.length > 0) return consulted[consulted.length - 1];
  const inDest = e.destBridgeUniqueid ? s.bridges[e.destBridgeUniqueid] ?? [] : [];
  return inDest.map((u) => s.legs[u]!).find((l) => l.role === 'agent' && !transferers.has(l.channel));
}
