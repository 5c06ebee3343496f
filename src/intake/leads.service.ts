import { and, asc, desc, eq, isNull, sql } from 'drizzle-orm';
import { leadScope, ownerDenial } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { clientPhones, clients } from '../clients/clients.table.js';
import type { Db } from '../db/client.js';
import { dealStatusChanges, deals } from '../deals/deals.table.js';
import { departments } from '../departments/departments.table.js';
import { AppError } from '../errors.js';
import { withActor, type Tx } from '../history/with-actor.js';
import { normalizePhone, type CountryCode } from '../phones/normalize.js';
import { users } from '../users/users.table.js';
import type { LeadInput, LeadRow } from './intake.schemas.js';
import { intakeSites, leads, type Utm } from './intake.table.js';
import { leadFate, type MatchedClient } from './lead-fate.js';
import { hashSiteKey } from './site-keys.js';

export type Site = typeof intakeSites.$inferSelect;
type Lead = typeof leads.$inferSelect;

/** A deal opened from a lead, as its owner's screen is told. */
export interface OpenedDeal {
  dealId: number;
  clientId: number;
  ownerId: number;
  title: string;
}

export type Received = { kind: 'owner'; lead: LeadRow; deal: OpenedDeal } | { kind: 'department'; lead: LeadRow };

/** The site a key belongs to, active or not (the caller tells the two apart), or null. */
export async function siteByKey(db: Db, key: string): Promise<Site | null> {
  const [site] = await db.select().from(intakeSites).where(eq(intakeSites.keyHash, hashSiteKey(key)));
  return site ?? null;
}

const view = ({ ip: _ip, ...lead }: Lead): LeadRow => lead;

/** Empty strings from a form are "not given". */
const given = (s: string | undefined): string | null => {
  const t = s?.trim();
  return t ? t : null;
};

function utmOf(input: LeadInput['utm']): Utm {
  const out: Utm = {};
  for (const [k, v] of Object.entries(input ?? {})) if (given(v) !== null) out[k as keyof Utm] = v!.trim();
  return out;
}

/**
 * The client a phone belongs to. Several clients may share a number (a switchboard); as in
 * routing, the one worked on most recently wins.
 */
async function matchClient(tx: Tx, phone: string): Promise<MatchedClient | null> {
  const [row] = await tx
    .select({ clientId: clients.id, ownerId: clients.ownerId, ownerActive: users.active })
    .from(clientPhones)
    .innerJoin(clients, eq(clients.id, clientPhones.clientId))
    .innerJoin(users, eq(users.id, clients.ownerId))
    .where(eq(clientPhones.phone, phone))
    .orderBy(sql`${clients.lastActivityAt} desc nulls last`, desc(clients.id))
    .limit(1);
  return row ?? null;
}

function dealTitle(siteName: string, lead: Pick<Lead, 'name' | 'phone' | 'phoneRaw' | 'email'>): string {
  const who = lead.name || lead.phone || lead.phoneRaw || lead.email || 'lead';
  return `${siteName}: ${who}`.slice(0, 300);
}

/** A new deal (status new, source 'site') with its first status row, as deals.service opens one. */
async function openDeal(tx: Tx, fields: { clientId: number; ownerId: number; title: string; description: string; byId: number | null }): Promise<OpenedDeal> {
  const [row] = await tx
    .insert(deals)
    .values({ clientId: fields.clientId, title: fields.title, status: 'new', description: fields.description, ownerId: fields.ownerId, source: 'site', createdById: fields.byId })
    .returning({ id: deals.id, createdAt: deals.createdAt });
  await tx.insert(dealStatusChanges).values({ dealId: row!.id, fromStatus: null, toStatus: 'new', changedById: fields.byId, changedAt: row!.createdAt });
  return { dealId: row!.id, clientId: fields.clientId, ownerId: fields.ownerId, title: fields.title };
}

/**
 * Stores a lead and decides its fate (lead-fate.ts) in one transaction, written as `web_form`
 * with no person acting. The caller publishes the frames after the commit, so a screen never
 * hears of a deal it cannot open yet.
 */
export async function receiveLead(db: Db, site: Site, input: LeadInput, ip: string | null, region: CountryCode): Promise<Received> {
  const phoneRaw = given(input.phone) ?? '';
  const phone = phoneRaw === '' ? null : normalizePhone(phoneRaw, region);
  return withActor(db, null, 'web_form', async (tx) => {
    const fate = leadFate({ phone, departmentId: site.departmentId }, phone === null ? null : await matchClient(tx, phone));
    const fields = {
      siteId: site.id,
      departmentId: site.departmentId,
      name: given(input.name) ?? '',
      phone,
      phoneRaw,
      email: given(input.email),
      message: given(input.message) ?? '',
      pageUrl: given(input.pageUrl),
      utm: utmOf(input.utm),
      ip,
    };
    if (fate.kind === 'department') {
      const [lead] = await tx.insert(leads).values(fields).returning();
      return { kind: 'department', lead: view(lead!) };
    }
    const deal = await openDeal(tx, { clientId: fate.clientId, ownerId: fate.ownerId, title: dealTitle(site.name, fields), description: fields.message, byId: null });
    const [lead] = await tx
      .insert(leads)
      .values({ ...fields, clientId: fate.clientId, dealId: deal.dealId, assignedToId: fate.ownerId, assignedAt: new Date() })
      .returning();
    return { kind: 'owner', lead: view(lead!), deal };
  });
}

