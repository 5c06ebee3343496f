import type { FastifyError, FastifyInstance } from 'fastify';
import { isDatabaseUnavailable } from './db/db-errors.js';

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

/** One handler maps every error to `{code, message, reqId}`; 5xx details stay in the log. */
export function installErrorHandler(app: FastifyInstance): void {
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
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}`, reqId: String(request.id) }),
  );
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
