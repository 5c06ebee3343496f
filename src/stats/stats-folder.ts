import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Logger } from 'pino';
import { createLeaderLock } from '../infra/leader-lock.js';

// Ended calls no longer update the call rollups in their own transaction (migration 0023): the
// trigger on calls appends each call's share to call_stats_queue, and this job adds the queue to
// call_stats_daily / call_stats_monthly with one set-wise statement a second. One instance runs it
// (a leader lock of its own, so it does not follow the AMI consumer around); call_stats_fold()
// also takes an advisory lock, so two folders around a leader change cannot collide. The figures
// do not wait for it: the statistics read the queue with the rollups (stats-query.ts). The period
// only bounds the queue's size, and with it what each read adds on top of the rollups.

export interface StatsFolderOptions {
  pool: pg.Pool;
  redis: Redis;
  logger: Logger;
  /** Redis key of the folder's leader lock. */
  key: string;
  everyMs: number;
  leaderTtlMs?: number;
}

/** Adds the queued calls to the rollups; returns how many queue rows it folded (0 when another folder holds the lock). */
export async function foldCallStats(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ folded: string }>({ name: 'switchboard-call-stats-fold', text: 'select call_stats_fold() as folded' });
  return Number(rows[0]!.folded);
}

export function createStatsFolder(opts: StatsFolderOptions) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> = Promise.resolve();
  let active = false;

  const tick = () => {
    timer = null;
    running = foldCallStats(opts.pool)
      .then(() => undefined)
      .catch((err: unknown) => opts.logger.warn({ err }, 'call statistics fold failed; the queue waits for the next one'))
      .finally(() => {
        if (active) schedule();
      });
  };
  // A chain of timeouts, not an interval: a slow fold is never overtaken by the next one.
  const schedule = () => {
    timer = setTimeout(tick, opts.everyMs);
    timer.unref();
  };

  const leader = createLeaderLock({
    redis: opts.redis,
    key: opts.key,
    logger: opts.logger,
    ttlMs: opts.leaderTtlMs ?? 10_000,
    onAcquired: () => {
      active = true;
      schedule();
    },
    onLost: async () => {
      active = false;
      if (timer) clearTimeout(timer);
      timer = null;
      await running;
    },
  });

  return {
    start: () => leader.start(),
    isLeader: () => leader.isLeader(),
    stop: () => leader.stop(),
  };
}
