import { and, asc, count, eq, inArray, ne, or, sql, type SQL } from 'drizzle-orm';
import { canManageUser, canSetPresence, userPatchDenial, userScope } from '../auth/access.js';
import { hashPassword } from '../auth/passwords.js';
import { revokeUserTokens } from '../auth/tokens.js';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { departments } from '../departments/departments.table.js';
import { AppError } from '../errors.js';
import { parsePhone, type CountryCode } from '../phones/normalize.js';
import type { CreateUserInput, PatchUserInput, UsersFilter, UserView } from './users.schemas.js';
import { users, type AbsentRule, type Presence, type Role } from './users.table.js';
import { withActor } from '../history/with-actor.js';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

// Every column but the password hash.
const userColumns = {
  id: users.id,
  login: users.login,
  name: users.name,
  role: users.role,
  departmentId: users.departmentId,
  managerId: users.managerId,
  extension: users.extension,
  mobile: users.mobile,
  absentRule: users.absentRule,
  presence: users.presence,
  presenceChangedAt: users.presenceChangedAt,
  active: users.active,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
};

/** The viewer's user scope as a WHERE condition (undefined = everybody). */
export function visibleUsers(viewer: Viewer): SQL | undefined {
  const scope = userScope(viewer);
  switch (scope.kind) {
    case 'all':
      return undefined;
    case 'department':
      return eq(users.departmentId, scope.departmentId);
    case 'team':
      return or(eq(users.id, scope.managerId), eq(users.managerId, scope.managerId));
    case 'ids':
      return inArray(users.id, scope.ids);
  }
}

interface Shape {
  role: Role;
  departmentId: number | null;
  managerId: number | null;
  mobile: string | null;
  absentRule: AbsentRule;
}

/** Why a user with these facts cannot exist, or null. */
export function shapeProblem(u: Shape): string | null {
  if (u.role !== 'director' && u.departmentId === null) return `departmentId: is required for a ${u.role}`;
  if (u.role === 'assistant' && u.managerId === null) return 'managerId: is required for an assistant (the manager they work for)';
  if (u.role !== 'assistant' && u.managerId !== null) return `managerId: only an assistant has a manager, not a ${u.role}`;
  if (u.absentRule === 'mobile' && u.mobile === null) return 'absentRule: "mobile" needs a mobile number';
  return null;
}

function normaliseMobile(mobile: string | null | undefined, region: CountryCode): string | null | undefined {
  if (mobile === null || mobile === undefined) return mobile;
  const parsed = parsePhone(mobile, region);
  if (!parsed.ok) throw new AppError('INVALID_PHONE', `mobile: ${parsed.error}`);
  return parsed.e164;
}

/** Checks the references JSON Schema cannot: the department exists, the manager is one. */
async function checkReferences(tx: Db | Tx, u: Shape): Promise<void> {
  if (u.departmentId !== null) {
    const [dep] = await tx.select({ id: departments.id }).from(departments).where(eq(departments.id, u.departmentId));
    if (!dep) throw new AppError('VALIDATION', `departmentId: department ${u.departmentId} does not exist`);
  }
  if (u.managerId !== null) {
    const [m] = await tx.select({ role: users.role, active: users.active, departmentId: users.departmentId }).from(users).where(eq(users.id, u.managerId));
    if (!m) throw new AppError('VALIDATION', `managerId: user ${u.managerId} does not exist`);
    if (m.role !== 'manager') throw new AppError('VALIDATION', `managerId: user ${u.managerId} is a ${m.role}, not a manager`);
    if (!m.active) throw new AppError('VALIDATION', `managerId: user ${u.managerId} is disabled`);
    // The assistant is seen by the manager's curator only when both are in one department.
    if (m.departmentId !== u.departmentId) throw new AppError('VALIDATION', `managerId: manager ${u.managerId} is in another department`);
  }
}

export async function listUsers(db: Db, viewer: Viewer, filter: UsersFilter): Promise<UserView[]> {
  const where = and(
    visibleUsers(viewer),
    filter.role !== undefined ? eq(users.role, filter.role) : undefined,
    filter.departmentId !== undefined ? eq(users.departmentId, filter.departmentId) : undefined,
    filter.active !== undefined ? eq(users.active, filter.active) : undefined,
  );
  return db.select(userColumns).from(users).where(where).orderBy(asc(users.name), asc(users.id));
}

/** The user if the viewer may see them; 404 otherwise, so existence is not revealed. */
export async function getUser(db: Db | Tx, viewer: Viewer, id: number): Promise<UserView> {
  const [row] = await db.select(userColumns).from(users).where(and(eq(users.id, id), visibleUsers(viewer)));
  if (!row) throw new AppError('NOT_FOUND', `user ${id} does not exist`);
  return row;
}

