// The live calls, one CallState per Linkedid (jambonz-style: an explicit object per call in a
// map). The tracker routes each AMI event to its call, runs the pure reducer and hands back the
// effects; it does no I/O and owns no timer: the caller decides when to evict and expire.
import type { AmiEvent, AttendedTransferEvent, OriginateResponseEvent } from '../pbx/events.js';
import { isUnknown } from '../pbx/events.js';
import type { ChannelIdentity } from './channel-identity.js';
import type { CallEffect, CallState, ExpectedOriginate, ReduceContext } from './call-state.js';
import { reduce } from './call-state.js';
import { eventLinkedid } from './call-legs.js';
import { expireCall } from './call-end.js';
import { originateFailure } from './call-summary.js';

export interface CallTrackerOptions {
  identity: ChannelIdentity;
  /** The PBX's offset from UTC in minutes, to read Cdr times. Default 0. */
  cdrUtcOffsetMinutes?: number;
}

export class CallTracker {
  private readonly identity: ChannelIdentity;
  private readonly cdrUtcOffsetMinutes: number;
  private readonly calls = new Map<string, CallState>();
  /** Every Uniqueid seen → its Linkedid: Cdr and OriginateResponse carry no Linkedid. */
  private readonly byUniqueid = new Map<string, string>();
  private readonly lastEventAt = new Map<string, number>();
  private readonly expectedByAction = new Map<string, { originate: ExpectedOriginate; at: number }>();
  private readonly expectedByChannel = new Map<string, ExpectedOriginate>();
  // Uniqueids of evicted calls, two generations: a Cdr or duplicate arriving after eviction is
  // dropped instead of opening a second record of the same call.
  private evicted = new Set<string>();
  private evictedBefore = new Set<string>();

  constructor(options: CallTrackerOptions) {
    this.identity = options.identity;
    this.cdrUtcOffsetMinutes = options.cdrUtcOffsetMinutes ?? 0;
  }

  /** Apply one event received at `now`; returns the effects to carry out, in order. */
  handle(event: AmiEvent, now: Date): CallEffect[] {
    const linkedid = this.route(event);
    if (linkedid === null) return event.event === 'OriginateResponse' ? this.unplacedOriginate(event) : [];
    const prev = this.calls.get(linkedid);
    const ctx: ReduceContext = {
      now, identity: this.identity, cdrUtcOffsetMinutes: this.cdrUtcOffsetMinutes,
      originate: this.expectationFor(event, linkedid, prev),
    };
    const { state, effects } = reduce(prev, event, ctx);
    if (state === undefined) return effects;
    if (state !== prev) {
      this.calls.set(linkedid, state);
      if (prev === undefined || prev.legs !== state.legs) {
        for (const u of state.legOrder) if (!this.byUniqueid.has(u)) this.byUniqueid.set(u, linkedid);
      }
    }
    this.lastEventAt.set(linkedid, now.getTime());
    if (event.event === 'AttendedTransfer' && event.result === 'Success') effects.push(...this.mergeConsultation(event, linkedid));
    if (event.event === 'OriginateResponse') this.expectedByAction.delete(event.actionId);
    if (ctx.originate?.channelId) this.expectedByChannel.delete(ctx.originate.channelId);
    return effects;
  }

  /** Click-to-call tells the tracker about its Originate before sending it. With a ChannelId the
   *  call is known from its first event; without, from the OriginateResponse's ActionID. */
  expectOriginate(originate: ExpectedOriginate, now: Date): void {
    this.expectedByAction.set(originate.actionId, { originate, at: now.getTime() });
    if (originate.channelId) this.expectedByChannel.set(originate.channelId, originate);
  }

  get(linkedid: string): CallState | undefined {
    return this.calls.get(linkedid);
  }

  linkedidOf(uniqueid: string): string | undefined {
    return this.byUniqueid.get(uniqueid);
  }

  get size(): number {
    return this.calls.size;
  }

  *openCalls(): IterableIterator<CallState> {
    for (const s of this.calls.values()) if (s.endedAt === null) yield s;
  }

  /** Forget calls that ended before `before` (kept until then for late Cdr events) and
   *  expectations older than that. Returns the Linkedids forgotten. */
  evict(before: Date): string[] {
    const limit = before.getTime();
    const gone: string[] = [];
    this.evictedBefore = this.evicted;
    this.evicted = new Set();
    for (const [linkedid, s] of this.calls) {
      if (s.endedAt === null || s.endedAt >= limit) continue;
      gone.push(linkedid);
      this.calls.delete(linkedid);
      this.lastEventAt.delete(linkedid);
      this.evicted.add(linkedid);
      for (const u of s.legOrder) {
        this.evicted.add(u);
        if (this.byUniqueid.get(u) === linkedid) this.byUniqueid.delete(u);
      }
    }
    for (const [actionId, { originate, at }] of this.expectedByAction) {
      if (at >= limit) continue;
      this.expectedByAction.delete(actionId);
      if (originate.channelId) this.expectedByChannel.delete(originate.channelId);
    }
    return gone;
  }

