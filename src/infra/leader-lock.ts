import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface LeaderLockOptions {
  redis: Redis;
  key: string;
  logger: Logger;
  /** How long the lock survives a dead holder. */
  ttlMs?: number;
  /** How often the holder renews and a standby tries. Well under ttlMs. */
  intervalMs?: number;
  onAcquired: () => void | Promise<void>;
  onLost: () => void | Promise<void>;
}

// Renew and release only if we still hold it: a holder that stalled past its TTL must not
// extend or delete the lock that another instance took meanwhile.
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Exactly one instance holds the lock (SET NX PX with a random token), renews it, and loses it
 * when it stops renewing: the others take over within ttlMs. Used so that one instance consumes
 * the AMI stream: two consumers would double every pop and every webhook.
 */
export function createLeaderLock(opts: LeaderLockOptions) {
  const token = randomUUID();
  const ttlMs = opts.ttlMs ?? 10_000;
  const intervalMs = opts.intervalMs ?? Math.floor(ttlMs / 3);
  let leader = false;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const becomeLeader = async (value: boolean) => {
    if (value === leader) return;
    leader = value;
    opts.logger.info({ key: opts.key, leader: value }, value ? 'took the leader lock' : 'lost the leader lock');
    try {
      await (value ? opts.onAcquired() : opts.onLost());
    } catch (err) {
      opts.logger.error({ err }, 'leader change handler failed');
    }
  };

  const tick = async () => {
    try {
      if (leader) {
        const renewed = await opts.redis.eval(RENEW, 1, opts.key, token, String(ttlMs));
        if (renewed !== 1) await becomeLeader(false);
      } else {
        const taken = await opts.redis.set(opts.key, token, 'PX', ttlMs, 'NX');
        if (taken === 'OK') await becomeLeader(true);
      }
    } catch (err) {
      // Redis unreachable: we cannot prove we still hold the lock, so step down; the TTL frees
      // it for whoever reaches Redis first.
      opts.logger.warn({ err }, 'leader lock: Redis unreachable');
      if (leader) await becomeLeader(false);
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };

  return {
    start: () => void tick(),
    isLeader: () => leader,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (leader) {
        await opts.redis.eval(RELEASE, 1, opts.key, token).catch(() => {});
        await becomeLeader(false);
      }
    },
  };
}
