import { describe, expect, it } from 'vitest';
import type { AmiEvent } from '../../src/pbx/events.js';
import { CallTracker } from '../../src/calls/call-tracker.js';
import type { CallEffect } from '../../src/calls/call-state.js';
import { summarize, type CallSummary } from '../../src/calls/call-summary.js';
import { createChannelIdentity } from '../../src/calls/channel-identity.js';
import { readScenario, SESSION_START, type TimedEvent } from './transcripts.js';

// Every recorded scenario replayed through the tracker. The recording PBX's phones are Local
// channels, so the device template is `Local/{extension}@fake-phones`.
const identity = createChannelIdentity({ deviceDialTemplate: 'Local/{extension}@fake-phones' });
const newTracker = () => new CallTracker({ identity });
const REC = '/var/spool/asterisk/monitor/';

function replay(events: TimedEvent[], tracker = newTracker()): { tracker: CallTracker; effects: CallEffect[] } {
  const effects: CallEffect[] = [];
  for (const { event, at } of events) effects.push(...tracker.handle(event, at));
  return { tracker, effects };
}
const pops = (effects: CallEffect[]) =>
  effects.filter((e) => e.type === 'ringing' || e.type === 'ringing_stopped' || e.type === 'answered' || e.type === 'transferred')
    .map((e) => (e.type === 'transferred' ? `transferred ${e.kind} ${e.from}->${e.to}` : `${e.type} ${'extension' in e ? e.extension : ''}`));
const ended = (effects: CallEffect[]) => effects.filter((e): e is Extract<CallEffect, { type: 'ended' }> => e.type === 'ended');

interface Expected {
  linkedid: string;
  direction: CallSummary['direction'];
  did: string | null;
  callerNumber: string;
  clientNumber: string | null;
  disposition: CallSummary['disposition'];
  rang: string[];
  answeredBy: string | null;
  finalAgent?: string | null;
  talkSeconds: number;
  recording: string | null;
  hangupCause: number;
  failureReason?: CallSummary['failureReason'];
  /** `kind from->to` */
  transfers?: string[];
  pops: string[];
}

const inbound = (linkedid: string, did: string) => ({ linkedid, direction: 'inbound' as const, did, callerNumber: '79161234567', clientNumber: '79161234567' });