export async function createUser(db: Db, actor: Actor, viewer: Viewer, input: CreateUserInput, region: CountryCode): Promise<UserView> {
  const shape: Shape = {
    role: input.role,
    departmentId: input.departmentId ?? null,
    managerId: input.managerId ?? null,
    mobile: normaliseMobile(input.mobile, region) ?? null,
    absentRule: input.absentRule ?? 'department',
  };
  if (!canManageUser(viewer, shape)) {
    throw new AppError('FORBIDDEN', viewer.role === 'curator' ? 'a curator creates only managers and assistants of their own department' : 'you may not create users');
  }
  const problem = shapeProblem(shape);
  if (problem) throw new AppError('VALIDATION', problem);
  const passwordHash = await hashPassword(input.password);
  return withActor(db, viewer, 'api', async (tx) => {
    await checkReferences(tx, shape);
    await assertUnique(tx, null, input.login.toLowerCase(), input.extension);
    const [row] = await tx
      .insert(users)
      .values({
        ...shape,
        login: input.login.toLowerCase(),
        name: input.name.trim(),
        passwordHash,
        extension: input.extension ?? null,
        presence: input.presence ?? 'available',
      })
      .returning(userColumns);
    await recordAudit(tx, { ...actor, action: 'user.create', entity: 'user', entityId: row!.id, details: { fields: Object.keys(input).filter((f) => f !== 'password') } });
    return row!;
  });
}

export async function updateUser(db: Db, actor: Actor, viewer: Viewer, id: number, patch: PatchUserInput, region: CountryCode): Promise<UserView> {
  const fields = Object.keys(patch);
  const mobile = normaliseMobile(patch.mobile, region);
  const passwordHash = patch.password === undefined ? undefined : await hashPassword(patch.password);
  return withActor(db, viewer, 'api', async (tx) => {
    const target = await getUser(tx, viewer, id);
    const role = patch.role ?? target.role;
    const after: Shape = {
      role,
      departmentId: patch.departmentId !== undefined ? patch.departmentId : target.departmentId,
      // A user who stops being an assistant stops having a manager.
      managerId: patch.managerId !== undefined ? patch.managerId : role === 'assistant' ? target.managerId : null,
      mobile: mobile !== undefined ? mobile : target.mobile,
      absentRule: patch.absentRule ?? target.absentRule,
    };
    const denial = userPatchDenial(viewer, target, after, fields);
    if (denial) throw new AppError('FORBIDDEN', denial);
    const problem = shapeProblem(after);
    if (problem) throw new AppError('VALIDATION', problem);
    if (patch.departmentId !== undefined || patch.managerId !== undefined) await checkReferences(tx, after);
    await assertUnique(tx, id, patch.login?.toLowerCase(), patch.extension);
    if (target.role === 'manager' && (after.role !== 'manager' || after.departmentId !== target.departmentId)) {
      const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(users).where(and(eq(users.managerId, id), eq(users.active, true)));
      if (n > 0) throw new AppError('CONFLICT', `user ${id} still has ${n} assistant(s); give them another manager first`);
    }
    const [row] = await tx
      .update(users)
      .set({
        ...(patch.login !== undefined && { login: patch.login.toLowerCase() }),
        ...(patch.name !== undefined && { name: patch.name.trim() }),
        ...(patch.extension !== undefined && { extension: patch.extension }),
        ...(patch.active !== undefined && { active: patch.active }),
        ...(passwordHash !== undefined && { passwordHash }),
        role: after.role,
        departmentId: after.departmentId,
        managerId: after.managerId,
        mobile: after.mobile,
        absentRule: after.absentRule,
        updatedAt: new Date(),
      })
      .where(eq(users.id, id))
      .returning(userColumns);
    // A new password or a disabled account must end every open session, not only future ones.
    if (passwordHash !== undefined || patch.active === false) await revokeUserTokens(tx, id);
    await recordAudit(tx, { ...actor, action: 'user.update', entity: 'user', entityId: id, details: { fields } });
    return row!;
  });
}

export async function setPresence(db: Db, actor: Actor, viewer: Viewer, id: number, presence: Presence): Promise<UserView> {
  return withActor(db, viewer, 'api', async (tx) => {
    const target = await getUser(tx, viewer, id);
    if (!canSetPresence(viewer, target)) throw new AppError('FORBIDDEN', "only the user, their department's curator or a director may set this status");
    const [row] = await tx
      .update(users)
      // Unchanged status keeps its timestamp: "away since 10:15" must not jump on a repeated click.
      .set({ presence, presenceChangedAt: sql`case when ${users.presence} = ${presence} then ${users.presenceChangedAt} else now() end` })
      .where(eq(users.id, id))
      .returning(userColumns);
    await recordAudit(tx, { ...actor, action: 'user.presence', entity: 'user', entityId: id, details: { presence } });
    return row!;
  });
}

// Checked up front for a message that names the value; the unique indexes still decide a race.
async function assertUnique(tx: Tx, exceptId: number | null, login: string | undefined, extension: string | null | undefined): Promise<void> {
  const others = exceptId === null ? undefined : ne(users.id, exceptId);
  if (login !== undefined) {
    const [taken] = await tx.select({ id: users.id }).from(users).where(and(eq(users.login, login), others));
    if (taken) throw new AppError('CONFLICT', `login: "${login}" is already taken`);
  }
  if (extension != null) {
    const [taken] = await tx.select({ id: users.id }).from(users).where(and(eq(users.extension, extension), others));
    if (taken) throw new AppError('CONFLICT', `extension: ${extension} already belongs to user ${taken.id}`);
  }
}

