import { describe, expect, it } from 'vitest';
import { toAmiEvent, type AmiEvent } from '../../src/pbx/events.js';
import { reduce, type CallEffect, type CallState } from '../../src/calls/call-state.js';
import { summarize } from '../../src/calls/call-summary.js';
import { CallTracker } from '../../src/calls/call-tracker.js';
import { createChannelIdentity } from '../../src/calls/channel-identity.js';

// Hand-written sequences in the shape of real Asterisk 22 events (see the transcripts), with
// PJSIP channels and the default DEVICE_DIAL_TEMPLATE, for what the transcripts do not cover.
const identity = createChannelIdentity({ deviceDialTemplate: 'PJSIP/{extension}' });
const T0 = Date.UTC(2026, 0, 10, 9, 0, 0);
const LINKEDID = 'pbx-1700000000.1';

interface Chan { name: string; id: string; context: string; exten: string; cid: string }
const caller: Chan = { name: 'PJSIP/trunk-00000001', id: LINKEDID, context: 'switchboard-inbound', exten: '74950000000', cid: '79160000001' };
const agent = (ext: string, n: number): Chan => ({
  name: `PJSIP/${ext}-0000000${n}`, id: `pbx-1700000000.${n}`, context: 'from-internal', exten: ext, cid: ext,
});
const a101 = agent('101', 2);
const a102 = agent('102', 3);
const a103 = agent('103', 4);

const snap = (c: Chan, state = 'Up', prefix = '') => ({
  [`${prefix}Channel`]: c.name, [`${prefix}Uniqueid`]: c.id, [`${prefix}Linkedid`]: LINKEDID,
  [`${prefix}Context`]: c.context, [`${prefix}Exten`]: c.exten, [`${prefix}CallerIDNum`]: c.cid,
  [`${prefix}ChannelStateDesc`]: state,
});
function ev(raw: Record<string, string>): AmiEvent {
  const e = toAmiEvent(raw);
  if (!e) throw new Error(`not an event: ${JSON.stringify(raw)}`);
  return e;
}
const newchannel = (c: Chan) => ev({ Event: 'Newchannel', ...snap(c, 'Ring') });
const dialBegin = (from: Chan, to: Chan) => ev({ Event: 'DialBegin', ...snap(from, 'Ring'), ...snap(to, 'Down', 'Dest'), DialString: to.exten });
const dialState = (from: Chan, to: Chan) => ev({ Event: 'DialState', ...snap(from, 'Ring'), ...snap(to, 'Ringing', 'Dest'), DialStatus: 'RINGING' });
const dialEnd = (from: Chan, to: Chan, status: string) => ev({ Event: 'DialEnd', ...snap(from, 'Ring'), ...snap(to, 'Up', 'Dest'), DialStatus: status });
const enter = (c: Chan, bridge: string) => ev({ Event: 'BridgeEnter', ...snap(c), BridgeUniqueid: bridge, BridgeNumChannels: '1' });
const leave = (c: Chan, bridge: string) => ev({ Event: 'BridgeLeave', ...snap(c), BridgeUniqueid: bridge, BridgeNumChannels: '1' });
const hangup = (c: Chan, cause = '16') => ev({ Event: 'Hangup', ...snap(c), Cause: cause, 'Cause-txt': 'Normal Clearing' });

type Step = [atSeconds: number, event: AmiEvent];

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Feeds the steps through the reducer; every state is frozen before it is passed on, so any
 *  mutation of an input state throws (ESM is strict mode). */
function run(steps: Step[]): { state: CallState; effects: CallEffect[] } {
  let state: CallState | undefined;
  const effects: CallEffect[] = [];
  for (const [sec, event] of steps) {
    const r = reduce(state === undefined ? undefined : deepFreeze(state), event, { now: new Date(T0 + sec * 1000), identity });
    state = r.state;
    effects.push(...r.effects);
  }
  return { state: state!, effects };
}
const pops = (effects: CallEffect[]) =>
  effects.filter((e) => e.type === 'ringing' || e.type === 'ringing_stopped' || e.type === 'answered')
    .map((e) => `${e.type} ${'extension' in e ? e.extension : ''}`);

