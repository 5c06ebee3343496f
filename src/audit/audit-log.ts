import { and, desc, eq, gte, lt } from 'drizzle-orm';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import { users } from '../users/users.table.js';
import type { AuditEntryView, AuditFilter } from './audit.schemas.js';
import { auditLog } from './audit.table.js';

/**
 * The audit log for a director. It says who read which client: a curator reading it would learn
 * about clients outside their department, so it is the director's alone.
 */
export async function readAuditLog(db: Db, viewer: Viewer, filter: AuditFilter): Promise<{ items: AuditEntryView[]; nextBefore: number | null }> {
  if (viewer.role !== 'director') throw new AppError('FORBIDDEN', 'only a director reads the audit log');
  const rows = await db
    .select({
      id: auditLog.id,
      at: auditLog.at,
      actorId: auditLog.actorId,
      actorName: users.name,
      action: auditLog.action,
      entity: auditLog.entity,
      entityId: auditLog.entityId,
      details: auditLog.details,
      ip: auditLog.ip,
    })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorId))
    .where(
      and(
        filter.actorId !== undefined ? eq(auditLog.actorId, filter.actorId) : undefined,
        filter.action !== undefined ? eq(auditLog.action, filter.action) : undefined,
        filter.entity !== undefined ? eq(auditLog.entity, filter.entity) : undefined,
        filter.entityId !== undefined ? eq(auditLog.entityId, filter.entityId) : undefined,
        filter.from !== undefined ? gte(auditLog.at, new Date(filter.from)) : undefined,
        filter.to !== undefined ? lt(auditLog.at, new Date(filter.to)) : undefined,
        // Keyset on the id, not an offset: the log only grows, and a page deep in it stays cheap.
        filter.before !== undefined ? lt(auditLog.id, filter.before) : undefined,
      ),
    )
    .orderBy(desc(auditLog.id))
    .limit(filter.limit + 1);
  const items = rows.slice(0, filter.limit);
  return { items, nextBefore: rows.length > filter.limit ? items.at(-1)!.id : null };
}
