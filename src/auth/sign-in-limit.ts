import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

// Sign-in failures are counted in Redis so the limit holds across instances. Three counters,
// chosen so an attacker cannot keep a real user out for long:
// - account+address: a few free tries, then an exponential back-off (1 s, 2 s, 4 s … 15 min).
//   Only the attacker's own address is slowed; the user signs in from theirs.
// - account (any address): a looser cap against a spread-out guess; past it each failure
//   locks the account for at most ACCOUNT_LOCK_MAX_S, so a lock-out lasts a minute, not a day.
// - address (any account): a cap against one address trying many logins (password spraying).
//   A call-center office sits behind one NAT: the cap is far above a floor's typos.
// A success from an address clears its account+address counter.

const WINDOW_S = 15 * 60;
const FREE_TRIES_PER_ACCOUNT_ADDRESS = 5;
const ACCOUNT_ADDRESS_LOCK_MAX_S = 15 * 60;
const ACCOUNT_LOCK_MAX_S = 60;

export interface SignInLimits {
  /** Failures from one address, any login, per 15 minutes. */
  perAddress: number;
  /** Failures for one login, any address, per 15 minutes, before short locks. */
  perAccount: number;
}

/** 429 with the stable code RATE_LIMITED; the route adds Retry-After. */
export class SignInLimitedError extends Error {
  readonly statusCode = 429;
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number) {
    super(`too many failed sign-ins; try again in ${retryAfterSeconds} s`);
  }
}

export function createSignInLimit(deps: { redis: Redis; prefix: string; limits: SignInLimits; logger: Logger }) {
  const { redis, limits } = deps;
  const k = {
    pairCount: (login: string, ip: string) => `${deps.prefix}:signin:pair:${ip}:${login}`,
    pairLock: (login: string, ip: string) => `${deps.prefix}:signin:pair-lock:${ip}:${login}`,
    accountCount: (login: string) => `${deps.prefix}:signin:account:${login}`,
    accountLock: (login: string) => `${deps.prefix}:signin:account-lock:${login}`,
    addressCount: (ip: string) => `${deps.prefix}:signin:address:${ip}`,
  };

  return {
    /**
     * Throws SignInLimitedError while any counter refuses; called before the password is
     * checked, so a refused try costs a Redis round trip, not an argon2 verification. Redis
     * being down must not stop a shift from signing in: the limit then fails open (the argon2
     * gate still bounds the CPU).
     */
    async check(login: string, ip: string): Promise<void> {
      let result: Array<[Error | null, unknown]> | null;
      try {
        result = await redis.multi().pttl(k.pairLock(login, ip)).pttl(k.accountLock(login)).get(k.addressCount(ip)).pttl(k.addressCount(ip)).exec();
      } catch (err) {
        deps.logger.warn({ err }, 'sign-in limit unavailable; allowing the attempt');
        return;
      }
      const [pairLock, accountLock, addressCount, addressTtl] = (result ?? []).map(([, v]) => Number(v ?? 0));
      let waitMs = Math.max(pairLock ?? 0, accountLock ?? 0);
      if ((addressCount ?? 0) >= limits.perAddress) waitMs = Math.max(waitMs, addressTtl ?? 0);
      if (waitMs > 0) throw new SignInLimitedError(Math.max(1, Math.ceil(waitMs / 1000)));
    },

    async failed(login: string, ip: string): Promise<void> {
      try {
        const result = await redis
          .multi()
          .incr(k.pairCount(login, ip))
          .expire(k.pairCount(login, ip), WINDOW_S)
          .incr(k.accountCount(login))
          .expire(k.accountCount(login), WINDOW_S, 'NX')
          .incr(k.addressCount(ip))
          .expire(k.addressCount(ip), WINDOW_S, 'NX')
          .exec();
        const pair = Number(result?.[0]?.[1] ?? 0);
        const account = Number(result?.[2]?.[1] ?? 0);
        const locks = redis.multi();
        if (pair >= FREE_TRIES_PER_ACCOUNT_ADDRESS) locks.set(k.pairLock(login, ip), '1', 'EX', backoff(pair - FREE_TRIES_PER_ACCOUNT_ADDRESS, ACCOUNT_ADDRESS_LOCK_MAX_S));
        if (account >= limits.perAccount) locks.set(k.accountLock(login), '1', 'EX', backoff(account - limits.perAccount, ACCOUNT_LOCK_MAX_S));
        await locks.exec();
        if (account === limits.perAccount) deps.logger.warn({ login }, 'many failed sign-ins for one login from several addresses');
      } catch (err) {
        deps.logger.warn({ err }, 'could not count a failed sign-in');
      }
    },

    async succeeded(login: string, ip: string): Promise<void> {
      await redis.del(k.pairCount(login, ip), k.pairLock(login, ip)).catch(() => {});
    },
  };
}

export type SignInLimit = ReturnType<typeof createSignInLimit>;

/** 1, 2, 4 … seconds for the 0th, 1st, 2nd … failure past the free ones, capped. */
const backoff = (over: number, maxSeconds: number) => Math.min(2 ** Math.min(over, 30), maxSeconds);
