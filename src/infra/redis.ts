import { Redis, type RedisOptions } from 'ioredis';

/**
 * Two kinds of connection, per BullMQ's production notes:
 * - `command`: used inside HTTP handlers; fails fast while Redis is down instead of queueing.
 * - `blocking`: workers and subscribers; retries forever (`maxRetriesPerRequest: null`).
 */
export function createRedis(url: string, kind: 'command' | 'blocking', extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    kind === 'command'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false, ...extra }
      : { maxRetriesPerRequest: null, ...extra };
  const redis = new Redis(url, options);
  // ioredis reconnects by itself; without a listener an 'error' event would crash the process.
  redis.on('error', () => {});
  return redis;
}
