// Typed AMI events, converted once at the edge from a raw AMI message.
// Field semantics follow ../shared/ami-transcripts (real Asterisk 22). Notes that matter:
// - Uniqueid/Linkedid are strings, never numbers (`systemname-` prefix, or a ChannelId we chose).
// - Asterisk writes `<unknown>` for an empty caller id; it is kept as is (see `isUnknown`).
// - Header names are matched case-insensitively: `asterisk-manager` lowercases them, the raw
//   wire (ami-frame) does not, and the Cdr event spells `UniqueID` where others say `Uniqueid`.

/** A raw AMI message: header → value. `unknown` because asterisk-manager may hand over arrays
 *  (repeated headers) or an object for `Variable`; `coerce` below normalises both. */
export type RawAmiMessage = Readonly<Record<string, unknown>>;

export interface ChannelSnapshot {
  channel: string;
  /** 0 Down, 4 Ring, 5 Ringing, 6 Up … with the text in channelStateDesc. */
  channelState: number;
  channelStateDesc: string;
  callerIdNum: string;
  callerIdName: string;
  connectedLineNum: string;
  connectedLineName: string;
  accountCode: string;
  context: string;
  exten: string;
  priority: number;
  uniqueid: string;
  /** Uniqueid of the call's first channel, shared by every leg. */
  linkedid: string;
}

/** The same snapshot with every key prefixed, as AMI does for `Dest*`, `LocalOne*`, `Transferer*`. */
export type Prefixed<P extends string, T = ChannelSnapshot> = {
  [K in keyof T & string as `${P}${Capitalize<K>}`]: T[K];
};
export type DestSnapshot = Prefixed<'dest'>;

export interface BridgeSnapshot {
  bridgeUniqueid: string; bridgeType: string; bridgeTechnology: string;
  bridgeCreator: string; bridgeName: string; bridgeNumChannels: number;
}

type Ev<N extends string, T = unknown> = { event: N } & T;

export type NewchannelEvent = Ev<'Newchannel', ChannelSnapshot>;
export type NewstateEvent = Ev<'Newstate', ChannelSnapshot>;
// The Originate's own DialBegin/DialState/DialEnd have only Dest* fields: the source is optional.
export type DialBeginEvent = Ev<'DialBegin', Partial<ChannelSnapshot> & DestSnapshot & { dialString: string }>;
export type DialStateEvent = Ev<'DialState', Partial<ChannelSnapshot> & DestSnapshot & { dialStatus: string; forward?: string }>;
/** dialStatus seen: ANSWER, NOANSWER, BUSY, CANCEL (RINGING only in DialState). */
export type DialEndEvent = Ev<'DialEnd', Partial<ChannelSnapshot> & DestSnapshot & { dialStatus: string; forward?: string }>;
export type BridgeEnterEvent = Ev<'BridgeEnter', ChannelSnapshot & BridgeSnapshot & { swapUniqueid?: string }>;
export type BridgeLeaveEvent = Ev<'BridgeLeave', ChannelSnapshot & BridgeSnapshot>;
/** cause: Q.850 (16 normal, 17 busy, 19 no answer, 0 unknown for torn-down Local legs). */
export type HangupEvent = Ev<'Hangup', ChannelSnapshot & { cause: number; causeTxt: string }>;

/** One per Dial() attempt, may precede the channel's Hangup, carries no Linkedid by default. */
export type CdrEvent = Ev<'Cdr', {
  accountCode: string; source: string; destination: string; destinationContext: string;
  callerId: string; channel: string; destinationChannel: string;
  lastApplication: string; lastData: string;
  /** PBX local time `YYYY-MM-DD HH:MM:SS`, no zone; answerTime is '' when not answered. */
  startTime: string; answerTime: string; endTime: string;
  duration: number; billableSeconds: number;
  /** ANSWERED | NO ANSWER | BUSY | FAILED | CONGESTION */
  disposition: string;
  amaFlags: string;
  uniqueid: string;
  /** Only when cdr_manager mappings add it; absent on a stock Asterisk. */
  linkedid?: string;
  userField: string;
}>;

/** Has no file name: that comes from VarSet MIXMONITOR_FILENAME or Newexten AppData. */
export type MixMonitorStartEvent = Ev<'MixMonitorStart', ChannelSnapshot>;
/** Only for StopMixMonitor; never sent at hang-up. */
export type MixMonitorStopEvent = Ev<'MixMonitorStop', ChannelSnapshot>;

