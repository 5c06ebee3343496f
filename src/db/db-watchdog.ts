import pg from 'pg';
import type { Logger } from 'pino';

export interface DbWatchdog {
  /** 'down' from the first failed probe until one succeeds. */
  status(): 'ok' | 'down';
  /** Milliseconds the database has been unreachable, 0 when reachable. */
  downForMs(): number;
  stop(): void;
}

/**
 * Probes PostgreSQL on a connection of its own (a pooled one could sit behind a hung query) and
 * gives up when it stays unreachable for `giveUpAfterMs`: the caller then exits so that the
 * process supervisor restarts the service (systemd, Docker, Kubernetes). That is for a
 * DATABASE_URL that stays down, or an embedded PostgreSQL that cannot be started again; short
 * outages are ridden out (503 with Retry-After, routing from memory).
 */
export function createDbWatchdog(opts: {
  url: string;
  logger: Logger;
  everyMs?: number;
  /** 0: never give up. */
  giveUpAfterMs: number;
  onGiveUp: (downForMs: number) => void;
}): DbWatchdog {
  const everyMs = opts.everyMs ?? 1_000;
  let downSince: number | null = null;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const probe = async (): Promise<boolean> => {
    const client = new pg.Client({ connectionString: opts.url, connectionTimeoutMillis: everyMs, query_timeout: everyMs });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      client.end().catch(() => {});
    }
  };

  const tick = async () => {
    const ok = await probe();
    if (stopped) return;
    const now = Date.now();
    if (ok && downSince !== null) {
      opts.logger.info({ downForMs: now - downSince }, 'database reachable again');
      downSince = null;
    } else if (!ok && downSince === null) {
      downSince = now;
      opts.logger.error({ giveUpAfterMs: opts.giveUpAfterMs }, 'database unreachable');
    }
    if (downSince !== null && opts.giveUpAfterMs > 0 && now - downSince >= opts.giveUpAfterMs) {
      stopped = true;
      opts.logger.fatal({ downForMs: now - downSince }, 'database unreachable for too long; exiting for the supervisor to restart the service');
      return opts.onGiveUp(now - downSince);
    }
    timer = setTimeout(tick, everyMs);
    timer.unref();
  };
  timer = setTimeout(tick, everyMs);
  timer.unref();

  return {
    status: () => (downSince === null ? 'ok' : 'down'),
    downForMs: () => (downSince === null ? 0 : Date.now() - downSince),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
