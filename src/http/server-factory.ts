import http, { type IncomingMessage, type ServerResponse } from 'node:http';

/** Takes a request before Fastify does; returns false to leave it to Fastify. */
export type FrontDoor = (req: IncomingMessage, res: ServerResponse) => boolean;

/**
 * Fastify's `serverFactory`: the same HTTP server Fastify would make (the timeouts it would set),
 * with a front door that may answer a request before Fastify's handler sees it. Used for the
 * one request that runs on every ring of every call (routing/route-fast-path.ts). `frontDoor` is
 * read per request because the route service it needs is built after the Fastify instance.
 */
export function serverWithFrontDoor(frontDoor: () => FrontDoor | null) {
  return (handler: (req: IncomingMessage, res: ServerResponse) => void, options: { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number }) => {
    const server = http.createServer((req, res) => {
      const front = frontDoor();
      if (front === null || !front(req, res)) handler(req, res);
    });
    if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
    if (options.requestTimeout !== undefined) server.requestTimeout = options.requestTimeout;
    server.setTimeout(options.connectionTimeout ?? 0);
    return server;
  };
}