export const KEPT_VARIABLES: ReadonlySet<string> = new Set([
  'MIXMONITOR_FILENAME', 'DIALSTATUS', 'DIALEDPEERNAME', 'ANSWEREDTIME', 'RINGTIME',
  // Set by our click-to-call Originate: ties the call to the click (call-end.ts reads them).
  'SWITCHBOARD_CALL_ID', 'CRM_CALL_ID',
  // Set on the consultation leg of an attended transfer, which has no DialBegin (call-transfer.ts).
  'ATTENDEDTRANSFER',
]);
export type VarSetEvent = Ev<'VarSet', ChannelSnapshot & { variable: string; value: string }>;
/** Kept only for Application MixMonitor; fileName is AppData up to the first comma (options follow). */
export type NewextenEvent = Ev<'Newexten', ChannelSnapshot & {
  extension: string; application: 'MixMonitor'; appData: string; fileName: string;
}>;

/** reason: 4 answered, 0 far side hung up, 3 Originate timeout, 5 busy, 8 congestion.
 *  uniqueid is `<unknown>` on failure unless ChannelId was given in the Originate. */
export type OriginateResponseEvent = Ev<'OriginateResponse', {
  actionId: string;
  response: 'Success' | 'Failure';
  channel: string;
  /** context/exten or application/data, as in the Originate. */
  context?: string; exten?: string; application?: string; data?: string;
  reason: number;
  uniqueid: string;
  callerIdNum: string; callerIdName: string;
}>;

/** state: UNKNOWN | NOT_INUSE | INUSE | BUSY | INVALID | UNAVAILABLE | RINGING | RINGINUSE | ONHOLD */
export type DeviceStateChangeEvent = Ev<'DeviceStateChange', { device: string; state: string }>;
export type LocalBridgeEvent = Ev<'LocalBridge', Prefixed<'localOne'> & Prefixed<'localTwo'> & {
  context: string; exten: string; localOptimization: boolean;
}>;

/** result: Fail | Invalid | Not Permitted | Success. Transferee and the bridge are optional. */
export type BlindTransferEvent = Ev<'BlindTransfer', Prefixed<'transferer'> & Partial<Prefixed<'transferee'>> &
  Partial<BridgeSnapshot> & { result: string; isExternal: boolean; context: string; extension: string }>;
/** destType: Bridge | App | Link | Threeway | Fail (main/stasis_bridges.c). Transferee and
 *  target snapshots and both bridges are optional; LocalOne/LocalTwo (Link) are not kept. */
export type AttendedTransferEvent = Ev<'AttendedTransfer', Prefixed<'origTransferer'> &
  Prefixed<'secondTransferer'> & Partial<Prefixed<'transferee'>> & Partial<Prefixed<'transferTarget'>> & {
    result: string;
    isExternal: boolean;
    origBridgeUniqueid?: string; secondBridgeUniqueid?: string;
    destType: string;
    destBridgeUniqueid?: string; destApp?: string; destTransfererChannel?: string;
  }>;
export type HoldEvent = Ev<'Hold', ChannelSnapshot & { musicClass?: string }>;
export type UnholdEvent = Ev<'Unhold', ChannelSnapshot>;
export type FullyBootedEvent = Ev<'FullyBooted', { status: string }>;

export type AmiEvent =
  | NewchannelEvent | NewstateEvent | DialBeginEvent | DialStateEvent | DialEndEvent
  | BridgeEnterEvent | BridgeLeaveEvent | HangupEvent | CdrEvent
  | MixMonitorStartEvent | MixMonitorStopEvent | VarSetEvent | NewextenEvent
  | OriginateResponseEvent | DeviceStateChangeEvent | LocalBridgeEvent
  | BlindTransferEvent | AttendedTransferEvent | HoldEvent | UnholdEvent | FullyBootedEvent;
export type AmiEventName = AmiEvent['event'];

/** Asterisk's placeholder for an empty caller id / an Originate failure without a channel. */
export function isUnknown(v: string | undefined): boolean {
  return v === undefined || v === '' || v === '<unknown>';
}

type Lc = Record<string, unknown>;

// Repeated headers: keep the last. asterisk-manager turns `Variable: NAME` (no `=`) into
// `{ NAME: '' }`, so for an object the first key is the header's value.
function coerce(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length ? coerce(v[v.length - 1]) : undefined;
  if (typeof v === 'object') return Object.keys(v as object)[0];
  return String(v);
}

function lowerKeys(raw: RawAmiMessage): Lc {
  const out: Lc = {};
  for (const k of Object.keys(raw)) out[k.toLowerCase()] = raw[k];
  return out;
}

