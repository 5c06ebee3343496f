import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { users } from '../users/users.table.js';
import { hashPassword } from './passwords.js';

/** Where the generated password of the first director is left, inside DATA_DIR. */
export const ADMIN_PASSWORD_FILE = 'admin-password';

/**
 * On the very first start there is nobody to sign in as: create the director `admin`, with
 * ADMIN_PASSWORD or a generated password. A generated one is written to DATA_DIR/admin-password,
 * readable by the service's user only, and the log says where: a password in the log would
 * travel to every place logs are shipped (the privacy rule: no secrets in logs). Runs under an
 * advisory lock so two instances starting together create one admin; if the file cannot be
 * written, nothing is created and the start fails saying what to do.
 */
export async function bootstrapAdmin(db: Db, logger: Logger, adminPassword: string | undefined, dataDir: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('switchboard:bootstrap-admin'))`);
    const [{ count } = { count: 0 }] = await tx.select({ count: sql<number>`count(*)::int` }).from(users);
    if (count > 0) return;
    const password = adminPassword ?? randomBytes(12).toString('base64url');
    await tx.insert(users).values({ login: 'admin', name: 'Administrator', role: 'director', passwordHash: await hashPassword(password) });
    if (adminPassword) {
      logger.info({ login: 'admin' }, 'created the director account "admin" with ADMIN_PASSWORD');
      return;
    }
    const file = path.resolve(dataDir, ADMIN_PASSWORD_FILE);
    try {
      await mkdir(dataDir, { recursive: true });
      await writeFile(file, `${password}\n`, { mode: 0o600 });
    } catch (err) {
      throw new Error(`could not write the first director's password to ${file} (${(err as Error).message}): make DATA_DIR writable or set ADMIN_PASSWORD`);
    }
    logger.warn({ login: 'admin', file }, `created the director account "admin"; its password is in ${file} (readable by this user only; sign in, change it, delete the file)`);
  });
}
