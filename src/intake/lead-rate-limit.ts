import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** 429 with the stable code RATE_LIMITED; the route adds Retry-After. */
export class LeadRateLimitedError extends Error {
  readonly statusCode = 429;
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many requests from this address; try again in ${retryAfterSeconds} s`);
  }
}

const WINDOW_S = 60;

/**
 * A fixed one-minute window per site and address, in Redis so it holds across instances. Every
 * post counts, honeypot hits included, so a bot cannot probe the limit with trap posts. Redis
 * down: fails open; losing a real customer's request is worse than a minute of spam.
 */
export function createLeadRateLimit(deps: { redis: Redis; prefix: string; perMinute: number; logger: Logger }) {
  return async function take(siteId: number, ip: string): Promise<void> {
    const key = `${deps.prefix}:intake:rate:${siteId}:${ip}`;
    let count: number;
    let ttlMs: number;
    try {
      const result = await deps.redis.multi().incr(key).expire(key, WINDOW_S, 'NX').pttl(key).exec();
      count = Number(result?.[0]?.[1] ?? 0);
      ttlMs = Number(result?.[2]?.[1] ?? 0);
    } catch (err) {
      deps.logger.warn({ err }, 'lead rate limit unavailable; accepting the lead');
      return;
    }
    if (count > deps.perMinute) throw new LeadRateLimitedError(Math.max(1, Math.ceil(ttlMs / 1000)));
  };
}

export type LeadRateLimit = ReturnType<typeof createLeadRateLimit>;
