// The click-to-call Originate, built from plain data: who clicks (their extension), the number,
// the client it belongs to, the configuration. No I/O; everything the PBX will see is decided
// here and checked (buildOriginate validates every header) before a byte is sent.
//
// The PBX side (dialplan/switchboard.conf, [switchboard-outbound]): Asterisk rings the user's
// own device first (Channel); once answered, the channel continues in switchboard-outbound with
// Exten = the customer's digits, sets the company caller ID, starts MixMonitor and dials
// SWITCHBOARD_DIAL.
import type { Config } from '../config.js';
import { buildOriginate, type AmiFields } from '../pbx/actions.js';
import { parsePhone, type CountryCode } from '../phones/normalize.js';
import { fillTemplate } from '../routing/dial-templates.js';

export const OUTBOUND_CONTEXT = 'switchboard-outbound';
/** Pre-dial subroutine in dialplan/switchboard.conf that adds the auto-answer SIP header. */
export const AUTO_ANSWER_SUBROUTINE = 'switchboard-autoanswer,s,1';

export type ClickToCallConfig = Pick<
  Config,
  'DEVICE_DIAL_TEMPLATE' | 'OUTBOUND_DIAL_TEMPLATE' | 'OUTBOUND_CALLER_ID' | 'ORIGINATE_TIMEOUT_SECONDS' | 'AUTO_ANSWER_HEADER' | 'DEFAULT_REGION'
>;

export type Target = { ok: true; e164: string; digits: string } | { ok: false; error: string };

// What a person (or a `tel:` link) writes around the digits. Stricter than the importer's
// parser, which also takes tabs and line breaks from spreadsheet cells, and extensions written
// in words: a number to dial now is one line of digits and separators, nothing else.
const DIALLABLE = /^[0-9+()./\- \u00a0\u2010-\u2015\u2212]{1,40}$/u;

/**
 * The number to call, normalised to E.164, or why it is not one. Accepts what a `tel:` URI
 * carries (`tel:+7-916-123-45-67;phone-context=…`: the scheme and parameters are dropped).
 */
export function parseTarget(input: string, region: string): Target {
  let text = input.trim();
  if (/^tel:/i.test(text)) text = text.slice(4).split(';')[0] ?? '';
  if (!DIALLABLE.test(text)) {
    return { ok: false, error: `${JSON.stringify(input.slice(0, 40))} is not a phone number (only digits, spaces, +, ( ), . / and dashes are allowed)` };
  }
  const parsed = parsePhone(text, region as CountryCode);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  return { ok: true, e164: parsed.e164, digits: parsed.e164.slice(1) };
}

/**
 * A client's name as the manager's phone shows it: one line, no characters that CallerID
 * (`"name" <number>`) or an Originate variable would read as syntax (quotes, commas,
 * backslashes, angle brackets), at most 40 characters (phone displays are narrow).
 */
export function displayName(name: string | null | undefined): string {
  if (!name) return '';
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029",\\<>]/g, ' ').replace(/\s+/g, ' ').trim();
  return [...clean].slice(0, 40).join('').trim();
}

/** `Call-Info: answer-after=0` → name and value for the pre-dial subroutine, or why it cannot be. */
export function parseAutoAnswerHeader(header: string): { name: string; value: string } | null {
  if (header.trim() === '') return null;
  const m = /^([A-Za-z][A-Za-z0-9-]*)\s*:\s*(.+)$/.exec(header.trim());
  // The pair travels as Gosub arguments: ',' and parentheses would split them, '$', '{', '}' and
  // quotes are dialplan syntax.
  if (!m || /[\u0000-\u001f,()"'\\${}[\]]/.test(m[2]!)) {
    throw new Error(`AUTO_ANSWER_HEADER=${JSON.stringify(header)}: expected "Name: value" without commas, parentheses, quotes, $ or braces`);
  }
  return { name: m[1]!, value: m[2]!.trim() };
}

export interface ClickToCallInput {
  user: { id: number; extension: string };
  target: { e164: string; digits: string };
  client: { id: number; name: string } | null;
  /** Ours: SWITCHBOARD_CALL_ID, in the dialplan's log lines and the originate.failed frame. */
  callId: string;
  /** The first leg's Uniqueid, hence the call's Linkedid. */
  channelId: string;
}

export class ClickToCallError extends Error {}

/** The Originate's headers. Throws ClickToCallError when the user's device cannot be dialled. */
export function buildClickToCall(input: ClickToCallInput, config: ClickToCallConfig): AmiFields {
  const channel = fillTemplate(config.DEVICE_DIAL_TEMPLATE, { extension: input.user.extension });
  if (channel === null) throw new ClickToCallError(`extension ${JSON.stringify(input.user.extension)} cannot be dialled`);
  const dial = fillTemplate(config.OUTBOUND_DIAL_TEMPLATE, { number: input.target.digits, e164: input.target.e164 });
  if (dial === null) throw new Error(`OUTBOUND_DIAL_TEMPLATE ${JSON.stringify(config.OUTBOUND_DIAL_TEMPLATE)} gives no dial string`);
  const name = displayName(input.client?.name);
  const fields = buildOriginate({
    channel,
    context: OUTBOUND_CONTEXT,
    exten: input.target.digits,
    priority: 1,
    // What the manager's phone shows while it rings: who is about to be called.
    callerId: name ? `"${name}" <${input.target.digits}>` : input.target.digits,
    timeoutMs: config.ORIGINATE_TIMEOUT_SECONDS * 1000,
    channelId: input.channelId,
    variables: {
      SWITCHBOARD_CALL_ID: input.callId,
      SWITCHBOARD_USER_ID: String(input.user.id),
      SWITCHBOARD_CLIENT_NAME: name,
      SWITCHBOARD_DIAL: dial,
      SWITCHBOARD_CALLERID: config.OUTBOUND_CALLER_ID,
    },
  });
  const autoAnswer = parseAutoAnswerHeader(config.AUTO_ANSWER_HEADER);
  // An Originate variable cannot add a SIP header to the first leg: `PJSIP_HEADER(add,…)` has a
  // comma, which Originate splits variables on. PreDialGoSub (Asterisk 16+) runs a subroutine
  // on the new channel before its INVITE is sent, as Dial's b() does; the header travels as its
  // arguments because the hook may run before Originate's variables are set on the channel.
  return autoAnswer ? { ...fields, PreDialGoSub: `${AUTO_ANSWER_SUBROUTINE}(${autoAnswer.name},${autoAnswer.value})` } : fields;
}
