import { serializeAmi } from '../../src/pbx/ami-frame.js';

// One inbound call as a production Asterisk with PJSIP reports it over AMI: the field layout of
// /work/shared/ami-transcripts/a_inbound_answered.ami (Asterisk 22), with the recording's Local
// "phones" replaced by PJSIP channel names (`PJSIP/1234-000000ab`, DEVICE_DIAL_TEMPLATE =
// `PJSIP/{extension}`) and the trunk as `PJSIP/trunk-…`. Unique ids per call, `<epoch>.<seq>`
// as Asterisk writes them. Only what the service subscribes to in practice is sent; the
// Newexten/VarSet chatter the transcripts show (about half the traffic) is represented by a
// few such events per call, so the AMI handler parses what it would parse in production.

export interface CallSpec {
  /** Caller number as the trunk sends it (no +). */
  caller: string;
  did: string;
  extension: string;
}

export interface CallBytes {
  linkedid: string;
  /** Trunk channel appears and runs the inbound dialplan (before the route answer). */
  arrive: Buffer;
  /** The user's device channel is created and dialled: the pop's trigger is this DialBegin. */
  dial: Buffer;
  /** The device answers (DialEnd ANSWER + both legs in a bridge). */
  answer: Buffer;
  /** Both legs hang up: the call ends (tracker and pipeline forget it later). */
  hangup: Buffer;
}

const EPOCH = Math.floor(Date.now() / 1000);
let seq = 0;
let channelSeq = 0x100;

const hex8 = (n: number) => n.toString(16).padStart(8, '0');
type Pairs = Array<[string, string]>;

function snapshot(prefix: '' | 'Dest', ch: { channel: string; state: string; stateDesc: string; cidNum: string; cidName: string; connNum: string; connName: string; context: string; exten: string; priority: string; uniqueid: string; linkedid: string }): Pairs {
  return [
    [`${prefix}Channel`, ch.channel],
    [`${prefix}ChannelState`, ch.state],
    [`${prefix}ChannelStateDesc`, ch.stateDesc],
    [`${prefix}CallerIDNum`, ch.cidNum],
    [`${prefix}CallerIDName`, ch.cidName],
    [`${prefix}ConnectedLineNum`, ch.connNum],
    [`${prefix}ConnectedLineName`, ch.connName],
    [`${prefix}Language`, 'en'],
    [`${prefix}AccountCode`, ''],
    [`${prefix}Context`, ch.context],
    [`${prefix}Exten`, ch.exten],
    [`${prefix}Priority`, ch.priority],
    [`${prefix}Uniqueid`, ch.uniqueid],
    [`${prefix}Linkedid`, ch.linkedid],
  ];
}

const DIALPLAN_EVENTS = new Set(['Newexten', 'VarSet']);
const event = (name: string, ...parts: Pairs[]): string =>
  serializeAmi([['Event', name], ['Privilege', DIALPLAN_EVENTS.has(name) ? 'dialplan,all' : 'call,all'], ...parts.flat()]);

export function inboundCall(spec: CallSpec): CallBytes {
  const linkedid = `${EPOCH}.${++seq}`;
  const deviceUniqueid = `${EPOCH}.${++seq}`;
  const trunk = `PJSIP/trunk-${hex8(++channelSeq)}`;
  const device = `PJSIP/${spec.extension}-${hex8(++channelSeq)}`;
  const bridge = `bench-bridge-${linkedid}`;

  const trunkAt = (priority: string, state = '4', stateDesc = 'Ring') => ({
    channel: trunk, state, stateDesc, cidNum: spec.caller, cidName: spec.caller, connNum: '<unknown>', connName: '<unknown>',
    context: 'switchboard-inbound', exten: spec.did, priority, uniqueid: linkedid, linkedid,
  });
  const deviceAt = (state: string, stateDesc: string) => ({
    channel: device, state, stateDesc, cidNum: spec.did, cidName: '<unknown>', connNum: spec.caller, connName: spec.caller,
    context: 'from-internal', exten: spec.extension, priority: '1', uniqueid: deviceUniqueid, linkedid,
  });
  const newexten = (priority: string, app: string, appData: string) =>
    event('Newexten', snapshot('', trunkAt(priority)), [['Extension', spec.did], ['Application', app], ['AppData', appData]]);

  const arrive = [
    event('Newchannel', snapshot('', { ...trunkAt('1', '4', 'Ring'), cidName: '<unknown>' })),
    newexten('1', 'NoOp', `inbound ${spec.caller} -> ${spec.did}`),
    newexten('2', 'Set', 'CURLOPT(hashcompat)=yes'),
    event('VarSet', snapshot('', trunkAt('3')), [['Variable', 'SB_STEP'], ['Value', '1']]),
    newexten('4', 'Set', 'SB1=${CURL(http://127.0.0.1/pbx/route?step=1)}'),
  ].join('');

  const dial = [
    event('Newchannel', snapshot('', { ...deviceAt('0', 'Down'), cidNum: '<unknown>', cidName: '<unknown>', connNum: '<unknown>', connName: '<unknown>' })),
    event('DialBegin', snapshot('', trunkAt('7')), snapshot('Dest', deviceAt('0', 'Down')), [['DialString', spec.extension]]),
  ].join('');

  const answer = [
    event('Newstate', snapshot('', deviceAt('6', 'Up'))),
    event('DialEnd', snapshot('', trunkAt('7')), snapshot('Dest', deviceAt('6', 'Up')), [['DialStatus', 'ANSWER']]),
    event('BridgeEnter', [['BridgeUniqueid', bridge], ['BridgeType', 'basic'], ['BridgeTechnology', 'simple_bridge'], ['BridgeCreator', '<unknown>'], ['BridgeName', '<unknown>'], ['BridgeNumChannels', '1'], ['BridgeVideoSourceMode', 'none']], snapshot('', deviceAt('6', 'Up'))),
    event('BridgeEnter', [['BridgeUniqueid', bridge], ['BridgeType', 'basic'], ['BridgeTechnology', 'simple_bridge'], ['BridgeCreator', '<unknown>'], ['BridgeName', '<unknown>'], ['BridgeNumChannels', '2'], ['BridgeVideoSourceMode', 'none']], snapshot('', trunkAt('7', '6', 'Up'))),
  ].join('');

  const hangup = [
    event('BridgeLeave', [['BridgeUniqueid', bridge], ['BridgeType', 'basic'], ['BridgeTechnology', 'simple_bridge'], ['BridgeCreator', '<unknown>'], ['BridgeName', '<unknown>'], ['BridgeNumChannels', '1'], ['BridgeVideoSourceMode', 'none']], snapshot('', deviceAt('6', 'Up'))),
    event('Hangup', snapshot('', deviceAt('6', 'Up')), [['Cause', '16'], ['Cause-txt', 'Normal Clearing']]),
    event('BridgeLeave', [['BridgeUniqueid', bridge], ['BridgeType', 'basic'], ['BridgeTechnology', 'simple_bridge'], ['BridgeCreator', '<unknown>'], ['BridgeName', '<unknown>'], ['BridgeNumChannels', '0'], ['BridgeVideoSourceMode', 'none']], snapshot('', trunkAt('7', '6', 'Up'))),
    event('Hangup', snapshot('', trunkAt('7', '6', 'Up')), [['Cause', '16'], ['Cause-txt', 'Normal Clearing']]),
  ].join('');

  return {
    linkedid,
    arrive: Buffer.from(arrive, 'latin1'),
    dial: Buffer.from(dial, 'latin1'),
    answer: Buffer.from(answer, 'latin1'),
    hangup: Buffer.from(hangup, 'latin1'),
  };
}
