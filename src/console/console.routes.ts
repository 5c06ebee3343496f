import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** Paths of the service itself: never answered with the console's page. */
const SERVICE_PREFIXES = ['/api', '/pbx', '/ws', '/c2c', '/docs', '/health', '/ready', '/metrics'];

export const isServicePath = (pathname: string): boolean => SERVICE_PREFIXES.some((p) => pathname === p || pathname.startsWith(`${p}/`));

// The page holds the bearer token (localStorage): scripts only from this origin, and it must not
// be framed by another site (clickjacking a click-to-call button). Inline styles are allowed:
// uPlot and wavesurfer.js write them.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
const PAGE_HEADERS = {
  'content-security-policy': CSP,
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-cache',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * The console's index page for any GET that no route took, is not a service path and does not
 * name a file (the console routes by `#/…`, but a bookmarked `/clients` must not be a 404).
 * Null when the console is not built.
 */
export function consoleFallback(distDir: string): ((request: FastifyRequest, reply: FastifyReply) => boolean) | null {
  const index = path.join(distDir, 'index.html');
  if (!existsSync(index)) return null;
  const page = readFileSync(index);
  return (request, reply) => {
    const pathname = request.url.split('?')[0]!;
    if ((request.method !== 'GET' && request.method !== 'HEAD') || isServicePath(pathname) || path.extname(pathname) !== '') return false;
    void reply.status(200).headers(PAGE_HEADERS).send(page);
    return true;
  };
}

/**
 * The built console (web/dist) at `/`: hashed assets cached for a year, index.html never, so a
 * new build reaches the browsers at once.
 */
export const consoleRoutes: FastifyPluginAsync<{ distDir: string }> = async (app, opts) => {
  if (!existsSync(path.join(opts.distDir, 'index.html'))) {
    app.log.warn({ distDir: opts.distDir }, 'the web console is not built: GET / answers 404 (npm run build:web)');
    return;
  }
  await app.register(fastifyStatic, {
    root: opts.distDir,
    wildcard: false,
    index: ['index.html'],
    setHeaders(res, file) {
      const asset = file.includes(`${path.sep}assets${path.sep}`);
      res.header('cache-control', asset ? 'public, max-age=31536000, immutable' : 'no-cache');
      res.header('x-content-type-options', 'nosniff');
      if (!asset) {
        res.header('x-frame-options', 'DENY');
        res.header('content-security-policy', CSP);
        res.header('referrer-policy', 'no-referrer');
      }
    },
  });
};
