import { asc, eq, sql } from 'drizzle-orm';
import { recordAudit, type Actor } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { departments } from '../departments/departments.table.js';
import { AppError } from '../errors.js';
import { withActor, type Tx } from '../history/with-actor.js';
import type { CreateSiteInput, PatchSiteInput, SiteView } from './intake.schemas.js';
import { intakeSites, leads } from './intake.table.js';
import { serialisedOrigin } from './lead-fate.js';
import { newSiteKey } from './site-keys.js';

const view = ({ keyHash: _hash, ...site }: typeof intakeSites.$inferSelect): SiteView => site;

function originOf(input: string): string {
  const origin = serialisedOrigin(input);
  if (origin === null) throw new AppError('VALIDATION', `allowedOrigin: "${input}" is not an origin like https://example.ru (no path)`);
  return origin;
}

async function checkDepartment(tx: Tx, departmentId: number): Promise<void> {
  const [row] = await tx.select({ id: departments.id }).from(departments).where(eq(departments.id, departmentId));
  if (!row) throw new AppError('VALIDATION', `departmentId: department ${departmentId} does not exist`);
}

export async function listSites(db: Db): Promise<SiteView[]> {
  return (await db.select().from(intakeSites).orderBy(asc(intakeSites.id))).map(view);
}

/** The key is in this answer only; like a webhook secret it cannot be read back. */
export async function createSite(db: Db, actor: Actor, input: CreateSiteInput): Promise<SiteView & { key: string }> {
  const allowedOrigin = originOf(input.allowedOrigin);
  const { key, hash, hint } = newSiteKey();
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    await checkDepartment(tx, input.departmentId);
    const [row] = await tx.insert(intakeSites).values({ name: input.name.trim(), departmentId: input.departmentId, allowedOrigin, keyHash: hash, keyHint: hint }).returning();
    await recordAudit(tx, { ...actor, action: 'intake_site.create', entity: 'intake_site', entityId: row!.id, details: { departmentId: input.departmentId, allowedOrigin } });
    return { ...view(row!), key };
  });
}

export async function updateSite(db: Db, actor: Actor, id: number, patch: PatchSiteInput): Promise<SiteView> {
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    if (patch.departmentId !== undefined) await checkDepartment(tx, patch.departmentId);
    const next = {
      ...(patch.name !== undefined && { name: patch.name.trim() }),
      ...(patch.departmentId !== undefined && { departmentId: patch.departmentId }),
      ...(patch.allowedOrigin !== undefined && { allowedOrigin: originOf(patch.allowedOrigin) }),
      ...(patch.active !== undefined && { active: patch.active }),
    };
    const [row] = await tx.update(intakeSites).set({ ...next, updatedAt: new Date() }).where(eq(intakeSites.id, id)).returning();
    if (!row) throw new AppError('NOT_FOUND', `site ${id} does not exist`);
    await recordAudit(tx, { ...actor, action: 'intake_site.update', entity: 'intake_site', entityId: id, details: { fields: Object.keys(next) } });
    return view(row);
  });
}

/**
 * A new key for a site whose key leaked or whose web agency changed: the old key stops at once
 * (only the hash is kept, and it is replaced). Like at creation, the key is in this answer only.
 */
export async function rotateSiteKey(db: Db, actor: Actor, id: number): Promise<SiteView & { key: string }> {
  const { key, hash, hint } = newSiteKey();
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    const [row] = await tx.update(intakeSites).set({ keyHash: hash, keyHint: hint, updatedAt: new Date() }).where(eq(intakeSites.id, id)).returning();
    if (!row) throw new AppError('NOT_FOUND', `site ${id} does not exist`);
    await recordAudit(tx, { ...actor, action: 'intake_site.rotate_key', entity: 'intake_site', entityId: id, details: { keyHint: hint } });
    return { ...view(row), key };
  });
}

/** A site that brought leads is kept (they name it); deactivate it instead. */
export async function deleteSite(db: Db, actor: Actor, id: number): Promise<void> {
  await withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    const [used] = await tx.select({ n: sql<number>`count(*)::int` }).from(leads).where(eq(leads.siteId, id));
    if ((used?.n ?? 0) > 0) throw new AppError('CONFLICT', `site ${id} has ${used!.n} leads; deactivate it (PATCH active: false) instead`);
    const deleted = await tx.delete(intakeSites).where(eq(intakeSites.id, id)).returning({ id: intakeSites.id });
    if (deleted.length === 0) throw new AppError('NOT_FOUND', `site ${id} does not exist`);
    await recordAudit(tx, { ...actor, action: 'intake_site.delete', entity: 'intake_site', entityId: id, details: {} });
  });
}
