import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { users } from '../users/users.table.js';
import { authTokens } from './tokens.table.js';
import type { Viewer } from './viewer.js';

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function issueToken(db: Db, userId: number, ttlHours: number): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(Date.now() + ttlHours * 3_600_000);
  await db.insert(authTokens).values({ userId, tokenHash: hashToken(token), expiresAt });
  return { token, expiresAt };
}

export async function revokeToken(db: Db, token: string): Promise<void> {
  await db.update(authTokens).set({ revokedAt: new Date() }).where(eq(authTokens.tokenHash, hashToken(token)));
}

/**
 * Ends every session of a user (disabled account, new password). The sockets they already hold
 * are closed by the caller after commit (`sessionsClosed` frame on the event bus): a token is
 * checked only when a socket opens.
 */
export async function revokeUserTokens(db: Pick<Db, 'update'>, userId: number): Promise<number> {
  const rows = await db
    .update(authTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(authTokens.userId, userId), isNull(authTokens.revokedAt)))
    .returning({ id: authTokens.id });
  return rows.length;
}

/** The active user behind a token, or null when it is unknown, expired, revoked or the user is disabled. */
export async function viewerForToken(db: Db, token: string): Promise<Viewer | null> {
  const [row] = await db
    .select({
      id: users.id,
      login: users.login,
      name: users.name,
      role: users.role,
      departmentId: users.departmentId,
      managerId: users.managerId,
    })
    .from(authTokens)
    .innerJoin(users, eq(users.id, authTokens.userId))
    .where(
      and(
        eq(authTokens.tokenHash, hashToken(token)),
        isNull(authTokens.revokedAt),
        gt(authTokens.expiresAt, new Date()),
        eq(users.active, true),
      ),
    )
    .limit(1);
  return row ?? null;
}

/** Reads the bearer token from `Authorization: Bearer …` or, for browsers' WebSocket, `?token=`. */
export function tokenFromRequest(headers: Record<string, unknown>, query: unknown): string | null {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const match = /^Bearer\s+(\S+)$/i.exec(auth);
    if (match?.[1]) return match[1];
  }
  const fromQuery = (query as { token?: unknown } | null)?.token;
  return typeof fromQuery === 'string' && fromQuery.length > 0 ? fromQuery : null;
}