  /** The AMI session was replaced: every live call may have lost events (see onCdr). */
  markLinkCut(): void {
    for (const [linkedid, s] of this.calls) if (s.endedAt === null && !s.linkCut) this.calls.set(linkedid, { ...s, linkCut: true });
  }

  /** End the calls that had no event since `idleSince` (their Hangups were lost while the AMI
   *  link was down). Returns their `ended` effects. */
  expireIdle(idleSince: Date, now: Date): CallEffect[] {
    const effects: CallEffect[] = [];
    for (const [linkedid, s] of this.calls) {
      if (s.endedAt !== null || (this.lastEventAt.get(linkedid) ?? s.startedAt) >= idleSince.getTime()) continue;
      const r = expireCall(s, now);
      this.calls.set(linkedid, r.state!);
      effects.push(...r.effects);
    }
    return effects;
  }

  private isEvicted(id: string): boolean {
    return this.evicted.has(id) || this.evictedBefore.has(id);
  }

  private route(event: AmiEvent): string | null {
    if (event.event === 'OriginateResponse') return this.routeOriginate(event);
    if (event.event === 'Cdr') {
      if (event.linkedid) return this.isEvicted(event.linkedid) ? null : event.linkedid;
      const known = this.byUniqueid.get(event.uniqueid);
      if (known !== undefined) return known;
      return !event.uniqueid || this.isEvicted(event.uniqueid) ? null : event.uniqueid;
    }
    const linkedid = eventLinkedid(event);
    return linkedid === null || (!this.calls.has(linkedid) && this.isEvicted(linkedid)) ? null : linkedid;
  }

  /** OriginateResponse has no Linkedid, and on failure no Uniqueid either (`<unknown>`) unless
   *  the Originate set ChannelId. Then: the call that already took this ActionID (a duplicate),
   *  else the newest call started by an Originate of the same `Tech/resource` that has no
   *  response yet (two clicks to the same phone at once could be swapped: use ChannelId). */
  private routeOriginate(e: OriginateResponseEvent): string | null {
    if (!isUnknown(e.uniqueid)) {
      const known = this.byUniqueid.get(e.uniqueid);
      if (known !== undefined) return known;
    }
    let best: CallState | undefined;
    for (const s of this.calls.values()) {
      if (s.originateResult?.actionId === e.actionId || s.clickToCall?.actionId === e.actionId) return s.linkedid;
      if (s.originateResult === null && s.originateTarget === e.channel && (!best || s.startedAt >= best.startedAt)) best = s;
    }
    return best?.linkedid ?? null;
  }

  private expectationFor(event: AmiEvent, linkedid: string, prev: CallState | undefined): ExpectedOriginate | undefined {
    if (event.event === 'OriginateResponse') return this.expectedByAction.get(event.actionId)?.originate;
    return prev === undefined ? this.expectedByChannel.get(linkedid) : undefined;
  }

  /**
   * An attended transfer whose consultation was a call of its own (a phone that put the caller
   * on hold and dialled the target itself: its channels carry another Linkedid; Asterisk's Atxfer
   * keeps one Linkedid, as in the recordings). That call is part of this one, not a second call:
   * it stops being reported and the pipeline removes what it stored of it.
   */
  private mergeConsultation(e: AttendedTransferEvent, into: string): CallEffect[] {
    const other = [e.secondTransfererLinkedid, e.transferTargetLinkedid].find((l) => l && l !== into && this.calls.has(l));
    const consult = other === undefined ? undefined : this.calls.get(other);
    if (consult === undefined || consult.mergedInto !== null) return [];
    this.calls.set(consult.linkedid, { ...consult, mergedInto: into, relevant: false });
    return consult.relevant ? [{ type: 'merged', linkedid: consult.linkedid, into }] : [];
  }

  /** The Originate failed before any channel of it was seen (or it was already forgotten). */
  private unplacedOriginate(e: OriginateResponseEvent): CallEffect[] {
    const expected = this.expectedByAction.get(e.actionId);
    if (!expected || e.response === 'Success') return [];
    this.expectedByAction.delete(e.actionId);
    const { originate } = expected;
    if (originate.channelId) this.expectedByChannel.delete(originate.channelId);
    return [{
      type: 'originate_failed', linkedid: null, extension: null, reason: originateFailure(e.reason),
      actionId: e.actionId, userId: originate.userId, callId: originate.callId,
    }];
  }
}
