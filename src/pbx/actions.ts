// AMI action building and validation. Everything here runs before a byte reaches the socket.
import { randomBytes } from 'node:crypto';
import { AppError } from '../errors.js';

export type AmiErrorReason = 'down' | 'timeout' | 'invalid' | 'rejected';

/** down/timeout/rejected → 503 PBX_UNAVAILABLE (a click-to-call gets a clear answer);
 *  invalid → 400 VALIDATION. `response` is set when Asterisk answered `Response: Error`. */
export class AmiError extends AppError {
  constructor(
    readonly reason: AmiErrorReason,
    message: string,
    readonly response?: AmiResponse,
  ) {
    super(reason === 'invalid' ? 'VALIDATION' : 'PBX_UNAVAILABLE', message);
    this.name = 'AmiError';
  }
}

export interface AmiResponse {
  /** Success | Error | Goodbye (Logoff) | Follows (legacy Command) */
  response: string;
  actionId: string;
  message: string;
  /** Every header, names lowercased (as asterisk-manager delivers them). */
  fields: Record<string, string>;
}

/** A value is a string/number/boolean; an object becomes one `Key: name=value` line per entry
 *  (asterisk-manager's encoding, used for Originate's `Variable`). Arrays are refused: the
 *  package would join them with ',' which Asterisk then splits again. */
export type AmiFieldValue = string | number | boolean | Readonly<Record<string, string>> | undefined;
export type AmiFields = Readonly<Record<string, AmiFieldValue>>;

// Asterisk reads each header line into a 1025-byte buffer (manager.c, get_input) and drops
// longer lines with a warning: the action would run without that header.
const MAX_LINE_BYTES = 1024;
const HEADER_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const LINE_BREAK = /[\r\n\0]/;
// Originate splits every Variable header with AST_STANDARD_APP_ARGS (manager.c,
// man_do_variable_value): ',' separates variables, '"' and '\' are consumed as quoting.
const VARIABLE_UNSAFE = /[\r\n\0,"\\]/;
// Keys asterisk-manager owns: `actionid` is taken as the id and `action` is the verb.
const RESERVED = new Set(['action', 'actionid']);

function invalid(message: string): AmiError {
  return new AmiError('invalid', message);
}

function checkLine(key: string, value: string): void {
  if (LINE_BREAK.test(value)) throw invalid(`AMI header ${key}: value contains CR, LF or NUL`);
  if (Buffer.byteLength(key) + 2 + Buffer.byteLength(value) + 2 > MAX_LINE_BYTES) {
    throw invalid(`AMI header ${key}: line longer than ${MAX_LINE_BYTES} bytes`);
  }
}

/** Throws AmiError('invalid') unless the action can be written verbatim and read back as sent. */
export function validateAction(name: string, fields: AmiFields): void {
  if (!HEADER_NAME.test(name)) throw invalid(`AMI action name ${JSON.stringify(name)} is not a plain word`);
  for (const [key, value] of Object.entries(fields)) {
    if (LINE_BREAK.test(key) || !HEADER_NAME.test(key)) {
      throw invalid(`AMI header name ${JSON.stringify(key)} is not a plain word`);
    }
    if (RESERVED.has(key.toLowerCase())) throw invalid(`AMI header ${key} is set by the client`);
    if (value === undefined) continue;
    if (Array.isArray(value)) throw invalid(`AMI header ${key}: arrays are not supported`);
    if (typeof value === 'object') {
      for (const [name, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw invalid(`AMI header ${key}: ${name} is not a string`);
        if (!/^[A-Za-z0-9_()~.:-]+$/.test(name) || VARIABLE_UNSAFE.test(name)) {
          throw invalid(`AMI ${key} name ${JSON.stringify(name)} is not a dialplan variable name`);
        }
        if (VARIABLE_UNSAFE.test(v)) {
          throw invalid(`AMI ${key} ${name}: value contains CR, LF, NUL, comma, quote or backslash`);
        }
        checkLine(key, `${name}=${v}`);
      }
      continue;
    }
    checkLine(key, String(value));
  }
}

// Events are broadcast to every AMI session, so another Switchboard instance sees our
// OriginateResponse: the random per-process prefix keeps ActionIDs unique across instances.
const PROCESS_TAG = randomBytes(4).toString('hex');
let counter = 0;

/** `sb-<process>-<n>[-tag]`; never equal to an EventEmitter event name used by asterisk-manager. */
export function newActionId(tag?: string): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `sb-${PROCESS_TAG}-${counter}${tag ? `-${tag}` : ''}`;
}

export interface OriginateParams {
  /** e.g. `PJSIP/101` — the leg called first (the manager's phone for click-to-call). */
  channel: string;
  /** Where the answered channel goes: context/exten/priority, or an application. */
  context?: string;
  exten?: string;
  priority?: number;
  application?: string;
  data?: string;
  callerId?: string;
  /** Ring time of the first leg, ms. Expiry → OriginateResponse Failure Reason 3. */
  timeoutMs?: number;
  /** Uniqueid for the first leg: with it even a failed OriginateResponse carries a known id. */
  channelId?: string;
  otherChannelId?: string;
  account?: string;
  /** Channel variables, sent as one `Variable: k=v` header each. Values must not contain
   *  commas, quotes or backslashes (see VARIABLE_UNSAFE): they are rejected, not escaped. */
  variables?: Readonly<Record<string, string>>;
}

/** The fields of an async Originate. Async=true: the Response only says "queued"; the outcome
 *  comes later as an OriginateResponse event with the same ActionID. */
export function buildOriginate(p: OriginateParams): AmiFields {
  const dialplan = p.context !== undefined || p.exten !== undefined;
  if (dialplan === (p.application !== undefined)) {
    throw invalid('Originate needs either context+exten or application');
  }
  if (dialplan && (!p.context || !p.exten)) throw invalid('Originate needs both context and exten');
  if (p.timeoutMs !== undefined && !(Number.isInteger(p.timeoutMs) && p.timeoutMs > 0)) {
    throw invalid('Originate timeoutMs must be a positive integer');
  }
  const fields: Record<string, AmiFieldValue> = {
    Channel: p.channel,
    Context: p.context,
    Exten: p.exten,
    Priority: dialplan ? (p.priority ?? 1) : undefined,
    Application: p.application,
    Data: p.data,
    CallerID: p.callerId,
    Timeout: p.timeoutMs ?? 30_000,
    Async: 'true',
    ChannelId: p.channelId,
    OtherChannelId: p.otherChannelId,
    Account: p.account,
    Variable: p.variables && Object.keys(p.variables).length ? p.variables : undefined,
  };
  validateAction('Originate', fields);
  return fields;
}

/** What `originate` needs from the client. */
export interface AmiActionSender {
  action(name: string, fields?: AmiFields, opts?: { timeoutMs?: number; actionId?: string }): Promise<AmiResponse>;
}

/**
 * Queue an Originate. Resolves once Asterisk has queued it, with the ActionID to match the
 * later OriginateResponse. That event may in principle overtake the queued Response, so a
 * caller that must not miss it passes its own `actionId` (from `newActionId`) and starts
 * listening before calling.
 */
export async function originate(
  ami: AmiActionSender,
  params: OriginateParams,
  opts: { timeoutMs?: number; actionId?: string } = {},
): Promise<{ actionId: string; response: AmiResponse }> {
  const fields = buildOriginate(params);
  const actionId = opts.actionId ?? newActionId('orig');
  const response = await ami.action('Originate', fields, { ...opts, actionId });
  return { actionId, response };
}
