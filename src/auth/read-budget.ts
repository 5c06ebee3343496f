import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { recordAudit } from '../audit/audit.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { EventBus } from '../events/event-bus.js';
import type { Settings } from '../settings/settings.service.js';
import { users } from '../users/users.table.js';
import { revokeUserTokens } from './tokens.js';
import type { Viewer } from './viewer.js';

const HOUR_MS = 3_600_000;

export interface ReadBudgetDeps {
  db: Db;
  redis: Redis;
  config: Pick<Config, 'REDIS_PREFIX' | 'READ_BUDGET_CARDS_PER_HOUR'>;
  /** The director's `suspendOnScraping` (READ_BUDGET_SUSPEND until a director sets it). */
  settings: Pick<Settings, 'current'>;
  logger: Logger;
  /** Present in a full runtime: the `security.scraping` frame goes to every director. */
  bus?: EventBus | undefined;
  /** The webhook dispatcher's `notify` (runtime.ts). */
  notify?: ((event: 'security.scraping', key: string, payload: object) => Promise<void>) | undefined;
  /** Closes the user's screens after a suspension (auth/end-sessions.ts). */
  endSessions?: ((userId: number) => void) | undefined;
}

/**
 * What one read is, for the distinct count. Everything about one client (its card, contacts,
 * notes, history, a deal of it, a call with it) is one read of that client: opening a card
 * loads several of them, and what the budget guards is the number of clients, not of requests.
 * A page of a list is a read of its own (it shows many clients); the same list, filters and
 * page again is the same read.
 */
export const readOf = {
  client: (clientId: number): string => `card:${clientId}`,
  /** A list narrowed to one client (`?clientId=`, as the console's card asks its deals and calls) is that client. */
  listOf: (list: string, query: { clientId?: number | undefined }): string =>
    query.clientId !== undefined ? readOf.client(query.clientId) : readOf.page(list, query),
  /** Hashed: the query may carry `?token=` (never kept in Redis), and a hash keeps members short. */
  page: (list: string, query: object): string => {
    const entries = Object.entries(query).filter(([key, value]) => key !== 'token' && value !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `${list}:${createHash('sha256').update(JSON.stringify(entries)).digest('base64url').slice(0, 22)}`;
  },
};

/**
 * How many distinct clients (readOf) and list pages one person reads an hour. Somebody copying the
 * base reads far more than a day of calls needs; past READ_BUDGET_CARDS_PER_HOUR the directors
 * are told (frame + webhook, once an hour per user) and, with `suspendOnScraping`, the account
 * is disabled and its tokens revoked. Directors own the base and are not counted. Redis being
 * down must not stop work, so counting then fails open.
 */
export function createReadBudget(deps: ReadBudgetDeps) {
  const { config } = deps;
  const log = deps.logger.child({ feature: 'read-budget' });

  async function trip(viewer: Viewer, reads: number, ip: string | null): Promise<void> {
    const suspend = (await deps.settings.current()).suspendOnScraping;
    await deps.db.transaction(async (tx) => {
      if (suspend) {
        await tx.update(users).set({ active: false, updatedAt: new Date() }).where(eq(users.id, viewer.id));
        await revokeUserTokens(tx, viewer.id);
      }
      // The audit log is where an investigation starts; the frame is gone once read.
      await recordAudit(tx, { actorId: viewer.id, ip, action: 'security.scraping', entity: 'user', entityId: viewer.id, details: { reads, limit: config.READ_BUDGET_CARDS_PER_HOUR, suspended: suspend } });
    });
    if (suspend) deps.endSessions?.(viewer.id);
    const alert = {
      user: { id: viewer.id, login: viewer.login, name: viewer.name, role: viewer.role },
      reads,
      limit: config.READ_BUDGET_CARDS_PER_HOUR,
      windowMinutes: 60,
      suspended: suspend,
    };
    log.warn(alert, 'read budget exceeded');
    deps.bus?.publish({ directors: true }, { type: 'security.scraping', ...alert });
    await deps.notify?.('security.scraping', `${viewer.id}-${Date.now()}`, alert).catch((err) => log.error({ err }, 'could not queue the scraping webhook'));
  }

  /**
   * Counts one read of `what` (readOf): the same thing twice counts once. A function is asked
   * only for a counted viewer: finding a deal's client is a query a director need not pay.
   */
  async function record(viewer: Viewer, what: string | (() => Promise<string | null>), ip: string | null = null): Promise<void> {
    if (viewer.role === 'director') return;
    const member = typeof what === 'string' ? what : await what();
    if (member === null) return;
    const key = `${config.REDIS_PREFIX}:reads:${viewer.id}`;
    const now = Date.now();
    let reads: number;
    try {
      // A sliding hour: each thing read is a member scored by when it was last read.
      const result = await deps.redis.multi().zremrangebyscore(key, 0, now - HOUR_MS).zadd(key, now, member).zcard(key).pexpire(key, HOUR_MS).exec();
      reads = Number(result?.[2]?.[1] ?? 0);
      if (reads <= config.READ_BUDGET_CARDS_PER_HOUR) return;
      // Once per user an hour, whichever instance sees the crossing first.
      const first = await deps.redis.set(`${config.REDIS_PREFIX}:reads-alerted:${viewer.id}`, '1', 'PX', HOUR_MS, 'NX');
      if (first !== 'OK') return;
    } catch (err) {
      log.warn({ err }, 'read budget unavailable');
      return;
    }
    await trip(viewer, reads, ip);
  }

  return { record };
}

export type ReadBudget = ReturnType<typeof createReadBudget>;
/** What a route needs: present in the app, absent in tests that build a route alone. */
export type ReadRecorder = Pick<ReadBudget, 'record'>;