const ringAll: Step[] = [
  [0, newchannel(caller)],
  [0, ev({ Event: 'VarSet', ...snap(caller, 'Ring'), Variable: 'MIXMONITOR_FILENAME', Value: `/rec/${LINKEDID}.wav` })],
  [1, newchannel(a101)],
  [1, newchannel(a102)],
  [1, dialBegin(caller, a101)],
  [1, dialBegin(caller, a102)],
  [1, dialState(caller, a101)],
  [1, dialState(caller, a102)],
  [2, dialState(caller, a101)],
  [5, dialEnd(caller, a101, 'ANSWER')],
  [5, dialEnd(caller, a102, 'CANCEL')],
  [5, hangup(a102, '26')],
  [5, enter(a101, 'br-1')],
  [5, enter(caller, 'br-1')],
  [35, leave(caller, 'br-1')],
  [35, hangup(caller)],
  [35, leave(a101, 'br-1')],
  [35, hangup(a101)],
];

describe('reduce: ring-all (Dial(PJSIP/101&PJSIP/102), 101 answers)', () => {
  it('folds both legs into one call, answered by 101', () => {
    const { state } = run(ringAll);
    const s = summarize(state);
    expect(s).toMatchObject({
      linkedid: LINKEDID, direction: 'inbound', did: '74950000000', callerNumber: '79160000001',
      disposition: 'answered', answeredByExtension: '101', finalExtension: '101', talkSeconds: 30,
      recording: { uniqueid: LINKEDID, file: `/rec/${LINKEDID}.wav` }, hangupCause: 16, failureReason: null,
    });
    expect(s.rang.map((r) => r.extension)).toEqual(['101', '102']);
    expect(s.ringingAt).toEqual(new Date(T0 + 1000));
    expect(s.answeredAt).toEqual(new Date(T0 + 5000));
  });

  it('pops ringing once per leg (RINGING repeats), answered for 101, stop for 102, one ended', () => {
    const { effects } = run(ringAll);
    expect(pops(effects)).toEqual(['ringing 101', 'ringing 102', 'answered 101', 'ringing_stopped 102']);
    expect(effects.find((e) => e.type === 'ringing_stopped')).toMatchObject({ reason: 'answered_elsewhere', uniqueid: a102.id });
    expect(effects.filter((e) => e.type === 'ended')).toHaveLength(1);
    expect(effects.at(-1)).toMatchObject({ type: 'ended', linkedid: LINKEDID });
  });

  it('is not ended before the last channel hangs up', () => {
    const { state } = run(ringAll.slice(0, -1));
    expect(state.endedAt).toBeNull();
    expect(summarize(state).disposition).toBeNull();
  });

  it('gives the same result with every event duplicated, and the same state object for a no-op', () => {
    const once = run(ringAll);
    const twice = run(ringAll.flatMap((s) => [s, s]));
    expect(summarize(twice.state)).toEqual(summarize(once.state));
    expect(pops(twice.effects)).toEqual(pops(once.effects));
    const again = reduce(once.state, dialState(caller, a101), { now: new Date(T0 + 99_000), identity });
    expect(again.state).toBe(once.state);
    expect(again.effects).toEqual([]);
  });

  it('calls it abandoned when the caller hangs up while both ring (CANCEL)', () => {
    const { state, effects } = run([
      ...ringAll.slice(0, 9),
      [4, hangup(caller)],
      [4, dialEnd(caller, a101, 'CANCEL')],
      [4, dialEnd(caller, a102, 'CANCEL')],
      [4, hangup(a101, '26')],
      [4, hangup(a102, '26')],
    ]);
    expect(summarize(state)).toMatchObject({ disposition: 'abandoned', answeredByExtension: null, talkSeconds: 0 });
    expect(pops(effects)).toEqual(['ringing 101', 'ringing 102', 'ringing_stopped 101', 'ringing_stopped 102']);
  });

  it('calls it busy when the last attempt got BUSY, missed when it rang out', () => {
    const base: Step[] = [[0, newchannel(caller)], [1, newchannel(a101)], [1, dialBegin(caller, a101)]];
    const busy = run([...base, [2, dialEnd(caller, a101, 'BUSY')], [2, hangup(a101, '17')], [3, hangup(caller)]]);
    expect(summarize(busy.state).disposition).toBe('busy');
    const missed = run([...base, [21, dialEnd(caller, a101, 'NOANSWER')], [21, hangup(a101, '0')], [22, hangup(caller)]]);
    expect(summarize(missed.state).disposition).toBe('missed');
  });
});

