import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAmi } from '../../src/pbx/ami-frame.js';
import { toAmiEvent, type AmiEvent, type AmiEventName } from '../../src/pbx/events.js';
import { transcriptsDir } from './fake-ami-server.js';

const dir = transcriptsDir();
const sessions = readdirSync(dir)
  .filter((f) => f.endsWith('.ami') && !f.endsWith('.sent.ami') && !f.endsWith('.cdr.ami'))
  .map((f) => f.replace(/\.ami$/, ''));

function load(scenario: string): { raw: Record<string, string>[]; events: AmiEvent[] } {
  const raw = parseAmi(readFileSync(join(dir, `${scenario}.ami`))).messages;
  return { raw, events: raw.map(toAmiEvent).filter((e): e is AmiEvent => e !== null) };
}
const only = <N extends AmiEventName>(events: AmiEvent[], name: N): Extract<AmiEvent, { event: N }>[] =>
  events.filter((e): e is Extract<AmiEvent, { event: N }> => e.event === name);

const ALWAYS_KEPT: AmiEventName[] = [
  'Newchannel', 'Newstate', 'DialBegin', 'DialState', 'DialEnd', 'BridgeEnter', 'BridgeLeave',
  'Hangup', 'Cdr', 'MixMonitorStart', 'OriginateResponse', 'DeviceStateChange', 'LocalBridge',
];

describe('toAmiEvent on every transcript', () => {
  it.each([...sessions, 'with-systemname/a_inbound_answered'])('%s', (scenario) => {
    const { raw, events } = load(scenario);
    for (const name of ALWAYS_KEPT) {
      expect(only(events, name).length, name).toBe(raw.filter((m) => m['Event'] === name).length);
    }
    for (const e of events) {
      for (const [k, v] of Object.entries(e)) {
        // Ids stay strings; numbers are only the numeric fields we chose.
        if (/(uniqueid|linkedid)$/i.test(k)) expect(typeof v, k).toBe('string');
        if (typeof v === 'number' && !/(channelState|priority|cause|reason|duration|billableSeconds|bridgeNumChannels)$/i.test(k)) {
          throw new Error(`unexpected number field ${k}`);
        }
      }
    }
    // Every kept VarSet/Newexten is one that matters.
    for (const v of only(events, 'VarSet')) expect(['MIXMONITOR_FILENAME', 'DIALSTATUS', 'DIALEDPEERNAME', 'ANSWEREDTIME', 'RINGTIME', 'SWITCHBOARD_CALL_ID', 'CRM_CALL_ID', 'ATTENDEDTRANSFER']).toContain(v.variable);
    for (const n of only(events, 'Newexten')) expect(n.application).toBe('MixMonitor');
  });
});

