import { and, asc, count, eq, inArray, ne } from 'drizzle-orm';
import { recordAudit, type Actor } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import { parsePhone, type CountryCode } from '../phones/normalize.js';
import { validateSchedule, validateTimeZone, type WeeklySchedule } from '../routing/business-hours.js';
import { dialStringProblem } from '../routing/dial-templates.js';
import { users } from '../users/users.table.js';
import type { CreateDepartmentInput, DepartmentView, PatchDepartmentInput } from './departments.schemas.js';
import { departmentDids, departments } from './departments.table.js';
import { withActor } from '../history/with-actor.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type Line = { kind: 'queue' | 'dial'; target: string };

const QUEUE_NAME = /^[A-Za-z0-9_-]+$/;
// One `Tech/resource` per `&`-separated target; `100` alone is a common typo that Dial() rejects.
const DIAL_TARGET = /^[A-Za-z][A-Za-z0-9_]*\/[^/]/;

/** Why the common line would not work in the dialplan, or null. */
export function lineProblem(line: Line): string | null {
  if (line.kind === 'queue') {
    return QUEUE_NAME.test(line.target) ? null : `line.target: queue name "${line.target}" may contain only letters, digits, _ and -`;
  }
  // The dialplan runs Dial(${dial},${timeout}): a comma would become the timeout argument.
  const problem = dialStringProblem(line.target);
  if (problem) return `line.target: dial string "${line.target}" ${problem}`;
  // Asterisk's argument parser also honours quotes, backslashes and parentheses: they would
  // change where the arguments split.
  if (/["'\\()]/.test(line.target)) return `line.target: dial string "${line.target}" contains quotes, a backslash or parentheses`;
  const bad = line.target.split('&').find((part) => !DIAL_TARGET.test(part));
  if (bad !== undefined) return `line.target: "${bad}" is not a Tech/resource dial target (e.g. PJSIP/100 or PJSIP/100&PJSIP/101)`;
  return null;
}

/** DIDs as E.164, duplicates collapsed; 400 INVALID_PHONE naming the first bad one. */
export function normaliseDids(dids: readonly string[], region: CountryCode): string[] {
  const out = new Set<string>();
  for (const [i, raw] of dids.entries()) {
    const parsed = parsePhone(raw, region);
    if (!parsed.ok) throw new AppError('INVALID_PHONE', `dids[${i}]: ${parsed.error}`);
    out.add(parsed.e164);
  }
  return [...out];
}

/** Checks the fields that JSON Schema cannot and returns them ready to store. */
function checkFields(input: PatchDepartmentInput): { businessHours?: WeeklySchedule | null; timeZone?: string } {
  if (input.line) {
    const problem = lineProblem(input.line);
    if (problem) throw new AppError('VALIDATION', problem);
  }
  const out: { businessHours?: WeeklySchedule | null; timeZone?: string } = {};
  if (input.businessHours !== undefined) {
    const problems = input.businessHours === null ? [] : validateSchedule(input.businessHours);
    if (problems.length > 0) throw new AppError('VALIDATION', `businessHours: ${problems.join('; ')}`);
    out.businessHours = input.businessHours as WeeklySchedule | null;
  }
  if (input.timeZone !== undefined) {
    const problem = validateTimeZone(input.timeZone);
    if (problem) throw new AppError('VALIDATION', `timeZone: ${problem}`);
    // Stored in its canonical spelling (`europe/moscow` → `Europe/Moscow`).
    out.timeZone = new Intl.DateTimeFormat('en-US', { timeZone: input.timeZone }).resolvedOptions().timeZone;
  }
  return out;
}

export async function listDepartments(db: Db): Promise<DepartmentView[]> {
  const rows = await db.select().from(departments).orderBy(asc(departments.name));
  const dids = await db.select().from(departmentDids).orderBy(asc(departmentDids.did));
  return rows.map((row) => toView(row, dids.filter((d) => d.departmentId === row.id).map((d) => d.did)));
}

export async function getDepartment(db: Db | Tx, id: number): Promise<DepartmentView> {
  const [row] = await db.select().from(departments).where(eq(departments.id, id));
  if (!row) throw new AppError('NOT_FOUND', `department ${id} does not exist`);
  const dids = await db.select({ did: departmentDids.did }).from(departmentDids).where(eq(departmentDids.departmentId, id)).orderBy(asc(departmentDids.did));
  return toView(row, dids.map((d) => d.did));
}

export async function createDepartment(db: Db, actor: Actor, input: CreateDepartmentInput, region: CountryCode): Promise<DepartmentView> {
  const checked = checkFields(input);
  const dids = normaliseDids(input.dids ?? [], region);
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    await assertNameFree(tx, input.name.trim(), null);
    const [row] = await tx
      .insert(departments)
      .values({
        name: input.name.trim(),
        lineKind: input.line.kind,
        lineTarget: input.line.target,
        voicemailBox: input.voicemailBox ?? null,
        businessHours: checked.businessHours ?? null,
        ...(checked.timeZone !== undefined && { timeZone: checked.timeZone }),
      })
      .returning({ id: departments.id });
    const id = row!.id;
    await replaceDids(tx, id, dids);
    await recordAudit(tx, { ...actor, action: 'department.create', entity: 'department', entityId: id, details: { fields: Object.keys(input) } });
    return getDepartment(tx, id);
  });
}

