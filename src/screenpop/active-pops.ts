import type { Redis } from 'ioredis';

// A hash per user: linkedid → the latest pop frame of a call still ringing or in progress.
// In Redis, not in memory, because the browser may reconnect to another instance.
// A safety net for calls whose end was never seen (AMI down at the wrong moment).
const TTL_SECONDS = 4 * 3600;

export function createActivePops(redis: Redis, keyPrefix: string) {
  const key = (userId: number) => `${keyPrefix}:pops:${userId}`;
  return {
    async remember(userIds: number[], linkedid: string, frame: string): Promise<void> {
      if (userIds.length === 0) return;
      const pipeline = redis.multi();
      for (const id of userIds) pipeline.hset(key(id), linkedid, frame).expire(key(id), TTL_SECONDS);
      await pipeline.exec();
    },
    async forget(userIds: number[], linkedid: string): Promise<void> {
      if (userIds.length === 0) return;
      const pipeline = redis.multi();
      for (const id of userIds) pipeline.hdel(key(id), linkedid);
      await pipeline.exec();
    },
    /** Frames to replay to a user who (re)connects. */
    forUser: (userId: number): Promise<string[]> => redis.hvals(key(userId)),
  };
}

export type ActivePops = ReturnType<typeof createActivePops>;