describe('reduce: transfers', () => {
  const answeredBy101: Step[] = [
    [0, newchannel(caller)],
    [1, dialBegin(caller, a101)],
    [3, dialEnd(caller, a101, 'ANSWER')],
    [3, enter(a101, 'br-1')],
    [3, enter(caller, 'br-1')],
  ];

  it('blind transfer: answeredBy stays 101, finalAgent becomes 102', () => {
    const { state, effects } = run([
      ...answeredBy101,
      [20, ev({
        Event: 'BlindTransfer', Result: 'Success', ...snap(a101, 'Up', 'Transferer'), ...snap(caller, 'Up', 'Transferee'),
        IsExternal: 'No', Context: 'switchboard-transfer', Extension: '102',
      })],
      [20, leave(a101, 'br-1')],
      [20, hangup(a101)],
      [20, leave(caller, 'br-1')],
      [21, dialBegin(caller, a102)],
      [24, dialEnd(caller, a102, 'ANSWER')],
      [24, enter(a102, 'br-2')],
      [24, enter(caller, 'br-2')],
      [60, hangup(caller)],
      [60, hangup(a102)],
    ]);
    const s = summarize(state);
    expect(s).toMatchObject({ disposition: 'answered', answeredByExtension: '101', finalExtension: '102', talkSeconds: 57 });
    expect(s.transfers).toEqual([{ kind: 'blind', from: '101', to: '102', at: new Date(T0 + 20_000) }]);
    expect(s.rang.map((r) => r.extension)).toEqual(['101', '102']);
    expect(pops(effects)).toEqual(['ringing 101', 'answered 101', 'ringing 102', 'answered 102']);
  });

  it('attended transfer: the target from the AttendedTransfer event becomes the final agent', () => {
    const { state, effects } = run([
      ...answeredBy101,
      [30, ev({
        Event: 'AttendedTransfer', Result: 'Success', ...snap(a101, 'Up', 'OrigTransferer'),
        ...snap({ ...a101, id: 'pbx-1700000000.9', name: 'PJSIP/101-00000009' }, 'Up', 'SecondTransferer'),
        ...snap(caller, 'Up', 'Transferee'), ...snap({ ...a102, id: 'pbx-1700000001.1' }, 'Up', 'TransferTarget'),
        DestType: 'Bridge', IsExternal: 'No',
      })],
      [30, hangup(a101)],
      [50, hangup(caller)],
    ]);
    const s = summarize(state);
    expect(s).toMatchObject({ answeredByExtension: '101', finalExtension: '102', disposition: 'answered' });
    expect(s.transfers.map((t) => `${t.kind} ${t.from}->${t.to}`)).toEqual(['attended 101->102']);
    expect(pops(effects)).toEqual(['ringing 101', 'answered 101', 'answered 102']);
  });

  const transfersOf = (effects: CallEffect[]) =>
    effects.flatMap((e) => (e.type === 'transferred' ? [`${e.kind} ${e.from}->${e.to}`] : []));

  // The Atxfer shape of the transcripts (j3) on PJSIP: the consultation leg shares the Linkedid,
  // has no DialBegin, and the AttendedTransfer event lacks TransferTarget*.
  const consultation = (complete: Step[]): Step[] => [
    ...answeredBy101,
    [10, ev({ Event: 'Hold', ...snap(a101) })],
    [10, newchannel(a103)],
    [10, ev({ Event: 'VarSet', ...snap(a103, 'Down'), Variable: 'ATTENDEDTRANSFER', Value: a101.name })],
    [10, enter(a103, 'br-consult')],
    [10, ev({ Event: 'DialState', ...snap(a103, 'Ringing', 'Dest'), DialStatus: 'RINGING' })],
    [10, leave(a101, 'br-1')],
    [10, enter(a101, 'br-consult')],
    [13, ev({ Event: 'DialEnd', ...snap(a103, 'Up', 'Dest'), DialStatus: 'ANSWER' })],
    ...complete,
  ];
  const completion: Step[] = [
    [20, leave(a101, 'br-consult')],
    [20, leave(a103, 'br-consult')],
    [20, enter(a103, 'br-1')],
    [20, ev({
      Event: 'AttendedTransfer', Result: 'Success', ...snap(a101, 'Up', 'OrigTransferer'), OrigBridgeUniqueid: 'br-1',
      ...snap(a101, 'Up', 'SecondTransferer'), SecondBridgeUniqueid: 'br-consult', ...snap(caller, 'Up', 'Transferee'),
      DestType: 'Bridge', DestBridgeUniqueid: 'br-1', IsExternal: 'No',
    })],
    [20, hangup(a101)],
    [50, hangup(caller)],
    [50, hangup(a103)],
  ];

  it('attended, consultation leg in the call: the consultation bridge is no transfer, the completion is one', () => {
    const { state, effects } = run(consultation(completion));
    const s = summarize(state);
    expect(s).toMatchObject({ answeredByExtension: '101', finalExtension: '103', disposition: 'answered', talkSeconds: 47 });
    expect(s.transfers).toEqual([{ kind: 'attended', from: '101', to: '103', at: new Date(T0 + 20_000) }]);
    expect(s.rang.map((r) => r.extension)).toEqual(['101', '103']);
    expect(pops(effects)).toEqual(['ringing 101', 'answered 101', 'ringing 103', 'answered 103']);
    expect(transfersOf(effects)).toEqual(['attended 101->103']);
  });

  it('attended, while consulting: 101 still has the caller', () => {
    const { state } = run(consultation([]));
    expect(state.finalAgent).toBe('101');
    expect(state.transfers).toEqual([]);
  });

  it('blind transfer whose target never answers: the target\'s ringing stops, 101 stays the final agent', () => {
    const { state, effects } = run([
      ...answeredBy101,
      [20, ev({
        Event: 'BlindTransfer', Result: 'Success', ...snap(a101, 'Up', 'Transferer'), ...snap(caller, 'Up', 'Transferee'),
        IsExternal: 'Yes', Context: 'from-internal', Extension: '102',
      })],
      [20, leave(a101, 'br-1')],
      [20, hangup(a101)],
      [21, dialBegin(caller, a102)],
      [41, dialEnd(caller, a102, 'NOANSWER')],
      [41, hangup(a102, '0')],
      [42, hangup(caller)],
    ]);
    expect(summarize(state)).toMatchObject({ answeredByExtension: '101', finalExtension: '101', disposition: 'answered' });
    expect(transfersOf(effects)).toEqual(['blind 101->102']);
    expect(pops(effects)).toEqual(['ringing 101', 'answered 101', 'ringing 102', 'ringing_stopped 102']);
  });

  it('an agent leg entering the bridge after the answer (no transfer event) is a transfer', () => {
    const { state } = run([
      ...answeredBy101,
      [10, leave(a101, 'br-1')],
      [10, hangup(a101)],
      [11, newchannel(a103)],
      [11, enter(a103, 'br-1')],
      [40, hangup(caller)],
      [40, hangup(a103)],
    ]);
    expect(summarize(state)).toMatchObject({ answeredByExtension: '101', finalExtension: '103' });
    expect(summarize(state).transfers.map((t) => t.kind)).toEqual(['bridge']);
  });

  it('a BridgeEnter replayed after a later transfer does not undo it', () => {
    const a104 = agent('104', 5);
    const { state } = run([
      ...answeredBy101,
      [10, leave(a101, 'br-1')],
      [11, enter(a103, 'br-1')],
      [20, leave(a103, 'br-1')],
      [21, enter(a104, 'br-1')],
      [22, leave(a104, 'br-1')],
      [23, enter(a103, 'br-1')],
    ]);
    expect(state.finalAgent).toBe('104');
    expect(state.transfers.map((t) => `${t.from}->${t.to}`)).toEqual(['101->103', '103->104']);
  });
});