const SCENARIOS: Record<string, Expected> = {
  a_inbound_answered: {
    ...inbound('1795348783.2', '74951110001'), disposition: 'answered', rang: ['101'], answeredBy: '101',
    talkSeconds: 3, recording: '1795348783.3', hangupCause: 16, pops: ['ringing 101', 'answered 101'],
  },
  b_inbound_noanswer_fallback: {
    ...inbound('1795348799.6', '74951110002'), disposition: 'missed', rang: ['201', '200'], answeredBy: null,
    talkSeconds: 0, recording: '1795348799.7', hangupCause: 16,
    pops: ['ringing 201', 'ringing_stopped 201', 'ringing 200', 'ringing_stopped 200'],
  },
  b2_inbound_noanswer_fallback_answered: {
    ...inbound('1795348825.12', '74951110002'), disposition: 'answered', rang: ['201', '100'], answeredBy: '100',
    talkSeconds: 3, recording: '1795348825.13', hangupCause: 16,
    pops: ['ringing 201', 'ringing_stopped 201', 'ringing 100', 'answered 100'],
  },
  // The owner was busy but the department fallback rang out: the last attempt decides (missed).
  c_inbound_busy: {
    ...inbound('1795348842.18', '74951110003'), disposition: 'missed', rang: ['301', '200'], answeredBy: null,
    talkSeconds: 0, recording: '1795348842.19', hangupCause: 16,
    pops: ['ringing 301', 'ringing_stopped 301', 'ringing 200', 'ringing_stopped 200'],
  },
  d_webhook_down: {
    ...inbound('1795348865.24', '74951110001'), disposition: 'missed', rang: ['200'], answeredBy: null,
    talkSeconds: 0, recording: '1795348865.25', hangupCause: 16, pops: ['ringing 200', 'ringing_stopped 200'],
  },
  h_webhook_slow: {
    ...inbound('1795348887.28', '74951110009'), disposition: 'missed', rang: ['200'], answeredBy: null,
    talkSeconds: 0, recording: '1795348887.29', hangupCause: 16, pops: ['ringing 200', 'ringing_stopped 200'],
  },
  g_caller_hangs_up_while_ringing: {
    ...inbound('1795348963.44', '74951110002'), disposition: 'abandoned', rang: ['201'], answeredBy: null,
    talkSeconds: 0, recording: '1795348963.45', hangupCause: 16, pops: ['ringing 201', 'ringing_stopped 201'],
  },
  'with-systemname/a_inbound_answered': {
    ...inbound('crm-test-pbx-1795348739.4', '74951110001'), disposition: 'answered', rang: ['101'], answeredBy: '101',
    talkSeconds: 3, recording: 'crm-test-pbx-1795348739.5', hangupCause: 16, pops: ['ringing 101', 'answered 101'],
  },
  // Click-to-call: the manager's phone rings first (Originate), then the customer is dialled.
  // Talk time from receive times: the manager leg's Cdr (bill=6) counts from the manager's answer.
  e_click_to_call_answered: {
    linkedid: '1795348911.32', direction: 'outbound', did: null, callerNumber: '101', clientNumber: '79161234567',
    disposition: 'answered', rang: ['101'], answeredBy: '101', talkSeconds: 4, recording: '1795348911.32',
    hangupCause: 16, pops: ['ringing 101', 'answered 101'],
  },
  e2_click_to_call_customer_busy: {
    linkedid: '1795348926.36', direction: 'outbound', did: null, callerNumber: '101', clientNumber: '301',
    disposition: 'busy', failureReason: 'customer_busy', rang: ['101', '301'], answeredBy: null, talkSeconds: 0,
    recording: '1795348926.36', hangupCause: 16, pops: ['ringing 101', 'ringing 301', 'ringing_stopped 301'],
  },
  f_click_to_call_manager_noanswer: {
    linkedid: '1795348935.40', direction: 'outbound', did: null, callerNumber: '201', clientNumber: '79161234567',
    disposition: 'failed', failureReason: 'manager_no_answer', rang: ['201'], answeredBy: null, talkSeconds: 0,
    recording: null, hangupCause: 19, pops: ['ringing 201', 'ringing_stopped 201'],
  },
  f2_click_to_call_manager_busy: {
    linkedid: '1795348957.42', direction: 'outbound', did: null, callerNumber: '301', clientNumber: '79161234567',
    disposition: 'failed', failureReason: 'manager_busy', rang: ['301'], answeredBy: null, talkSeconds: 0,
    recording: null, hangupCause: 17, pops: ['ringing 301', 'ringing_stopped 301'],
  },
  // Transfers (DID 74951110004 routes to manager 401). Talk time: receive times from 401's
  // answer to the end, since the first Dial's Cdr covers only the first agent.
  // (i) Blind into the phone's own context: the caller's channel runs 102's dialplan, no new leg.
  i_inbound_blind_transfer: {
    ...inbound('1796213408.0', '74951110004'), disposition: 'answered', rang: ['401', '102'], answeredBy: '401',
    finalAgent: '102', talkSeconds: 11, recording: '1796213408.1', hangupCause: 16, transfers: ['blind 401->102'],
    pops: ['ringing 401', 'answered 401', 'transferred blind 401->102', 'ringing 102', 'answered 102'],
  },
  // (i2) Blind into a context that dials 102: a new leg rings and answers.
  i2_inbound_blind_transfer_via_dial: {
    ...inbound('1796213431.4', '74951110004'), disposition: 'answered', rang: ['401', '102'], answeredBy: '401',
    finalAgent: '102', talkSeconds: 11, recording: '1796213431.5', hangupCause: 16, transfers: ['blind 401->102'],
    pops: ['ringing 401', 'answered 401', 'transferred blind 401->102', 'ringing 102', 'answered 102'],
  },
  // (j, j2, j3) Attended: 103 rings during the consultation (no DialBegin), takes the caller on
  // completion; one transfer, not a second one for the consultation bridge.
  j_inbound_attended_transfer: {
    ...inbound('1796213456.10', '74951110004'), disposition: 'answered', rang: ['401', '103'], answeredBy: '401',
    finalAgent: '103', talkSeconds: 11, recording: '1796213456.11', hangupCause: 16, transfers: ['attended 401->103'],
    pops: ['ringing 401', 'answered 401', 'ringing 103', 'transferred attended 401->103', 'answered 103'],
  },
  j2_inbound_attended_transfer_dtmf_complete: {
    ...inbound('1796213484.16', '74951110004'), disposition: 'answered', rang: ['401', '103'], answeredBy: '401',
    finalAgent: '103', talkSeconds: 11, recording: '1796213484.17', hangupCause: 16, transfers: ['attended 401->103'],
    pops: ['ringing 401', 'answered 401', 'ringing 103', 'transferred attended 401->103', 'answered 103'],
  },
  j3_inbound_attended_transfer_no_target_fields: {
    ...inbound('1796213789.76', '74951110004'), disposition: 'answered', rang: ['401', '103'], answeredBy: '401',
    finalAgent: '103', talkSeconds: 11, recording: '1796213789.77', hangupCause: 16, transfers: ['attended 401->103'],
    pops: ['ringing 401', 'answered 401', 'ringing 103', 'transferred attended 401->103', 'answered 103'],
  },
  f3_click_to_call_noanswer_with_channelid: {
    linkedid: 'crm-c2c-0005', direction: 'outbound', did: null, callerNumber: '201', clientNumber: '79161234567',
    disposition: 'failed', failureReason: 'manager_no_answer', rang: ['201'], answeredBy: null, talkSeconds: 0,
    recording: null, hangupCause: 19, pops: ['ringing 201', 'ringing_stopped 201'],
  },
};

