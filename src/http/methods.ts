import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';

// A known path asked with a method it does not have answers 405 with `Allow` (RFC 9110 15.5.6),
// not 404: a client then learns that the path is right and the method wrong. Fastify's router
// only knows "no route", so the app keeps its own list of path patterns and methods.

interface PathMethods {
  pattern: RegExp;
  methods: Set<string>;
}

const toPattern = (url: string): RegExp => {
  const body = url
    .replace(/\/+$/, '')
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}/?$`);
};

export interface MethodTable {
  /** For an onRoute hook, added before the routes are. */
  add(route: RouteOptions): void;
  /** The methods a path has, sorted; empty when no route matches it. */
  allowed(path: string): string[];
}

export function createMethodTable(): MethodTable {
  const byUrl = new Map<string, PathMethods>();
  return {
    add(route) {
      const key = route.url.replace(/\/+$/, '') || '/';
      const entry = byUrl.get(key) ?? { pattern: toPattern(route.url), methods: new Set<string>() };
      for (const method of [route.method].flat()) entry.methods.add(method);
      byUrl.set(key, entry);
    },
    allowed(path) {
      const clean = path.split('?')[0]!;
      const methods = new Set<string>();
      for (const { pattern, methods: m } of byUrl.values()) if (pattern.test(clean)) for (const x of m) methods.add(x);
      return [...methods].sort();
    },
  };
}

/** Answers a request no route took (the web console's page for its own paths); false: not mine. */
export type PageFallback = (request: FastifyRequest, reply: FastifyReply) => boolean;

/** The not-found answer: 405 + Allow when the path exists with other methods, else 404. */
export function notFoundOrNotAllowed(table: MethodTable, pageFallback?: PageFallback) {
  return (request: FastifyRequest, reply: FastifyReply) => {
    if (pageFallback?.(request, reply)) return reply;
    const path = request.url.split('?')[0]!;
    const allowed = table.allowed(path);
    const reqId = String(request.id);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return reply
        .status(405)
        .header('allow', allowed.join(', '))
        .send({ code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`, reqId });
    }
    return reply.status(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${path}`, reqId });
  };
}

/**
 * Fastify's `clientErrorHandler`: Node's HTTP parser refuses a method it does not know (`FOO /x`)
 * before any route is looked up. On a known path that is a 405 with `Allow` as well; every other
 * parse error keeps Node's plain 400.
 */
export function clientErrorHandler(table: MethodTable) {
  return (error: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void => {
    if (!socket.writable) return void socket.destroy();
    const line = Buffer.isBuffer(error.rawPacket) ? error.rawPacket.toString('latin1').split('\r\n', 1)[0]! : '';
    const path = /^\S+ (\/\S*)/.exec(line)?.[1];
    const allowed = error.code === 'HPE_INVALID_METHOD' && path ? table.allowed(path) : [];
    const [status, extra, body] =
      allowed.length > 0
        ? ['405 Method Not Allowed', `Allow: ${allowed.join(', ')}\r\n`, JSON.stringify({ code: 'METHOD_NOT_ALLOWED', message: `use ${allowed.join(', ')}` })]
        : ['400 Bad Request', '', JSON.stringify({ code: 'BAD_REQUEST', message: 'the request could not be parsed' })];
    socket.end(`HTTP/1.1 ${status}\r\n${extra}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  };
}
