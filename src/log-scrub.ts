import { stdSerializers } from 'pino';

// What the logger does to values before they are written (logger.ts): secrets go, phone numbers
// are masked. The client base is the company's asset (DESIGN.md): a log shipped to a vendor
// must not carry it, nor anything that signs in.

/** Query parameters whose values are credentials, compared after decoding and lower-casing. */
const SECRET_PARAMS = new Set(['token', 'password', 'secret', 'access_token', 'signature']);

/** `+79161234567` → `+7916***4567`: the country and operator stay (useful when reading a trace), the subscriber goes. */
export function maskPhone(value: string): string {
  const digits = value.replace(/\D/g, '');
  if (digits.length < 7) return value; // extensions (101) and short codes are not personal
  const head = digits.slice(0, Math.min(4, digits.length - 7));
  return `${value.trimStart().startsWith('+') ? '+' : ''}${head}***${digits.slice(-4)}`;
}

/** A value that is a phone number as people and PBXes write one (a uniqueid `1795348783.2` is not). */
const PHONE_LIKE = /^\+?[\d\s()-]{7,}$/;
/** `2026-12-01` (a `from=` filter) looks like a number too; dates stay readable. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
export const maskIfPhone = (value: string): string => {
  const v = value.trim();
  return PHONE_LIKE.test(v) && !ISO_DATE.test(v) ? maskPhone(value) : value;
};

/** Decodes a query component the way Fastify's parser does (`+` is a space); undefined when malformed. */
function decode(component: string): string | undefined {
  try {
    return decodeURIComponent(component.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * A URL fit for the log. Parameter names are decoded before they are compared, as the query
 * parser decodes them before auth reads them: `?%74oken=…` signs in, so it must be redacted too.
 * A name that cannot be decoded keeps no value. Phone numbers in any value are masked, and in
 * path segments as well.
 */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const path = (q === -1 ? url : url.slice(0, q)).split('/').map((segment) => maskIfPhone(decode(segment) ?? segment)).join('/');
  if (q === -1) return path;
  const query = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq === -1 ? pair : pair.slice(0, eq);
      const name = decode(rawName);
      if (eq === -1) return rawName;
      if (name === undefined || SECRET_PARAMS.has(name.trim().toLowerCase())) return `${rawName}=[REDACTED]`;
      const value = decode(pair.slice(eq + 1));
      if (value === undefined) return `${rawName}=[UNREADABLE]`;
      const masked = maskIfPhone(value);
      return masked === value ? pair : `${rawName}=${encodeURIComponent(masked)}`;
    })
    .join('&');
  return `${path}?${query}`;
}

/** Log fields that hold a person's number: masked by pino's redaction (logger.ts), not removed. */
export const PHONE_FIELDS = ['caller', 'callerNumber', 'number', 'phone', 'mobile', 'externalNumber', 'e164', 'from', 'to', 'did'];

type SerializedError = ReturnType<typeof stdSerializers.errWithCause> & { params?: unknown; detail?: unknown; cause?: unknown; query?: unknown };

/**
 * pino's error serializer without SQL parameters. drizzle's DrizzleQueryError carries `params`
 * and repeats them in its message and stack (`Failed query: …\nparams: …`); they held a user's
 * argon2 hash, a webhook secret and a mobile number (issue 15). pg's `detail` repeats row values
 * (`Key (login)=(anna) already exists.`). The SQL text itself has only placeholders and stays.
 */
export function errSerializer(err: Error): SerializedError {
  return scrub(stdSerializers.errWithCause(err) as SerializedError, 0);
}

const PARAMS_IN_TEXT = /\nparams: [\s\S]*?(?=\n\s+at |$)/;

function scrub(e: SerializedError, depth: number): SerializedError {
  if (typeof e !== 'object' || e === null || depth > 5) return e;
  if ('params' in e) e.params = '[REDACTED]';
  if ('detail' in e) e.detail = '[REDACTED]';
  if (typeof e.message === 'string') e.message = e.message.replace(PARAMS_IN_TEXT, '\nparams: [REDACTED]');
  if (typeof e.stack === 'string') e.stack = e.stack.replace(PARAMS_IN_TEXT, '\nparams: [REDACTED]');
  if (e.cause && typeof e.cause === 'object') (e as { cause?: unknown }).cause = scrub(e.cause as SerializedError, depth + 1);
  return e;
}
