import type { FastifyRequest } from 'fastify';
import { viewerOf } from '../auth/auth.plugin.js';
import type { Db } from '../db/client.js';
import { auditLog } from './audit.table.js';

export interface AuditEntry {
  actorId: number | null;
  /** `entity.verb`, e.g. `client.view`, `user.update`. */
  action: string;
  entity: string;
  entityId: string | number | null;
  details?: Record<string, unknown> | null;
  ip?: string | null;
}

/** Who did it and from where, as the routes know it; services pass it on to `recordAudit`. */
export interface Actor {
  actorId: number;
  ip: string | null;
}

/** The signed-in user of a request and the address it came from. */
export const actorOf = (request: FastifyRequest): Actor => ({ actorId: viewerOf(request).id, ip: request.ip });

/**
 * Appends one row to the change history. Takes anything that can insert, so a change and its
 * audit row are written in the same transaction: a rolled-back change leaves no history, and a
 * committed one always has it.
 */
export async function recordAudit(db: Pick<Db, 'insert'>, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    actorId: entry.actorId,
    action: entry.action,
    entity: entry.entity,
    entityId: entry.entityId === null ? null : String(entry.entityId),
    details: entry.details ?? null,
    ip: entry.ip ?? null,
  });
}

/** Hides a phone number in the history but keeps the last 4 digits, enough to recognise it. */
export function maskPhone(phone: string): string {
  const digits = phone.replace(/\D/g, '').length;
  let seen = 0;
  return phone.replace(/\d/g, (d) => (++seen > digits - 4 ? d : '*'));
}
