import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { AppError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route cleans its own input and must answer whatever arrives (/pbx/route). */
    lenientInput?: boolean;
  }
}

// PostgreSQL text and jsonb cannot hold U+0000 (errors 22021 / 22P05), and no field of ours has a
// use for it. Refused once here, before validation, for every part a route declares a schema for,
// instead of one `pattern` on each of a hundred string fields that a new one would forget.
const NUL = '\u0000';

/**
 * Parsed JSON and query strings only: a streamed body (PUT /pbx/recordings) is not data to walk.
 * Data is an array or an object one step from a null prototype: a plain object (Object.prototype
 * has none), a null-prototype one, and Fastify's query and parameters, instances of
 * fast-querystring's class whose prototype has none (they were missed once, and a NUL in `q`
 * reached the database). A stream is several steps away.
 */
const isPlain = (value: object) => {
  const proto = Object.getPrototypeOf(value);
  return Array.isArray(value) || proto === null || Object.getPrototypeOf(proto) === null;
};

/** The path of the first string (or key) holding NUL, or null. Iterative: bodies may nest deeply. */
export function findNul(value: unknown, root: string): string | null {
  const stack: Array<[unknown, string]> = [[value, root]];
  while (stack.length > 0) {
    const [current, where] = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes(NUL)) return where;
    } else if (current !== null && typeof current === 'object' && isPlain(current)) {
      for (const [key, inner] of Object.entries(current)) {
        if (key.includes(NUL)) return where;
        stack.push([inner, `${where}.${key}`]);
      }
    }
  }
  return null;
}

const PARTS = [
  ['params', 'params'],
  ['querystring', 'query'],
  ['body', 'body'],
] as const;

/**
 * preValidation hook for the whole app; routes without an input schema are not looked at.
 * Callback style, not async: it runs on every ring of /pbx/route too (as pbx-guard.ts explains).
 */
export function refuseNul(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const schema = request.routeOptions.schema;
  if (!schema || request.routeOptions.config.lenientInput) return done();
  for (const [part, field] of PARTS) {
    if (!schema[part]) continue;
    const where = findNul(request[field], field);
    if (where) return done(new AppError('VALIDATION', `${where} contains a NUL character (U+0000), which cannot be stored`));
  }
  done();
}
