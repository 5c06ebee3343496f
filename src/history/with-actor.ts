import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

/** Through what a change was made; `psql` is what the trigger writes when nobody said. */
export const CHANNELS = ['api', 'import', 'web_form', 'pbx', 'system', 'psql'] as const;
export type Via = (typeof CHANNELS)[number];

/**
 * Runs `fn` in a transaction that tells the history trigger (migration 0010) who acts and through
 * what. `set_config(…, true)` is local to the transaction: a pooled connection carries nothing
 * over to the next request, and a write outside this helper is recorded as `psql`.
 */
export async function withActor<T>(db: Db, actor: { id: number } | null, via: Via, fn: (tx: Tx) => Promise<T>, settings: Record<string, string> = {}): Promise<T> {
  return db.transaction(async (tx) => {
    // `settings`: more of the transaction's own settings, sent in the same round trip (an import's batch).
    const more = Object.entries(settings).map(([name, value]) => sql`, set_config(${name}, ${value}, true)`);
    await tx.execute(sql`select set_config('switchboard.actor_id', ${actor === null ? '' : String(actor.id)}, true), set_config('switchboard.via', ${via}, true)${sql.join(more)}`);
    return fn(tx);
  });
}
