import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Db } from '../db/client.js';
import { AppError, ErrorBody } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import type { CountryCode } from '../phones/normalize.js';
import { backToSite, isFormPost, registerFormPosts, THANK_YOU_PAGE } from './form-post.js';
import { AcceptedBody, LeadBody, LeadQuery } from './intake.schemas.js';
import { dealAssigned, leadNew } from './lead-frames.js';
import { originAllowed } from './lead-fate.js';
import { LeadRateLimitedError, type LeadRateLimit } from './lead-rate-limit.js';
import { receiveLead, siteByKey, type Site } from './leads.service.js';

const tags = ['intake'];
const KEY_HEADER = 'x-intake-key';
// Preflight answers may be cached this long; a site whose key is disabled stops within it.
const PREFLIGHT_MAX_AGE_S = 600;

function keyOf(request: FastifyRequest, query: { key?: string }): string | undefined {
  const header = request.headers[KEY_HEADER];
  return query.key ?? (typeof header === 'string' ? header : undefined);
}

/** The active site of the request's key; 401 for none, an unknown one or a disabled site. */
async function siteOf(db: Db, key: string | undefined): Promise<Site> {
  if (!key) throw new AppError('UNAUTHENTICATED', `a site key is required (?key= or ${KEY_HEADER})`);
  const site = await siteByKey(db, key);
  if (!site) throw new AppError('UNAUTHENTICATED', 'unknown site key');
  if (!site.active) throw new AppError('UNAUTHENTICATED', 'this site key is disabled');
  return site;
}

/** Only the site's own origin, never `*`; Vary so a cache does not hand it to another origin. */
function allowOrigin(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
}

/**
 * `POST /api/intake/leads`: the websites' forms. Public, admitted by a site's key. Every outcome
 * after the key and origin checks is the same 202, so a bot cannot tell a trapped post, a matched
 * client or a waiting lead apart.
 */
export const leadIntakeRoutes: FastifyPluginAsyncTypebox<{ db: Db; rateLimit: LeadRateLimit; region: CountryCode; bus?: EventBus }> = async (
  app,
  { db, rateLimit, region, bus },
) => {
  registerFormPosts(app);

  app.options(
    '/leads',
    {
      schema: {
        tags,
        summary: "CORS preflight: allowed only for the key's own site origin",
        description: "Answers with Access-Control-Allow-Origin = the site's origin when `?key=` names an active site whose origin is the request's Origin; otherwise 403 without CORS headers.",
        security: [],
        querystring: LeadQuery,
        response: { 204: { type: 'null', description: 'allowed' }, 403: ErrorBody },
      },
    },
    async (request, reply) => {
      const origin = request.headers.origin;
      const key = keyOf(request, request.query);
      const site = key ? await siteByKey(db, key) : null;
      // A preflight cannot carry the header's value, only its name: the key must be in the query.
      if (!site || !site.active || origin === undefined || origin !== site.allowedOrigin) {
        throw new AppError('FORBIDDEN', 'this origin may not post leads with this key');
      }
      allowOrigin(reply, origin);
      return reply
        .header('access-control-allow-methods', 'POST')
        .header('access-control-allow-headers', `content-type, ${KEY_HEADER}`)
        .header('access-control-max-age', String(PREFLIGHT_MAX_AGE_S))
        .status(204)
        .send();
    },
  );

  app.post(
    '/leads',
    {
      schema: {
        tags,
        summary: "A request from a website's form, admitted by the site's key",
        description:
          'A phone matching a client (its contacts included) opens a deal for the client\'s owner at once; otherwise the lead waits in the site\'s department. ' +
          'A filled `website` field (the honeypot) is answered the same and stored nowhere. 429 with Retry-After past the per-address limit. ' +
          'A plain HTML form may post `application/x-www-form-urlencoded` (`utm_source`… fields become `utm`); it is answered 303 to the form\'s `redirect` field or its page when on the site\'s origin, else with a thank-you page.',
        security: [{ intakeKey: [] }],
        querystring: LeadQuery,
        body: LeadBody,
        response: { 200: { description: 'a form post with no page to go back to: a thank-you page', content: { 'text/html': { schema: Type.String() } } }, 202: AcceptedBody, 303: Type.Null({ description: 'a form post: back to the site' }), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const site = await siteOf(db, keyOf(request, request.query));
      const origin = request.headers.origin;
      if (!originAllowed(site.allowedOrigin, origin)) throw new AppError('FORBIDDEN', 'this origin may not post leads with this key');
      if (origin !== undefined) allowOrigin(reply, origin);
      try {
        await rateLimit(site.id, request.ip);
      } catch (err) {
        if (err instanceof LeadRateLimitedError) reply.header('retry-after', String(err.retryAfterSeconds));
        throw err;
      }
      const accepted = () => {
        if (!isFormPost(request.headers['content-type'])) return reply.status(202).send({ status: 'accepted' as const });
        const back = backToSite(site.allowedOrigin, [(request.body as { redirect?: unknown }).redirect, request.headers.referer]);
        if (back !== null) return reply.redirect(back, 303);
        return reply.status(200).type('text/html; charset=utf-8').send(THANK_YOU_PAGE);
      };
      if (request.body.website) {
        request.log.info({ siteId: site.id }, 'lead honeypot filled; dropped');
        return accepted();
      }
      if (!request.body.phone?.trim() && !request.body.email?.trim()) throw new AppError('VALIDATION', 'body: a phone or an e-mail is required');
      const received = await receiveLead(db, site, request.body, request.ip, region);
      const [to, frame] = received.kind === 'owner' ? dealAssigned(received.deal, received.lead) : leadNew(received.lead);
      bus?.publish(to, frame);
      return accepted();
    },
  );
};
