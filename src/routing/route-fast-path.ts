import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'fast-querystring';
import { allowedIps, isDevPbxToken, type Config } from '../config.js';
import { toRouteQuery } from './route.routes.js';
import type { RouteService } from './route-service.js';

/**
 * `GET /pbx/route?format=hash…` — the question Asterisk asks on every step of every call — served
 * straight from Node's HTTP server, before Fastify's routing, hooks and reply machinery.
 *
 * Why: the answer itself costs ~15 µs of CPU (route-service.ts); Fastify's request and reply
 * objects, its hook chain and its logger plumbing cost about as much again, on the one path
 * that runs on every ring (BENCHMARKS.md, route webhook). The Fastify route (route.routes.ts)
 * stays: it is the documented contract, it answers everything this path does not take, and
 * `app.inject` (the tests) goes through it. Both build the answer with the same functions
 * (`toRouteQuery`, `routeService.route` and its `hashBody`), and test/routing/route-fast-path
 * checks that they answer alike.
 *
 * Only the plain case is taken here: a GET with the right PBX token, the hash format, and none of
 * the extra checks (PBX_ALLOWED_IPS, the loopback-only development token, PBX_HMAC_SECRET). Any
 * other request — a wrong or missing token included — goes to Fastify, so every refusal, error
 * body and log line still has one author.
 */
export function createRouteFastPath(config: Config, routeService: RouteService, opts: { signed: boolean }): ((req: IncomingMessage, res: ServerResponse) => boolean) | null {
  if (opts.signed || allowedIps(config).length > 0 || isDevPbxToken(config.PBX_TOKEN)) return null;
  const expected = Buffer.from(config.PBX_TOKEN);
  const tokenIsRight = (token: unknown): boolean => {
    if (typeof token !== 'string' || token.length !== expected.length) return false;
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };

  // The answers of one event-loop turn are written together, after every request of the turn has
  // been read and decided, instead of one write between two reads. Measured (bench:route, quiet
  // VM, old and new alternated twice): route ÷ bare 0.33–0.42 → 0.45–0.46. The delay is at most
  // one turn (microseconds at the PBX's rates). Flat pairs (response, body), no object per answer.
  const replies: Array<ServerResponse | string> = [];
  const sendReplies = () => {
    for (let i = 0; i < replies.length; i += 2) {
      const res = replies[i] as ServerResponse;
      const body = replies[i + 1] as string;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }
    replies.length = 0;
  };

  return (req, res) => {
    const url = req.url;
    if (req.method !== 'GET' || url === undefined || !url.startsWith('/pbx/route?')) return false;
    const query = parseQuery(url.slice('/pbx/route?'.length)) as Record<string, unknown>;
    if (query.format !== 'hash') return false;
    const header = req.headers['x-switchboard-token'];
    if (!tokenIsRight(typeof header === 'string' ? header : query.token)) return false;
    const body = routeService.route(toRouteQuery(query)).hashBody;
    replies.push(res, body);
    if (replies.length === 2) setImmediate(sendReplies);
    return true;
  };
}