/** A waiting lead the viewer supervises, locked; 404 otherwise, so its existence is not revealed. */
async function loadWaitingLead(tx: Tx, viewer: Viewer, id: number): Promise<Lead> {
  const scope = leadScope(viewer);
  // Managers and assistants see no waiting lead: 404 like any object out of scope (access.ts).
  if (scope.kind === 'none') throw new AppError('NOT_FOUND', `lead ${id} does not exist`);
  const [lead] = await tx
    .select()
    .from(leads)
    .where(and(eq(leads.id, id), scope.kind === 'department' ? eq(leads.departmentId, scope.departmentId) : undefined))
    .for('update');
  if (!lead) throw new AppError('NOT_FOUND', `lead ${id} does not exist`);
  if (lead.assignedAt !== null) throw new AppError('CONFLICT', `lead ${id} is already assigned (deal ${lead.dealId ?? 'deleted'})`);
  return lead;
}

/**
 * Gives a waiting lead to a manager: a new client owned by them (the visitor was unknown, and a
 * deal is seen through its client: on somebody else's client the manager could not open it),
 * with the lead's phone and e-mail, and a new deal. The same owner rules as any client (ownerDenial).
 */
export async function assignLead(db: Db, actor: Actor, viewer: Viewer, id: number, userId: number): Promise<{ lead: LeadRow; deal: OpenedDeal }> {
  return withActor(db, { id: viewer.id }, 'api', async (tx) => {
    const lead = await loadWaitingLead(tx, viewer, id);
    const [owner] = await tx.select({ id: users.id, role: users.role, departmentId: users.departmentId, active: users.active }).from(users).where(eq(users.id, userId));
    if (!owner) throw new AppError('VALIDATION', `userId: user ${userId} does not exist`);
    const denial = ownerDenial(viewer, owner);
    if (denial) throw new AppError(denial.code, denial.message.replace(/^ownerId/, 'userId'));
    const [site] = await tx.select({ name: intakeSites.name }).from(intakeSites).where(eq(intakeSites.id, lead.siteId));
    const [client] = await tx
      .insert(clients)
      .values({ name: lead.name || lead.phoneRaw || lead.email || `Lead ${lead.id}`, kind: 'person', emails: lead.email ? [lead.email] : [], ownerId: owner.id, lastActivityAt: new Date() })
      .returning({ id: clients.id });
    if (lead.phone !== null) await tx.insert(clientPhones).values({ clientId: client!.id, phone: lead.phone, raw: lead.phoneRaw });
    const deal = await openDeal(tx, { clientId: client!.id, ownerId: owner.id, title: dealTitle(site?.name ?? 'site', lead), description: lead.message, byId: viewer.id });
    const [row] = await tx
      .update(leads)
      .set({ clientId: client!.id, dealId: deal.dealId, assignedToId: owner.id, assignedById: viewer.id, assignedAt: new Date() })
      .where(eq(leads.id, id))
      .returning();
    await recordAudit(tx, { ...actor, action: 'lead.assign', entity: 'lead', entityId: id, details: { userId: owner.id, clientId: client!.id, dealId: deal.dealId } });
    return { lead: view(row!), deal };
  });
}

/** Waiting leads the viewer supervises, oldest first: the one waiting longest is called first. */
export async function listWaitingLeads(db: Db, viewer: Viewer, departmentId: number | undefined): Promise<LeadRow[]> {
  const scope = leadScope(viewer);
  if (scope.kind === 'none') return [];
  const rows = await db
    .select()
    .from(leads)
    .where(
      and(
        isNull(leads.assignedAt),
        scope.kind === 'department' ? eq(leads.departmentId, scope.departmentId) : undefined,
        departmentId !== undefined ? eq(leads.departmentId, departmentId) : undefined,
      ),
    )
    .orderBy(asc(leads.id))
    .limit(500);
  return rows.map(view);
}

/** Waiting leads per department the viewer supervises; departments with none show 0. */
export async function unassignedCounts(db: Db, viewer: Viewer): Promise<Array<{ departmentId: number; departmentName: string; count: number }>> {
  const scope = leadScope(viewer);
  if (scope.kind === 'none') return [];
  return db
    .select({
      departmentId: departments.id,
      departmentName: departments.name,
      // Spelt out: drizzle leaves column names unqualified in a one-table select, and a bare "id"
      // inside the subquery would be the lead's own (runtime.ts has the same trap).
      count: sql<number>`(select count(*)::int from leads l where l.department_id = "departments"."id" and l.assigned_at is null)`,
    })
    .from(departments)
    .where(scope.kind === 'department' ? eq(departments.id, scope.departmentId) : undefined)
    .orderBy(asc(departments.id));
}