export async function updateDepartment(db: Db, actor: Actor, id: number, patch: PatchDepartmentInput, region: CountryCode): Promise<DepartmentView> {
  const checked = checkFields(patch);
  const dids = patch.dids === undefined ? undefined : normaliseDids(patch.dids, region);
  return withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    if (patch.name !== undefined) await assertNameFree(tx, patch.name.trim(), id);
    const [row] = await tx
      .update(departments)
      .set({
        ...(patch.name !== undefined && { name: patch.name.trim() }),
        ...(patch.line !== undefined && { lineKind: patch.line.kind, lineTarget: patch.line.target }),
        ...(patch.voicemailBox !== undefined && { voicemailBox: patch.voicemailBox }),
        ...checked,
        updatedAt: new Date(),
      })
      .where(eq(departments.id, id))
      .returning({ id: departments.id });
    if (!row) throw new AppError('NOT_FOUND', `department ${id} does not exist`);
    if (dids !== undefined) await replaceDids(tx, id, dids);
    await recordAudit(tx, { ...actor, action: 'department.update', entity: 'department', entityId: id, details: { fields: Object.keys(patch) } });
    return getDepartment(tx, id);
  });
}

export async function deleteDepartment(db: Db, actor: Actor, id: number): Promise<void> {
  await withActor(db, { id: actor.actorId }, 'api', async (tx) => {
    // Locks the row so a user cannot be moved in between the check and the delete.
    const [row] = await tx.select({ id: departments.id }).from(departments).where(eq(departments.id, id)).for('update');
    if (!row) throw new AppError('NOT_FOUND', `department ${id} does not exist`);
    // Disabled users count too: their clients are still scoped by their department.
    const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(users).where(eq(users.departmentId, id));
    if (n > 0) throw new AppError('CONFLICT', `department ${id} still has ${n} user(s), disabled ones included; move them to another department first`);
    await tx.delete(departments).where(eq(departments.id, id));
    await recordAudit(tx, { ...actor, action: 'department.delete', entity: 'department', entityId: id });
  });
}

// Checked up front for a message that names the value; the unique index still decides a race.
async function assertNameFree(tx: Tx, name: string, exceptId: number | null): Promise<void> {
  const [taken] = await tx
    .select({ id: departments.id })
    .from(departments)
    .where(and(eq(departments.name, name), exceptId === null ? undefined : ne(departments.id, exceptId)));
  if (taken) throw new AppError('CONFLICT', `name: department "${name}" already exists`);
}

/** Replaces the department's DIDs; a number owned by another department is a 409 naming it. */
async function replaceDids(tx: Tx, departmentId: number, dids: string[]): Promise<void> {
  if (dids.length > 0) {
    const taken = await tx
      .select({ did: departmentDids.did, name: departments.name })
      .from(departmentDids)
      .innerJoin(departments, eq(departments.id, departmentDids.departmentId))
      .where(and(inArray(departmentDids.did, dids), ne(departmentDids.departmentId, departmentId)))
      .limit(1);
    if (taken[0]) throw new AppError('CONFLICT', `dids: ${taken[0].did} already belongs to department "${taken[0].name}"`);
  }
  await tx.delete(departmentDids).where(eq(departmentDids.departmentId, departmentId));
  // A concurrent claim of the same number still fails here, on the primary key (→ 409).
  if (dids.length > 0) await tx.insert(departmentDids).values(dids.map((did) => ({ did, departmentId })));
}

function toView(row: typeof departments.$inferSelect, dids: string[]): DepartmentView {
  return {
    id: row.id,
    name: row.name,
    line: { kind: row.lineKind, target: row.lineTarget },
    voicemailBox: row.voicemailBox,
    dids,
    businessHours: row.businessHours ?? null,
    timeZone: row.timeZone,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