const str = (r: Lc, k: string): string => coerce(r[k]) ?? '';
const opt = (r: Lc, k: string): string | undefined => coerce(r[k]);
const int = (r: Lc, k: string): number => {
  const v = coerce(r[k]);
  return v === undefined || v === '' ? Number.NaN : Number.parseInt(v, 10);
};
const yes = (v: string | undefined): boolean => v !== undefined && /^(yes|true|1)$/i.test(v);

const SNAPSHOT_FIELDS: ReadonlyArray<[keyof ChannelSnapshot, string, 'n'?]> = [
  ['channel', 'channel'], ['channelState', 'channelstate', 'n'], ['channelStateDesc', 'channelstatedesc'],
  ['callerIdNum', 'calleridnum'], ['callerIdName', 'calleridname'],
  ['connectedLineNum', 'connectedlinenum'], ['connectedLineName', 'connectedlinename'],
  ['accountCode', 'accountcode'], ['context', 'context'], ['exten', 'exten'],
  ['priority', 'priority', 'n'], ['uniqueid', 'uniqueid'], ['linkedid', 'linkedid'],
];

/** Snapshot under a wire prefix ('' | 'dest' | 'localone' …), output keys prefixed in camelCase. */
function snapshot(r: Lc, wirePrefix: string, outPrefix: string): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, wire, kind] of SNAPSHOT_FIELDS) {
    const key = outPrefix ? outPrefix + name[0]!.toUpperCase() + name.slice(1) : name;
    out[key] = kind === 'n' ? int(r, wirePrefix + wire) : str(r, wirePrefix + wire);
  }
  return out;
}
const base = (r: Lc): ChannelSnapshot => snapshot(r, '', '') as unknown as ChannelSnapshot;
const pre = <P extends string>(r: Lc, wire: string, p: P): Prefixed<P> =>
  snapshot(r, wire, p) as unknown as Prefixed<P>;
// A snapshot the event may lack altogether (source of the Originate's Dial*, transfer legs).
const maybe = <T>(r: Lc, wire: string, make: () => T): Partial<T> =>
  r[wire + 'channel'] !== undefined ? make() : {};

const bridge = (r: Lc): BridgeSnapshot => ({
  bridgeUniqueid: str(r, 'bridgeuniqueid'), bridgeType: str(r, 'bridgetype'),
  bridgeTechnology: str(r, 'bridgetechnology'), bridgeCreator: str(r, 'bridgecreator'),
  bridgeName: str(r, 'bridgename'), bridgeNumChannels: int(r, 'bridgenumchannels'),
});

function get(raw: RawAmiMessage, lower: string, cap: string): string | undefined {
  return coerce(raw[lower] ?? raw[cap]);
}

/** Optional headers, copied only when present: [output key, lowercased wire name]. */
function some<K extends string>(r: Lc, ...pairs: ReadonlyArray<readonly [K, string]>): { [P in K]?: string } {
  const out: { [P in K]?: string } = {};
  for (const [k, wire] of pairs) {
    const v = opt(r, wire);
    if (v !== undefined && v !== '') out[k] = v;
  }
  return out;
}

/** Convert a raw message to a typed event, or null for anything the service does not use.
 *  Cheap on the hot path: VarSet/Newexten (half of all traffic) are rejected before any copy. */
