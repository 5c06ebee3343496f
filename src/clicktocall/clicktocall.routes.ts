import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError } from 'fastify';
import { viewerOf } from '../auth/auth.plugin.js';
import { AppError, ErrorBody } from '../errors.js';
import { asDbId, Id } from '../http/schemas.js';
import { callingPage, consoleHandoffPage, errorPage, PAGE_HEADERS } from './c2c-page.js';
import { RateLimitedError, type ClickToCall } from './clicktocall.service.js';

const tags = ['calls'];
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 429: ErrorBody, 503: ErrorBody };

const Accepted = Type.Object({
  callId: Type.String({ description: 'ours; `originate.failed` WebSocket frames carry it' }),
  linkedid: Type.String({ description: 'the call\'s Linkedid: GET /api/calls/{linkedid} once it is stored' }),
  number: Type.String({ description: 'E.164' }),
  client: Type.Union([Type.Object({ id: Type.Integer(), name: Type.String() }), Type.Null()]),
});

const OriginateBody = Type.Object(
  {
    to: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'the number, as written (`8 916 123-45-67`, `+7…`, `tel:+7…`); without it, `clientId` or `contactId` picks the number' })),
    clientId: Type.Optional(Id({ description: "the client being called; with `to`, `to` must be one of its phones; without, the client's first phone is called" })),
    contactId: Type.Optional(Id({ description: "a contact person to call: their first phone, without the caller seeing the number" })),
  },
  { additionalProperties: false },
);

// Strings only, checked by the handler: a browser tab gets an HTML page for every mistake, not
// a JSON validation error.
const LinkQuery = Type.Object({
  number: Type.Optional(Type.String({ description: 'the number, or a whole `tel:` URI' })),
  clientId: Type.Optional(Type.String({ description: 'optional client id' })),
  token: Type.Optional(Type.String({ description: 'the bearer token (required unless the Authorization header is sent)' })),
});

// The link's errors are an HTML page unless the caller asked for JSON (`Accept: application/json`).
const pageErrors = Object.fromEntries(
  Object.keys(errors).map((status) => [
    status,
    { description: 'An error page, or the JSON error with Accept: application/json', content: { 'text/html': { schema: Type.String() }, 'application/json': { schema: ErrorBody } } },
  ]),
);

const wantsJson = (accept: string | undefined) => /\bapplication\/json\b/i.test(accept ?? '');

/**
 * POST /api/calls/originate and GET /c2c. Register at the root (no prefix).
 *
 * GET /c2c starts a call, so any page the user visits could trigger it with an <img src>. It
 * is protected by the bearer token in the query (`?token=`): the app uses no cookies, so a
 * third-party page cannot make the browser authenticate without knowing the token. The page
 * answers with `Referrer-Policy: no-referrer` so the token does not leave through a link.
 */
export function clickToCallRoutes(clickToCall: Pick<ClickToCall, 'start'>): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/calls/originate',
      {
        preHandler: app.requireUser,
        schema: {
          tags,
          summary: "Click-to-call: ring the signed-in user's phone, then the number (202: queued; the outcome comes over the WebSocket)",
          body: OriginateBody,
          response: { 202: Accepted, ...errors },
        },
      },
      async (request, reply) => {
        try {
          return reply.status(202).send(await clickToCall.start(viewerOf(request), request.body));
        } catch (err) {
          if (err instanceof RateLimitedError) reply.header('retry-after', String(err.retryAfterSeconds));
          throw err;
        }
      },
    );

    const linkRoutes: FastifyPluginAsyncTypebox = async (link) => {
      // A browser tab reads HTML: every error of this route, the 401 included, becomes a page.
      link.setErrorHandler((error: FastifyError, request, reply) => {
        if (wantsJson(request.headers.accept)) throw error;
        const status = error instanceof AppError || error instanceof RateLimitedError ? error.statusCode : error.validation ? 400 : 500;
        if (status >= 500 && !(error instanceof AppError)) request.log.error({ err: error }, 'click-to-call link failed');
        if (error instanceof RateLimitedError) reply.header('retry-after', String(error.retryAfterSeconds));
        const message = status >= 500 && !(error instanceof AppError) ? 'Internal error; try again.' : error.message;
        // No token, or one that expired: the console takes over with the session it holds (still a 401, nothing dialled).
        if (status === 401) return reply.status(401).headers(PAGE_HEADERS).send(consoleHandoffPage((request.query as { number?: string } | undefined)?.number));
        return reply.status(status).headers(PAGE_HEADERS).send(errorPage(status, message));
      });

      link.get(
        '/c2c',
        {
          preHandler: link.requireUser,
          schema: {
            tags,
            summary: "Click-to-call as a link (the web console's tel: handler): `/c2c?number=…&token=…`; an HTML page, or JSON with Accept: application/json",
            querystring: LinkQuery,
            response: {
              202: { content: { 'text/html': { schema: Type.String() }, 'application/json': { schema: Accepted } } },
              ...pageErrors,
            },
          },
        },
        async (request, reply) => {
          const { number, clientId } = request.query;
          if (!number) throw new AppError('VALIDATION', 'number: give the number to call, e.g. /c2c?number=%2B79161234567');
          const client = clientId === undefined ? null : asDbId(clientId);
          if (clientId !== undefined && client === null) throw new AppError('VALIDATION', 'clientId: must be a client id');
          const result = await clickToCall.start(viewerOf(request), { to: number, ...(client !== null && { clientId: client }) });
          if (wantsJson(request.headers.accept)) return reply.status(202).send(result);
          return reply.status(202).headers(PAGE_HEADERS).send(callingPage(result.number, result.client?.name ?? null));
        },
      );
    };
    await app.register(linkRoutes);
  };
}
