import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { withActor } from '../history/with-actor.js';
import { settings } from './settings.table.js';

export interface BaseSettings {
  /** Managers and assistants see clients' numbers masked in lists (access.ts `masksPhonesInLists`). */
  maskPhonesInLists: boolean;
  /** Past the read budget the account is also disabled and its sessions ended (read-budget.ts). */
  suspendOnScraping: boolean;
}

/** How long an instance answers from its copy: another instance's change shows within this. */
const CACHE_MS = 1_000;

/**
 * The director's settings, read on every list page: kept in memory for a second, so a list costs
 * no extra query, and a director's change reaches every instance within that second (the
 * instance that made it at once). When PostgreSQL cannot be read, the last copy (or the
 * configuration) answers: a list must not fail on a setting.
 */
export function createSettings(db: Db, config: Pick<Config, 'MASK_PHONES_IN_LISTS' | 'READ_BUDGET_SUSPEND'>) {
  const defaults: BaseSettings = { maskPhonesInLists: config.MASK_PHONES_IN_LISTS, suspendOnScraping: config.READ_BUDGET_SUSPEND };
  let copy: { value: BaseSettings; at: number } | null = null;

  async function read(): Promise<BaseSettings> {
    const [row] = await db.select().from(settings);
    return row ? { maskPhonesInLists: row.maskPhonesInLists, suspendOnScraping: row.suspendOnScraping } : defaults;
  }

  async function current(): Promise<BaseSettings> {
    if (copy !== null && Date.now() - copy.at < CACHE_MS) return copy.value;
    try {
      copy = { value: await read(), at: Date.now() };
    } catch {
      return copy?.value ?? defaults;
    }
    return copy.value;
  }

  /** Changes what the director sent; kept in the history like any other change. */
  async function update(actor: { id: number }, patch: Partial<BaseSettings>): Promise<BaseSettings> {
    const next = { ...(await read()), ...patch };
    await withActor(db, actor, 'api', (tx) =>
      tx
        .insert(settings)
        .values({ id: 1, ...next, updatedBy: actor.id })
        .onConflictDoUpdate({ target: settings.id, set: { ...next, updatedBy: actor.id, updatedAt: new Date() } }),
    );
    copy = { value: next, at: Date.now() };
    return next;
  }

  return { current, update };
}

export type Settings = ReturnType<typeof createSettings>;