describe('tracker: an attended transfer whose consultation is a call of its own', () => {
  // A phone that holds the caller and dials the target itself: the consultation channels carry
  // their own Linkedid (Asterisk's Atxfer keeps one, as in the recordings).
  const L2 = 'pbx-1700000010.1';
  const a101b: Chan = { name: 'PJSIP/101-00000010', id: L2, context: 'from-internal', exten: '103', cid: '101' };
  const a103b: Chan = { ...a103, name: 'PJSIP/103-00000011', id: 'pbx-1700000010.2' };
  const inL2 = (e: AmiEvent) => withLinkedid(e, L2);
  const steps: Step[] = [
    [0, newchannel(caller)],
    [1, dialBegin(caller, a101)],
    [3, dialEnd(caller, a101, 'ANSWER')],
    [3, enter(a101, 'br-1')],
    [3, enter(caller, 'br-1')],
    [10, inL2(newchannel(a101b))],
    [10, inL2(dialBegin(a101b, a103b))],
    [13, inL2(dialEnd(a101b, a103b, 'ANSWER'))],
    [13, inL2(enter(a103b, 'br-2'))],
    [13, inL2(enter(a101b, 'br-2'))],
    [20, ev({
      Event: 'AttendedTransfer', Result: 'Success', ...snap(a101, 'Up', 'OrigTransferer'), OrigBridgeUniqueid: 'br-1',
      ...snap(a101b, 'Up', 'SecondTransferer'), SecondTransfererLinkedid: L2, SecondBridgeUniqueid: 'br-2',
      ...snap(caller, 'Up', 'Transferee'), ...snap(a103b, 'Up', 'TransferTarget'), TransferTargetLinkedid: L2,
      DestType: 'Bridge', DestBridgeUniqueid: 'br-1', IsExternal: 'No',
    })],
    [20, leave(a101, 'br-1')],
    [20, hangup(a101)],
    [20, inL2(leave(a101b, 'br-2'))],
    [20, inL2(hangup(a101b))],
    [20, inL2(leave(a103b, 'br-2'))],
    [20, inL2(enter(a103b, 'br-1'))],
    [50, hangup(caller)],
    [50, inL2(hangup(a103b))],
  ];

  it('folds the consultation call into the transferred one: one call reported, the transfer in it', () => {
    const tracker = new CallTracker({ identity });
    const effects = steps.flatMap(([sec, e]) => tracker.handle(e, new Date(T0 + sec * 1000)));
    expect(effects.filter((e) => e.type === 'merged')).toEqual([{ type: 'merged', linkedid: L2, into: LINKEDID }]);
    const merged = effects.findIndex((e) => e.type === 'merged');
    expect(effects.slice(merged + 1).filter((e) => e.linkedid === L2)).toEqual([]);
    expect(effects.filter((e) => e.type === 'ended').map((e) => e.linkedid)).toEqual([LINKEDID]);
    expect(tracker.get(L2)!.mergedInto).toBe(LINKEDID);
    const s = summarize(tracker.get(LINKEDID)!);
    expect(s).toMatchObject({ answeredByExtension: '101', finalExtension: '103', disposition: 'answered' });
    expect(s.transfers.map((t) => `${t.kind} ${t.from}->${t.to}`)).toEqual(['attended 101->103']);
    expect(pops(effects.filter((e) => e.linkedid === LINKEDID))).toEqual(['ringing 101', 'answered 101', 'answered 103']);
  });
});