export function toAmiEvent(raw: RawAmiMessage): AmiEvent | null {
  if (typeof raw !== 'object' || raw === null) return null;
  let name = get(raw, 'event', 'Event');
  if (name === 'VarSet') {
    const variable = get(raw, 'variable', 'Variable');
    if (variable !== undefined && !KEPT_VARIABLES.has(variable)) return null;
  } else if (name === 'Newexten') {
    const app = get(raw, 'application', 'Application');
    if (app !== undefined && app.toLowerCase() !== 'mixmonitor') return null;
  }
  const r: Lc = name !== undefined && 'event' in raw ? (raw as Lc) : lowerKeys(raw);
  name ??= opt(r, 'event');
  switch (name) {
    case 'Newchannel':
    case 'Newstate':
    case 'MixMonitorStart':
    case 'MixMonitorStop':
    case 'Unhold':
      return { event: name, ...base(r) };
    case 'DialBegin':
      return { event: name, ...maybe(r, '', () => base(r)), ...pre(r, 'dest', 'dest'), dialString: str(r, 'dialstring') };
    case 'DialState':
    case 'DialEnd':
      return {
        event: name, ...maybe(r, '', () => base(r)), ...pre(r, 'dest', 'dest'),
        dialStatus: str(r, 'dialstatus'), ...some(r, ['forward', 'forward']),
      };
    case 'BridgeEnter':
      return { event: name, ...base(r), ...bridge(r), ...some(r, ['swapUniqueid', 'swapuniqueid']) };
    case 'BridgeLeave':
      return { event: name, ...base(r), ...bridge(r) };
    case 'Hangup':
      return { event: name, ...base(r), cause: int(r, 'cause'), causeTxt: str(r, 'cause-txt') };
    case 'Cdr':
      return cdr(r);
    case 'VarSet': {
      const variable = str(r, 'variable');
      if (!KEPT_VARIABLES.has(variable)) return null;
      return { event: name, ...base(r), variable, value: str(r, 'value') };
    }
    case 'Newexten': {
      if (str(r, 'application').toLowerCase() !== 'mixmonitor') return null;
      const appData = str(r, 'appdata');
      const comma = appData.indexOf(',');
      return {
        event: name, ...base(r), extension: str(r, 'extension'), application: 'MixMonitor',
        appData, fileName: comma === -1 ? appData : appData.slice(0, comma),
      };
    }
    case 'OriginateResponse':
      return {
        event: name, actionId: str(r, 'actionid'),
        response: str(r, 'response') === 'Success' ? 'Success' : 'Failure',
        channel: str(r, 'channel'), reason: int(r, 'reason'), uniqueid: str(r, 'uniqueid'),
        callerIdNum: str(r, 'calleridnum'), callerIdName: str(r, 'calleridname'),
        ...some(r, ['context', 'context'], ['exten', 'exten'], ['application', 'application'], ['data', 'data']),
      };
    case 'DeviceStateChange':
      return { event: name, device: str(r, 'device'), state: str(r, 'state') };
    case 'LocalBridge':
      return {
        event: name, ...pre(r, 'localone', 'localOne'), ...pre(r, 'localtwo', 'localTwo'),
        context: str(r, 'context'), exten: str(r, 'exten'), localOptimization: yes(opt(r, 'localoptimization')),
      };
    case 'BlindTransfer':
      return {
        event: name, ...pre(r, 'transferer', 'transferer'),
        ...maybe(r, 'transferee', () => pre(r, 'transferee', 'transferee')),
        ...(r['bridgeuniqueid'] !== undefined ? bridge(r) : {}),
        result: str(r, 'result'), isExternal: yes(opt(r, 'isexternal')),
        context: str(r, 'context'), extension: str(r, 'extension'),
      };
    case 'AttendedTransfer':
      return {
        event: name,
        ...pre(r, 'origtransferer', 'origTransferer'), ...pre(r, 'secondtransferer', 'secondTransferer'),
        ...maybe(r, 'transferee', () => pre(r, 'transferee', 'transferee')),
        ...maybe(r, 'transfertarget', () => pre(r, 'transfertarget', 'transferTarget')),
        result: str(r, 'result'), isExternal: yes(opt(r, 'isexternal')), destType: str(r, 'desttype'),
        ...some(r, ['origBridgeUniqueid', 'origbridgeuniqueid'], ['secondBridgeUniqueid', 'secondbridgeuniqueid'],
          ['destBridgeUniqueid', 'destbridgeuniqueid'], ['destApp', 'destapp'],
          ['destTransfererChannel', 'desttransfererchannel']),
      };
    case 'Hold':
      return { event: name, ...base(r), ...some(r, ['musicClass', 'musicclass']) };
    case 'FullyBooted':
      return { event: name, status: str(r, 'status') };
    default:
      return null;
  }
}

function cdr(r: Lc): CdrEvent {
  return {
    event: 'Cdr',
    accountCode: str(r, 'accountcode'), source: str(r, 'source'), destination: str(r, 'destination'),
    destinationContext: str(r, 'destinationcontext'), callerId: str(r, 'callerid'),
    channel: str(r, 'channel'), destinationChannel: str(r, 'destinationchannel'),
    lastApplication: str(r, 'lastapplication'), lastData: str(r, 'lastdata'),
    startTime: str(r, 'starttime'), answerTime: str(r, 'answertime'), endTime: str(r, 'endtime'),
    duration: int(r, 'duration'), billableSeconds: int(r, 'billableseconds'),
    disposition: str(r, 'disposition'), amaFlags: str(r, 'amaflags'),
    uniqueid: str(r, 'uniqueid'), ...some(r, ['linkedid', 'linkedid']), userField: str(r, 'userfield'),
  };
}
