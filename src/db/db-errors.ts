/**
 * Whether an error means "PostgreSQL cannot be reached right now" rather than "this query is
 * wrong". Such errors answer 503 with Retry-After (errors.ts): the client may try again, and a
 * load balancer may send the request elsewhere. A 500 would say the request itself broke.
 */

// SQLSTATE class 08 (connection exception) and the shutdown / start-up / capacity codes a server
// sends while it is going down or coming back.
const UNAVAILABLE_SQLSTATE = /^08...$|^57P0[1-3]$|^53300$/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// node-postgres raises these as plain Errors without a code.
const UNAVAILABLE_MESSAGE = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const { code, message, cause, errors } = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code))) return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGE.some((m) => message.includes(m))) return true;
  // drizzle wraps driver errors (DrizzleQueryError.cause); net wraps several tries (AggregateError).
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(cause, depth + 1);
}