describe.each(Object.entries(SCENARIOS))('transcript %s', (name, x) => {
  const events = readScenario(name);

  it('gives the expected call summary', () => {
    const { tracker, effects } = replay(events);
    expect(tracker.size).toBe(1);
    const s = summarize(tracker.get(x.linkedid)!);
    expect(s).toMatchObject({
      linkedid: x.linkedid, direction: x.direction, did: x.did, callerNumber: x.callerNumber, clientNumber: x.clientNumber,
      disposition: x.disposition, answeredByExtension: x.answeredBy, finalExtension: x.finalAgent ?? x.answeredBy,
      talkSeconds: x.talkSeconds, hangupCause: x.hangupCause, failureReason: x.failureReason ?? null,
    });
    expect(s.rang.map((r) => r.extension)).toEqual(x.rang);
    expect(s.transfers.map((t) => `${t.kind} ${t.from}->${t.to}`)).toEqual(x.transfers ?? []);
    expect(s.recording).toEqual(x.recording === null ? null : { uniqueid: x.recording, file: `${REC}${x.recording}.wav` });
    expect(s.answeredAt !== null).toBe(x.answeredBy !== null);
    expect(s.endedAt).not.toBeNull();
    expect(ended(effects)[0]!.summary).toMatchObject({ disposition: x.disposition, linkedid: x.linkedid });
  });

  it('pops ringing/answered/stopped per extension and ends exactly once', () => {
    const { effects } = replay(events);
    expect(pops(effects)).toEqual(x.pops);
    expect(ended(effects)).toHaveLength(1);
    // Nothing pops after the end.
    const end = effects.findIndex((e) => e.type === 'ended');
    expect(pops(effects.slice(end))).toEqual([]);
  });

  it('is idempotent: the transcript fed twice gives the same call and no new pop or end', () => {
    const first = replay(events);
    const before = summarize(first.tracker.get(x.linkedid)!);
    const second = replay(events, first.tracker);
    expect(first.tracker.size).toBe(1);
    expect(summarize(first.tracker.get(x.linkedid)!)).toEqual(before);
    expect(second.effects).toEqual([]);
  });

  it('is unchanged by duplicated events at random places (reconnect replays)', () => {
    const baseline = summarize(replay(events).tracker.get(x.linkedid)!);
    for (const seed of [1, 7, 42]) {
      const { tracker, effects } = replay(withDuplicates(events, seed));
      expect(summarize(tracker.get(x.linkedid)!), `seed ${seed}`).toEqual(baseline);
      expect(ended(effects)).toHaveLength(1);
      expect(pops(effects)).toEqual(x.pops);
    }
  });
});