describe('reduce: internal and edge cases', () => {
  it('a device calling a device is internal, answered by the callee', () => {
    const steps: Step[] = [
      [0, newchannel(a101)],
      [0, dialBegin(a101, a102)],
      [2, dialEnd(a101, a102, 'ANSWER')],
      [2, enter(a102, 'b')],
      [2, enter(a101, 'b')],
      [9, hangup(a101)],
      [9, hangup(a102)],
    ];
    const { state } = run(steps.map(([t, e]): Step => [t, withLinkedid(e, a101.id)]));
    expect(summarize(state)).toMatchObject({
      direction: 'internal', callerNumber: '101', clientNumber: null, did: null,
      answeredByExtension: '102', finalExtension: '102', disposition: 'answered', talkSeconds: 7,
    });
  });

  it('pops once when DialState RINGING comes before a late DialBegin (missed, then replayed)', () => {
    const { state, effects } = run([[0, newchannel(caller)], [1, dialState(caller, a101)], [1, dialBegin(caller, a101)]]);
    expect(pops(effects)).toEqual(['ringing 101']);
    expect(state.rang).toHaveLength(1);
  });

  it('events that belong to no call leave no state', () => {
    const r = reduce(undefined, ev({ Event: 'DeviceStateChange', Device: 'PJSIP/101', State: 'INUSE' }), { now: new Date(T0), identity });
    expect(r).toEqual({ state: undefined, effects: [] });
  });

  it('a call that only runs PBX plumbing (no device, no known context) is never reported', () => {
    const test: Chan = { name: 'Local/run@curl-test-00000000;1', id: LINKEDID, context: 'curl-test', exten: 'run', cid: '' };
    const { state, effects } = run([[0, newchannel(test)], [3, hangup(test)]]);
    expect(state.relevant).toBe(false);
    expect(state.endedAt).not.toBeNull();
    expect(effects).toEqual([]);
  });
});

/** The internal call's Linkedid is the calling device's Uniqueid. */
function withLinkedid(e: AmiEvent, linkedid: string): AmiEvent {
  const o = { ...e } as Record<string, unknown>;
  for (const k of ['linkedid', 'destLinkedid']) if (k in o) o[k] = linkedid;
  return o as unknown as AmiEvent;
}
