import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import { pbxGuard } from '../auth/pbx-guard.js';
import type { PbxSignature } from '../auth/pbx-signature.js';
import { ErrorBody } from '../errors.js';
import { lazyChildLoggerFactory } from '../lazy-request-logger.js';
import { ANSWER_KEYS } from './answer-format.js';
import type { RouteQuery, RouteService } from './route-service.js';

const RouteQuerystring = Type.Object({
  caller: Type.Optional(Type.String({ description: 'CALLERID(num) as the PBX sees it' })),
  did: Type.Optional(Type.String({ description: 'the dialled number (EXTEN of the inbound context)' })),
  uniqueid: Type.Optional(Type.String()),
  linkedid: Type.Optional(Type.String()),
  step: Type.Optional(Type.String({ description: '1 for the first question of a call' })),
  last_status: Type.Optional(Type.String({ description: 'DIALSTATUS/QUEUESTATUS of the previous step' })),
  tried: Type.Optional(Type.String({ description: 'the previous answer\'s `tried`: the call\'s earlier steps, so that a step on another instance knows them' })),
  format: Type.Optional(Type.String({ description: '`hash` for the key=value&… body that CURL() hashcompat reads' })),
  token: Type.Optional(Type.String({ description: 'PBX_TOKEN, when the X-Switchboard-Token header cannot be sent' })),
});

const RouteAnswer = Type.Object(Object.fromEntries(ANSWER_KEYS.map((k) => [k, Type.String()])));

/**
 * The contract with the dialplan. Whatever arrives, the PBX gets a 200 with a usable answer:
 * garbage parameters are made safe here, and the answer comes from memory, whatever the database
 * does (route-service.ts). Only a wrong token or address is refused (401/403).
 */
export const pbxRouteRoutes: FastifyPluginAsyncTypebox<{ config: Config; routeService: RouteService; pbxSignature?: PbxSignature }> = async (app, opts) => {
  app.addHook('onRequest', pbxGuard(opts.config, opts.pbxSignature));

  app.get(
    '/route',
    {
      schema: {
        tags: ['pbx'],
        summary: 'Asterisk asks who takes the call now (one question per step)',
        security: [{ pbxToken: [] }],
        querystring: RouteQuerystring,
        response: {
          200: { content: { 'application/json': { schema: RouteAnswer }, 'text/plain': { schema: Type.String() } } },
          401: ErrorBody,
          403: ErrorBody,
        },
      },
      // Documented schema, lenient parsing: a repeated or odd parameter must not become a 400
      // that leaves a caller in silence. `toRouteQuery` cleans every value instead.
      validatorCompiler: () => () => true,
      config: { lenientInput: true },
      // Asked on every ring and silent unless something fails: no pino child until it logs.
      childLoggerFactory: lazyChildLoggerFactory,
    },
    // Synchronous: the answer needs nothing from outside this process (no promise per ring).
    (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const { answer, hashBody } = opts.routeService.route(toRouteQuery(query));
      if (first(query.format) === 'hash') {
        reply.type('text/plain; charset=utf-8').send(hashBody);
      } else {
        reply.type('application/json').send(answer);
      }
    },
  );
};

const first = (value: unknown): string => {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === 'string' ? v : '';
};

// Asterisk ids: `<epoch>.<seq>`, optionally `systemname-` prefixed, or a ChannelId we chose.
const clean = (value: unknown, allowed: RegExp, max: number): string => first(value).trim().slice(0, max).replace(allowed, '');

export function toRouteQuery(query: Record<string, unknown>): RouteQuery {
  const step = Number.parseInt(first(query.step), 10);
  return {
    caller: clean(query.caller, /[^0-9+()\-\s.A-Za-z]/g, 64),
    did: clean(query.did, /[^0-9+()\-\s.A-Za-z_]/g, 64),
    uniqueid: clean(query.uniqueid, /[^A-Za-z0-9._-]/g, 128),
    linkedid: clean(query.linkedid, /[^A-Za-z0-9._-]/g, 128),
    step: Number.isFinite(step) && step >= 1 ? Math.min(step, 99) : 1,
    lastStatus: clean(first(query.last_status).toUpperCase(), /[^A-Z]/g, 20),
    tried: clean(query.tried, /[^a-z0-9._-]/g, 600),
  };
}
