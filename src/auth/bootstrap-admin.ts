import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Db } from '../db/client.js';
import { users } from '../users/users.table.js';
import { hashPassword } from './passwords.js';

/**
 * On the very first start there is nobody to sign in as: create the director `admin`, with
 * ADMIN_PASSWORD or a generated password printed once. Runs under an advisory lock so two
 * instances starting together create one admin.
 */
export async function bootstrapAdmin(db: Db, logger: Logger, adminPassword: string | undefined): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('switchboard:bootstrap-admin'))`);
    const [{ count } = { count: 0 }] = await tx.select({ count: sql<number>`count(*)::int` }).from(users);
    if (count > 0) return;
    const password = adminPassword ?? randomBytes(12).toString('base64url');
    await tx.insert(users).values({ login: 'admin', name: 'Administrator', role: 'director', passwordHash: await hashPassword(password) });
    if (adminPassword) {
      logger.info({ login: 'admin' }, 'created the director account "admin" with ADMIN_PASSWORD');
    } else {
      // Deliberately outside pino's redaction: this is the one time the operator can learn it.
      logger.warn({ login: 'admin' }, `created the director account "admin"; its password is: ${password} (shown once; change it)`);
    }
  });
}
