import { timingSafeEqual } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Config } from '../config.js';
import { AppError, ErrorBody } from '../errors.js';
import type { Metrics } from './metrics.js';

const LOOPBACK = new Set(['127.0.0.1', '::1']);
const normaliseIp = (ip: string) => ip.replace(/^::ffff:/i, '');

/**
 * Who may scrape: a bearer METRICS_TOKEN, or an address in METRICS_ALLOWED_IPS. With neither
 * configured, only this host (a sidecar or `curl localhost`): the figures name no person, but
 * call volumes and queue depths are still the company's business.
 */
export function metricsAccess(config: Pick<Config, 'METRICS_TOKEN' | 'METRICS_ALLOWED_IPS'>) {
  const token = config.METRICS_TOKEN === '' ? null : Buffer.from(`Bearer ${config.METRICS_TOKEN}`);
  const ips = new Set(config.METRICS_ALLOWED_IPS.split(',').map((s) => s.trim()).filter(Boolean).map(normaliseIp));
  return (ip: string, authorization: string | undefined): 'ok' | 'unauthenticated' | 'forbidden' => {
    const address = normaliseIp(ip);
    if (ips.has(address)) return 'ok';
    if (token) {
      if (authorization === undefined) return 'unauthenticated';
      const given = Buffer.from(authorization);
      return given.length === token.length && timingSafeEqual(given, token) ? 'ok' : 'forbidden';
    }
    return ips.size === 0 && LOOPBACK.has(address) ? 'ok' : 'forbidden';
  };
}

export const metricsRoutes: FastifyPluginAsyncTypebox<{ metrics: Metrics; config: Pick<Config, 'METRICS_TOKEN' | 'METRICS_ALLOWED_IPS'> }> = async (app, opts) => {
  const allowed = metricsAccess(opts.config);
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (METRICS_TOKEN as a bearer token, or an address in METRICS_ALLOWED_IPS)',
        security: [{ metricsToken: [] }],
        response: { 200: { content: { 'text/plain': { schema: Type.String() } } }, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request, reply) => {
      const verdict = allowed(request.ip, request.headers.authorization);
      if (verdict === 'unauthenticated') throw new AppError('UNAUTHENTICATED', 'send Authorization: Bearer <METRICS_TOKEN>');
      if (verdict === 'forbidden') throw new AppError('FORBIDDEN', `address ${request.ip} may not read the metrics`);
      return reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
    },
  );
};
