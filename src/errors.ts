import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from './db/db-errors.js';
import { createMethodTable, notFoundOrNotAllowed, type MethodTable, type PageFallback } from './http/methods.js';

/** Seconds a client is told to wait when PostgreSQL is unreachable; the embedded one restarts in about this. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * The error catalogue: stable codes the API promises to clients, each with its HTTP status.
 * Throw `new AppError('NOT_FOUND', 'client 12 does not exist')` from any layer.
 */
export const ERROR_CODES = {
  VALIDATION: 400,
  INVALID_PHONE: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  PBX_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly statusCode: number;
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
    this.statusCode = ERROR_CODES[code];
  }
}

export const ErrorBody = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' }, reqId: { type: 'string' } },
  required: ['code', 'message'],
} as const;

const PG_UNIQUE_VIOLATION = '23505';
const PG_FOREIGN_KEY_VIOLATION = '23503';
// Input the schemas let through but PostgreSQL refuses: the client's fault, so a 400, never a 500.
// The schemas bound ids and strip NUL first; this is the net under what they miss.
const PG_BAD_INPUT: Record<string, string> = {
  '22P02': 'a value is not of the expected type',
  '22003': 'a number is out of range',
  '22021': 'a text contains a byte sequence that cannot be stored (e.g. NUL)',
  '22P05': 'a text contains a character that cannot be stored (e.g. \\u0000)',
  '22001': 'a text is too long',
  '22007': 'a date or time is not valid',
  '22008': 'a date or time is out of range',
};

/** One handler maps every error to `{code, message, reqId}`; 5xx details stay in the log. */
/** `methods`: the app's routes, for 405 answers (src/http/methods.ts); without it every miss is a 404. */
export function installErrorHandler(app: FastifyInstance, methods: MethodTable = createMethodTable(), pageFallback?: PageFallback): void {
  app.setErrorHandler((raw: FastifyError & { code?: string; detail?: string }, request, reply) => {
    const reqId = String(request.id);
    // drizzle wraps driver errors (DrizzleQueryError): the pg code and detail are on the cause.
    const cause = (raw as { cause?: { code?: string; detail?: string } }).cause;
    const error = typeof cause?.code === 'string' && /^[0-9A-Z]{5}$/.test(cause.code) ? Object.assign(raw, { code: cause.code, detail: cause.detail }) : raw;
    if (error instanceof AppError) {
      if (error.statusCode >= 500) request.log.error({ err: error }, error.message);
      return reply.status(error.statusCode).send({ code: error.code, message: error.message, reqId });
    }
    if (error.validation) {
      return reply.status(400).send({ code: 'VALIDATION', message: error.message, reqId });
    }
    if (error.code === PG_UNIQUE_VIOLATION) {
      return reply.status(409).send({ code: 'CONFLICT', message: uniqueMessage(error.detail), reqId });
    }
    const badInput = error.code ? PG_BAD_INPUT[error.code] : undefined;
    if (badInput) {
      request.log.info({ err: error }, 'input refused by the database');
      return reply.status(400).send({ code: 'VALIDATION', message: badInput, reqId });
    }
    if (error.code === PG_FOREIGN_KEY_VIOLATION) {
      return reply.status(400).send({ code: 'VALIDATION', message: 'a referenced record does not exist', reqId });
    }
    if (isDatabaseUnavailable(error)) {
      // Logged without the stack: during an outage every request would repeat the same one.
      request.log.warn({ err: { message: error.message, code: error.code } }, 'database unavailable');
      return reply
        .status(503)
        .header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
        .send({ code: 'DATABASE_UNAVAILABLE', message: 'the database is unreachable; try again in a few seconds', reqId });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status < 500) {
      return reply.status(status).send({ code: error.code ?? 'BAD_REQUEST', message: error.message, reqId });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.status(500).send({ code: 'INTERNAL', message: 'internal error; quote reqId to the administrator', reqId });
  });
  app.setNotFoundHandler(notFoundOrNotAllowed(methods, pageFallback));
}

/**
 * Errors Fastify's router raises before any route or hook: a path parameter longer than
 * `maxParamLength` (Fastify's own answer is a 414 that no route documents) or a malformed
 * percent-encoding. Both are bad input: 400 with the usual body.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is too long' : error.code === 'FST_ERR_BAD_URL' ? 'the path is not valid percent-encoding' : error.message;
  void reply.status(400).send({ code: 'VALIDATION', message, reqId: String(request.id) });
}

/** Ajv's messages, with the offending property named where Ajv leaves it out. */
export function schemaErrorFormatter(errors: Array<{ instancePath: string; message?: string; params?: Record<string, unknown> }>, dataVar: string): Error {
  const text = errors
    .map((e) => {
      const where = `${dataVar}${e.instancePath.replaceAll('/', '.')}`;
      const extra = e.params?.additionalProperty;
      return extra ? `${where} has an unknown property "${String(extra)}"` : `${where} ${e.message ?? 'is invalid'}`;
    })
    .join('; ');
  return new Error(text);
}

function uniqueMessage(detail: string | undefined): string {
  // pg detail: 'Key (login)=(anna) already exists.'
  const match = detail?.match(/^Key \((.+?)\)=\((.*?)\) already exists/);
  return match ? `${match[1]} "${match[2]}" is already taken` : 'a record with these values already exists';
}
