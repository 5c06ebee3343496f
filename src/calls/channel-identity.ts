// Who is on a channel, from its name alone. Asterisk names a channel after the dial string that
// created it plus a sequence suffix: Dial(PJSIP/101) → `PJSIP/101-0000000a`,
// Dial(Local/101@fake-phones) → `Local/101@fake-phones-00000010;1` (and its `;2` half).
// The configured DEVICE_DIAL_TEMPLATE is what the router dials for a user's phone, so the same
// template read backwards finds the user's extension. No technology is assumed.

export interface ChannelIdentityConfig {
  /** DEVICE_DIAL_TEMPLATE, e.g. `PJSIP/{extension}` or `Local/{extension}@fake-phones`. */
  deviceDialTemplate: string;
  /** Contexts where calls from the trunk start (the first channel's context, or the dialplan's). */
  inboundContexts?: readonly string[];
  /** Contexts a click-to-call / outgoing call continues in after the user's device answers. */
  outboundContexts?: readonly string[];
  /** Digit strings longer than this are external numbers (a customer's mobile), default 6. */
  maxExtensionLength?: number;
  /** When given (e.g. the users' extensions), decides instead of the length rule. */
  isExtension?: (value: string) => boolean;
}

export type ChannelKind =
  /** A user's device. For a Local template only the `;1` half is the device. */
  | { kind: 'device'; extension: string }
  /** An outside number reached through the device template (or a Local route) or a trunk. */
  | { kind: 'external'; number: string | null }
  /** The `;2` half of a Local channel: dialplan running on the PBX, nobody's phone. */
  | { kind: 'local-half' }
  /** Any other Local channel (dialplan plumbing), or a name we cannot place. */
  | { kind: 'pbx' };

export interface ChannelIdentity {
  /** The extension of a user's device channel, else null (external numbers are not extensions). */
  deviceExtension(channel: string): string | null;
  classify(channel: string): ChannelKind;
  /** The extension when `Extension@Context` is a user's phone itself, i.e. the device template
   *  is `Local/{extension}@<context>` (a blind transfer there sends the caller's own channel
   *  into the phone's dialplan); else null. */
  deviceAt(extension: string, context: string): string | null;
  /** 'extension' for short digit strings (users have 2–10 digit extensions), 'external' for
   *  longer ones, 'unknown' for anything else (a trunk endpoint's name). */
  classifyNumber(value: string): 'extension' | 'external' | 'unknown';
  /** The leading phone number of a Dial() string such as `79161234567@trunk`, else null. */
  numberFromDialString(dialString: string): string | null;
  isInboundContext(context: string): boolean;
  isOutboundContext(context: string): boolean;
}

export const DEFAULT_INBOUND_CONTEXTS: readonly string[] = ['switchboard-inbound', 'from-pstn'];
export const DEFAULT_OUTBOUND_CONTEXTS: readonly string[] = ['switchboard-outbound', 'click-to-call'];
const DEFAULT_MAX_EXTENSION_LENGTH = 6;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const PLACEHOLDER = '{extension}';

/** Channel-name pattern for a dial template: `Tech/<resource>-<hex>[;1|;2]`. Only the part of the
 *  resource before a `/` (dial options, a SIP URI) ends up in the channel name. */
function templatePattern(template: string): RegExp {
  const slash = template.indexOf('/');
  if (slash <= 0) throw new Error(`device dial template "${template}" has no technology (Tech/resource)`);
  const tech = template.slice(0, slash);
  let resource = template.slice(slash + 1);
  const cut = resource.indexOf('/');
  if (cut !== -1) resource = resource.slice(0, cut);
  const at = resource.indexOf(PLACEHOLDER);
  if (at === -1) {
    throw new Error(`device dial template "${template}": {extension} must be in the part Asterisk keeps in the channel name`);
  }
  const before = escapeRe(resource.slice(0, at));
  const after = escapeRe(resource.slice(at + PLACEHOLDER.length));
  // Non-greedy extension, anchored suffix: `PJSIP/ab-cd-0000000a` still yields `ab-cd`.
  return new RegExp(`^${escapeRe(tech)}/${before}([^/@;]+?)${after}-[0-9a-fA-F]+(;[12])?$`, 'i');
}

const LOCAL = /^Local\/([^@/]+)@[^;]*-[0-9a-fA-F]+;([12])$/i;
const DIGITS = /^\+?\d+$/;

export function createChannelIdentity(config: ChannelIdentityConfig): ChannelIdentity {
  const device = templatePattern(config.deviceDialTemplate);
  const inbound = new Set(config.inboundContexts ?? DEFAULT_INBOUND_CONTEXTS);
  const outbound = new Set(config.outboundContexts ?? DEFAULT_OUTBOUND_CONTEXTS);
  const maxExt = config.maxExtensionLength ?? DEFAULT_MAX_EXTENSION_LENGTH;
  // Every AMI event of a call asks about the same handful of channels: remember the answers.
  const cache = new Map<string, ChannelKind>();

  const classifyNumber = (value: string): 'extension' | 'external' | 'unknown' => {
    if (!DIGITS.test(value)) return 'unknown';
    if (config.isExtension) return config.isExtension(value) ? 'extension' : 'external';
    return value.startsWith('+') || value.length > maxExt ? 'external' : 'extension';
  };

  const compute = (channel: string): ChannelKind => {
    const m = device.exec(channel);
    if (m && m[2] !== ';2') {
      const ext = m[1]!;
      const cls = classifyNumber(ext);
      if (cls === 'extension') return { kind: 'device', extension: ext };
      if (cls === 'external') return { kind: 'external', number: ext };
      // A name, not a number: `PJSIP/{extension}` also fits the trunk (`PJSIP/trunk-…`).
    }
    const local = LOCAL.exec(channel);
    if (local) {
      if (local[2] === '2') return { kind: 'local-half' };
      const exten = local[1]!;
      return classifyNumber(exten) === 'external' ? { kind: 'external', number: exten } : { kind: 'pbx' };
    }
    // A non-Local channel that is not a user's device is a trunk: the number is not in its name.
    return /^[A-Za-z0-9_]+\/.+-[0-9a-fA-F]+$/.test(channel) ? { kind: 'external', number: null } : { kind: 'pbx' };
  };

  const classify = (channel: string): ChannelKind => {
    let kind = cache.get(channel);
    if (kind === undefined) {
      kind = compute(channel);
      if (cache.size >= 10_000) cache.clear();
      cache.set(channel, kind);
    }
    return kind;
  };

  return {
    classify,
    classifyNumber,
    deviceExtension(channel) {
      const k = classify(channel);
      return k.kind === 'device' ? k.extension : null;
    },
    deviceAt(extension, context) {
      if (!extension || !context) return null;
      const k = compute(`Local/${extension}@${context}-00000000;1`);
      return k.kind === 'device' ? k.extension : null;
    },
    numberFromDialString(dialString) {
      const m = /^(\+?\d+)(?:[@/]|$)/.exec(dialString) ?? /sip:(\+?\d+)@/.exec(dialString);
      return m ? m[1]! : null;
    },
    isInboundContext: (context) => inbound.has(context),
    isOutboundContext: (context) => outbound.has(context),
  };
}

/** The identity the service uses, from the validated configuration. */
export function identityFromConfig(
  config: { DEVICE_DIAL_TEMPLATE: string },
  extra: Omit<ChannelIdentityConfig, 'deviceDialTemplate'> = {},
): ChannelIdentity {
  return createChannelIdentity({ deviceDialTemplate: config.DEVICE_DIAL_TEMPLATE, ...extra });
}