/** Each event is repeated with probability 0.3, right after itself or up to 6 events later
 *  (carrying the later receive time, as a replay would). */
function withDuplicates(events: TimedEvent[], seed: number): TimedEvent[] {
  let state = seed;
  const random = () => ((state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const out: TimedEvent[] = [];
  const pending: Array<{ due: number; event: AmiEvent }> = [];
  events.forEach((e, i) => {
    out.push(e);
    for (const p of pending.filter((q) => q.due === i)) out.push({ event: p.event, at: e.at });
    if (random() < 0.3) pending.push({ due: i + Math.floor(random() * 7), event: e.event });
  });
  const last = events.at(-1)!.at;
  for (const p of pending.filter((q) => q.due >= events.length)) out.push({ event: p.event, at: last });
  return out;
}

describe('transcript details', () => {
  it('curl_hashcompat (context curl-test, no device, no known context) is tracked but never reported', () => {
    const { tracker, effects } = replay(readScenario('curl_hashcompat'));
    expect(effects).toEqual([]);
    const state = tracker.get('1795348772.0')!;
    expect(state.relevant).toBe(false);
    expect(state.endedAt).not.toBeNull();
    expect(state.rang).toEqual([]);
  });

  it('talk time comes from the Cdr of the connecting Dial when there is one', () => {
    const events = readScenario('a_inbound_answered').map((t) =>
      t.event.event === 'Cdr' && t.event.uniqueid === '1795348783.3' ? { ...t, event: { ...t.event, billableSeconds: 7 } } : t);
    expect(summarize(replay(events).tracker.get('1795348783.2')!).talkSeconds).toBe(7);
    // Without Cdrs: receive times, answer (DialEnd ANSWER at 2011 ms) to the last Hangup (5014 ms).
    const noCdr = readScenario('a_inbound_answered').filter((t) => t.event.event !== 'Cdr');
    const s = summarize(replay(noCdr).tracker.get('1795348783.2')!);
    expect(s.answeredAt).toEqual(new Date(SESSION_START + 2011));
    expect(s.endedAt).toEqual(new Date(SESSION_START + 5014));
    expect(s.talkSeconds).toBe(3);
  });

  it('late Cdrs (after the last Hangup) update the ended call without a second end', () => {
    const events = readScenario('with-systemname/a_inbound_answered').map((t) =>
      t.event.event === 'Cdr' ? { ...t, event: { ...t.event, billableSeconds: t.event.billableSeconds + 1 } } : t);
    const { tracker, effects } = replay(events);
    const endAt = effects.findIndex((e) => e.type === 'ended');
    expect(ended(effects)[0]!.summary.talkSeconds).toBe(3);
    expect(effects.slice(endAt + 1)).toEqual([{ type: 'call_updated', linkedid: 'crm-test-pbx-1795348739.4' }]);
    expect(summarize(tracker.get('crm-test-pbx-1795348739.4')!).talkSeconds).toBe(4);
  });

  it('keeps who clicked (expectOriginate) and reports the failed originate to them', () => {
    const tracker = newTracker();
    tracker.expectOriginate({ actionId: 'f_click_to_call_manager_noanswer-1', userId: 'u-7', callId: 'c2c-0003', clientId: 42 }, new Date(SESSION_START));
    const { effects } = replay(readScenario('f_click_to_call_manager_noanswer'), tracker);
    expect(effects.filter((e) => e.type === 'originate_failed')).toEqual([{
      type: 'originate_failed', linkedid: '1795348935.40', extension: '201', reason: 'manager_no_answer',
      actionId: 'f_click_to_call_manager_noanswer-1', userId: 'u-7', callId: 'c2c-0003',
    }]);
    // The client clicked travels with the click: the pipeline settles the call's client on it.
    expect(ended(effects)[0]!.summary.clickToCall).toEqual({ userId: 'u-7', callId: 'c2c-0003', clientId: 42 });
  });

  it('knows a click-to-call from its first event when the Originate set ChannelId (f3)', () => {
    const tracker = newTracker();
    tracker.expectOriginate({ actionId: 'x-1', userId: 'u-9', callId: 'c2c-0005', channelId: 'crm-c2c-0005' }, new Date(SESSION_START));
    const events = readScenario('f3_click_to_call_noanswer_with_channelid');
    const first = events.findIndex((t) => t.event.event === 'Newchannel');
    replay(events.slice(0, first + 1), tracker);
    expect(tracker.get('crm-c2c-0005')!.clickToCall).toEqual({ actionId: 'x-1', userId: 'u-9', callId: 'c2c-0005', clientId: null });
    const { effects } = replay(events.slice(first + 1), tracker);
    expect(effects.find((e) => e.type === 'originate_failed')).toMatchObject({ userId: 'u-9', linkedid: 'crm-c2c-0005' });
  });

  it('an originate that failed before any channel existed still reaches the user', () => {
    const tracker = newTracker();
    tracker.expectOriginate({ actionId: 'gone-1', userId: 'u-1', callId: 'c-1' }, new Date(SESSION_START));
    const failure = readScenario('f2_click_to_call_manager_busy').find((t) => t.event.event === 'OriginateResponse')!;
    const effects = tracker.handle({ ...failure.event, actionId: 'gone-1' } as AmiEvent, failure.at);
    expect(effects).toEqual([{
      type: 'originate_failed', linkedid: null, extension: null, reason: 'manager_busy', actionId: 'gone-1', userId: 'u-1', callId: 'c-1',
    }]);
    expect(tracker.handle({ ...failure.event, actionId: 'gone-1' } as AmiEvent, failure.at)).toEqual([]);
  });

  it('reconciles from Cdrs alone a call whose channel events were missed (b)', () => {
    const cdrs = readScenario('b_inbound_noanswer_fallback').filter((t) => t.event.event === 'Cdr');
    const { tracker, effects } = replay([...cdrs, ...cdrs]);
    expect(tracker.size).toBe(1);
    expect(ended(effects)).toHaveLength(1);
    expect(tracker.get('1795348799.7')!.cdrs).toHaveLength(2);
    const s = summarize(tracker.get('1795348799.7')!);
    expect(s).toMatchObject({ direction: 'inbound', did: '74951110002', callerNumber: '79161234567', disposition: 'missed', talkSeconds: 0 });
    expect(s.rang.map((r) => r.extension)).toEqual(['201', '200']);
    expect(s.startedAt).toEqual(new Date(Date.UTC(2026, 10, 22, 11, 59, 59)));
    expect(s.endedAt).toEqual(new Date(Date.UTC(2026, 10, 22, 12, 0, 19)));
  });

  it('a Cdr fills in an answer whose DialEnd and bridge were missed', () => {
    const events = readScenario('a_inbound_answered').filter((t) => !['DialEnd', 'BridgeEnter'].includes(t.event.event));
    const s = summarize(replay(events).tracker.get('1795348783.2')!);
    expect(s).toMatchObject({ disposition: 'answered', answeredByExtension: '101', talkSeconds: 3 });
  });

  it('evicts ended calls and drops a late Cdr for them instead of opening a new call', () => {
    const events = readScenario('a_inbound_answered');
    const { tracker } = replay(events.filter((t) => t.event.event !== 'Cdr'));
    expect(tracker.evict(new Date(SESSION_START + 5014))).toEqual([]);
    expect(tracker.evict(new Date(SESSION_START + 60_000))).toEqual(['1795348783.2']);
    const late = events.filter((t) => t.event.event === 'Cdr');
    expect(replay(late, tracker).effects).toEqual([]);
    expect(tracker.size).toBe(0);
  });

  it('j3 without the ATTENDEDTRANSFER VarSets (filtered out): the target is the agent in the destination bridge', () => {
    const events = readScenario('j3_inbound_attended_transfer_no_target_fields')
      .filter((t) => !(t.event.event === 'VarSet' && t.event.variable === 'ATTENDEDTRANSFER'));
    const { tracker, effects } = replay(events);
    const s = summarize(tracker.get('1796213789.76')!);
    expect(s).toMatchObject({ answeredByExtension: '401', finalExtension: '103' });
    expect(s.transfers.map((t) => `${t.kind} ${t.from}->${t.to}`)).toEqual(['attended 401->103']);
    expect(pops(effects).filter((p) => p.startsWith('answered'))).toEqual(['answered 401', 'answered 103']);
  });

  it('j with the AttendedTransfer event before the target enters the caller\'s bridge: still one transfer, one answer', () => {
    const events = readScenario('j_inbound_attended_transfer');
    const xfer = events.findIndex((t) => t.event.event === 'AttendedTransfer');
    const merge = events.findIndex((t, i) => i > 0 && t.event.event === 'BridgeLeave' && t.event.channel.startsWith('Local/103@')
      && events.slice(0, i).some((p) => p.event.event === 'DialEnd' && p.event.destChannel.startsWith('Local/103@')));
    expect(merge).toBeGreaterThan(0);
    expect(merge).toBeLessThan(xfer);
    const moved = [...events.slice(0, merge), events[xfer]!, ...events.slice(merge).filter((_, i) => merge + i !== xfer)];
    const { tracker, effects } = replay(moved);
    const s = summarize(tracker.get('1796213456.10')!);
    expect(s.transfers.map((t) => `${t.kind} ${t.from}->${t.to}`)).toEqual(['attended 401->103']);
    expect(pops(effects)).toEqual(['ringing 401', 'answered 401', 'ringing 103', 'transferred attended 401->103', 'answered 103']);
  });

  it('the consultation legs of j belong to the call (one call) and are marked as the consultation of 401', () => {
    const { tracker } = replay(readScenario('j_inbound_attended_transfer'));
    expect(tracker.size).toBe(1);
    const state = tracker.get('1796213456.10')!;
    const consult = Object.values(state.legs).filter((l) => l.consultedBy === 'Local/401@fake-phones-00000006;1');
    expect(consult.map((l) => l.channel)).toEqual(['Local/103@fake-phones-00000007;1', 'Local/103@fake-phones-00000007;2']);
  });

  it('expires a call whose hang-ups were lost', () => {
    const events = readScenario('a_inbound_answered').filter((t) => t.event.event !== 'Hangup');
    const { tracker } = replay(events);
    expect([...tracker.openCalls()]).toHaveLength(1);
    expect(tracker.expireIdle(new Date(SESSION_START + 1000), new Date(SESSION_START + 60_000))).toEqual([]);
    const effects = tracker.expireIdle(new Date(SESSION_START + 30_000), new Date(SESSION_START + 60_000));
    expect(ended(effects)[0]!.summary).toMatchObject({ disposition: 'answered', talkSeconds: 3 });
    expect([...tracker.openCalls()]).toHaveLength(0);
  });
});
