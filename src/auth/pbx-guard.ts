import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import { allowedIps, isDevPbxToken, type Config } from '../config.js';
import type { PbxSignature } from './pbx-signature.js';

/**
 * onRequest hook for the /pbx/* endpoints that Asterisk calls: the shared PBX_TOKEN (header
 * X-Switchboard-Token, or `token` in the query because dialplan CURL() cannot easily set
 * headers), and the optional PBX_ALLOWED_IPS list. Compared in constant time; only the
 * token's length can be learnt from timing, which says nothing of a random token. (Hashing both
 * sides to hide the length cost a SHA-256 on every ring of every call.)
 *
 * The development token (no PBX_TOKEN outside production) is printed in the README: it is
 * accepted from a loopback address only, so that a development instance someone exposed on
 * the network does not take routing questions or recordings from anyone.
 * With PBX_HMAC_SECRET set, a signed timestamp is required as well (pbx-signature.ts).
 */
export function pbxGuard(config: Pick<Config, 'PBX_TOKEN' | 'PBX_ALLOWED_IPS'>, signature?: PbxSignature) {
  const expected = Buffer.from(config.PBX_TOKEN);
  const ips = new Set(allowedIps(config).map(normaliseIp));
  const loopbackOnly = isDevPbxToken(config.PBX_TOKEN);
  // Callback style, not async: an async hook costs a promise and a microtask on every ring.
  return (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
    if (ips.size > 0 && !ips.has(normaliseIp(request.ip))) {
      return void reply.status(403).send({ code: 'FORBIDDEN', message: `address ${request.ip} is not in PBX_ALLOWED_IPS`, reqId: String(request.id) });
    }
    if (loopbackOnly && !isLoopback(normaliseIp(request.ip))) {
      return void reply.status(403).send({ code: 'FORBIDDEN', message: `the development PBX token is accepted from this host only; set PBX_TOKEN to take requests from ${request.ip}`, reqId: String(request.id) });
    }
    const header = request.headers['x-switchboard-token'];
    const fromQuery = (request.query as { token?: unknown } | undefined)?.token;
    const token = typeof header === 'string' ? header : typeof fromQuery === 'string' ? fromQuery : Array.isArray(fromQuery) ? String(fromQuery[0]) : '';
    if (token === '') {
      return void reply.status(401).send({ code: 'UNAUTHENTICATED', message: 'PBX token missing: send X-Switchboard-Token or ?token=', reqId: String(request.id) });
    }
    const given = Buffer.from(token);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return void reply.status(403).send({ code: 'FORBIDDEN', message: 'PBX token is wrong', reqId: String(request.id) });
    }
    if (!signature) return done();
    signature.verify(request.method, request.raw.url ?? request.url, request.headers).then(
      (problem) => (problem ? void reply.status(401).send({ code: 'UNAUTHENTICATED', message: problem, reqId: String(request.id) }) : done()),
      (err: Error) => done(err),
    );
  };
}

/** `::ffff:127.0.0.1` (IPv4-mapped, what Node reports on dual-stack sockets) equals `127.0.0.1`. */
const normaliseIp = (ip: string) => ip.replace(/^::ffff:/i, '');

const isLoopback = (ip: string) => ip === '::1' || ip.startsWith('127.');