describe('facts from the transcripts README', () => {
  it('Cdr has UniqueID and no Linkedid, one per Dial attempt', () => {
    const cdrs = only(load('b2_inbound_noanswer_fallback_answered').events, 'Cdr');
    for (const c of cdrs) {
      expect(c.uniqueid).toMatch(/^\d+\.\d+$/);
      expect(c.linkedid).toBeUndefined();
    }
    const pstn2 = cdrs.filter((c) => c.channel.endsWith('from-pstn-00000006;2'));
    expect(pstn2.map((c) => c.disposition).sort()).toEqual(['ANSWERED', 'NO ANSWER']);
    expect(new Set(pstn2.map((c) => c.uniqueid)).size).toBe(1);
    const answered = pstn2.find((c) => c.disposition === 'ANSWERED')!;
    expect(answered.billableSeconds).toBeGreaterThan(0);
    expect(answered.answerTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });

  it('OriginateResponse: <unknown> Uniqueid on failure, the ChannelId with it', () => {
    const [f] = only(load('f_click_to_call_manager_noanswer').events, 'OriginateResponse');
    expect(f).toMatchObject({ response: 'Failure', reason: 3, uniqueid: '<unknown>', actionId: 'f_click_to_call_manager_noanswer-1' });
    const [f2] = only(load('f2_click_to_call_manager_busy').events, 'OriginateResponse');
    expect(f2).toMatchObject({ response: 'Failure', reason: 5, uniqueid: '<unknown>', context: 'click-to-call' });
    const [f3] = only(load('f3_click_to_call_noanswer_with_channelid').events, 'OriginateResponse');
    expect(f3).toMatchObject({ response: 'Failure', reason: 3, uniqueid: 'crm-c2c-0005' });
    const [a] = only(load('a_inbound_answered').events, 'OriginateResponse');
    expect(a).toMatchObject({ response: 'Success', reason: 4, uniqueid: '1795348783.2', application: 'Wait', data: '3' });
    // A failed click-to-call has no Cdr at all.
    expect(only(load('f3_click_to_call_noanswer_with_channelid').events, 'Cdr')).toHaveLength(0);
  });

  it("the Originate's DialBegin has only Dest* fields", () => {
    const [first] = only(load('f3_click_to_call_noanswer_with_channelid').events, 'DialBegin');
    expect(first!.channel).toBeUndefined();
    expect(first!.uniqueid).toBeUndefined();
    expect(first).toMatchObject({ destUniqueid: 'crm-c2c-0005', destLinkedid: 'crm-c2c-0005', dialString: '201@fake-phones' });
  });

  it('DialEnd statuses ANSWER, NOANSWER, BUSY, CANCEL; RINGING only in DialState', () => {
    const all = sessions.flatMap((s) => load(s).events);
    expect(new Set(only(all, 'DialEnd').map((e) => e.dialStatus))).toEqual(new Set(['ANSWER', 'NOANSWER', 'BUSY', 'CANCEL']));
    expect(new Set(only(all, 'DialState').map((e) => e.dialStatus))).toEqual(new Set(['RINGING']));
    const g = only(load('g_caller_hangs_up_while_ringing').events, 'DialEnd');
    expect(g.find((e) => e.dialStatus === 'CANCEL')).toMatchObject({ destChannel: 'Local/201@fake-phones-00000017;1', uniqueid: '1795348963.45' });
  });

  it('MixMonitor: file name from Newexten AppData and VarSet, none on MixMonitorStart', () => {
    const { events } = load('a_inbound_answered');
    const [start] = only(events, 'MixMonitorStart');
    const [exten] = only(events, 'Newexten');
    const [v] = only(events, 'VarSet').filter((e) => e.variable === 'MIXMONITOR_FILENAME');
    expect(exten).toMatchObject({ uniqueid: start!.uniqueid, fileName: '/var/spool/asterisk/monitor/1795348783.3.wav' });
    expect(v!.value).toBe(exten!.fileName);
    expect(only(events, 'MixMonitorStop')).toHaveLength(0);
  });

  it('Hangup cause is a number; systemname prefixes stay in the ids', () => {
    const causes = new Set(sessions.flatMap((s) => only(load(s).events, 'Hangup').map((h) => h.cause)));
    expect(causes).toEqual(new Set([0, 16, 17, 19]));
    const sys = load('with-systemname/a_inbound_answered').events;
    for (const e of only(sys, 'Newchannel')) expect(e.uniqueid).toMatch(/^crm-test-pbx-\d+\.\d+$/);
  });
});

describe('input shapes', () => {
  it('accepts asterisk-manager output: lowercased keys, Variable as object, repeated keys as arrays', () => {
    expect(toAmiEvent({ event: 'VarSet', channel: 'PJSIP/1-1', uniqueid: 'u', linkedid: 'l', variable: { DIALSTATUS: '' }, value: 'BUSY' }))
      .toMatchObject({ event: 'VarSet', variable: 'DIALSTATUS', value: 'BUSY', uniqueid: 'u' });
    expect(toAmiEvent({ event: 'Hangup', uniqueid: ['a', 'b'], cause: '16', 'cause-txt': 'Normal Clearing' }))
      .toMatchObject({ uniqueid: 'b', cause: 16, causeTxt: 'Normal Clearing' });
  });

  it('drops what the service does not use, cheaply', () => {
    expect(toAmiEvent({ Event: 'VarSet', Variable: '~HASH~route~dial~', Value: 'x' })).toBeNull();
    expect(toAmiEvent({ Event: 'Newexten', Application: 'Set', AppData: 'x=1' })).toBeNull();
    expect(toAmiEvent({ Event: 'NewCallerid' })).toBeNull();
    expect(toAmiEvent({ Response: 'Success', ActionID: '1' })).toBeNull();
    expect(toAmiEvent({ EVENT: 'DeviceStateChange', DEVICE: 'PJSIP/101', STATE: 'INUSE' }))
      .toEqual({ event: 'DeviceStateChange', device: 'PJSIP/101', state: 'INUSE' });
  });

  it('transfers and hold, as Asterisk formats them (main/stasis_bridges.c)', () => {
    const snap = (p: string, id: string) => ({ [`${p}Channel`]: `PJSIP/${id}`, [`${p}Uniqueid`]: id, [`${p}Linkedid`]: 'L' });
    expect(toAmiEvent({ Event: 'BlindTransfer', Result: 'Success', ...snap('Transferer', 't'), ...snap('Transferee', 'e'),
      BridgeUniqueid: 'b1', IsExternal: 'No', Context: 'sales', Extension: '102' }))
      .toMatchObject({ event: 'BlindTransfer', transfererUniqueid: 't', transfereeUniqueid: 'e', bridgeUniqueid: 'b1', isExternal: false, extension: '102' });
    expect(toAmiEvent({ Event: 'AttendedTransfer', Result: 'Success', ...snap('OrigTransferer', 'o'), OrigBridgeUniqueid: 'b1',
      ...snap('SecondTransferer', 's'), IsExternal: 'Yes', DestType: 'Bridge', DestBridgeUniqueid: 'b2' }))
      .toMatchObject({ origTransfererUniqueid: 'o', secondTransfererUniqueid: 's', origBridgeUniqueid: 'b1', destType: 'Bridge', destBridgeUniqueid: 'b2', isExternal: true });
    expect(toAmiEvent({ Event: 'Hold', ...snap('', 'h'), MusicClass: 'default' })).toMatchObject({ event: 'Hold', uniqueid: 'h', musicClass: 'default' });
  });
});
