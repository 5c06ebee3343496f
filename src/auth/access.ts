import type { Role } from '../users/users.table.js';
import type { Viewer } from './viewer.js';

// Who may see and change what (DESIGN.md, "Roles"). Pure functions over plain data: services turn
// the scopes into SQL conditions, so a list never loads rows the viewer may not see.

/** Which clients a viewer sees: everything, those owned by a department's users, or by given owners. */
export type ClientScope =
  | { kind: 'all' }
  | { kind: 'department'; departmentId: number }
  | { kind: 'owners'; ownerIds: number[] };

export function clientScope(viewer: Viewer): ClientScope {
  switch (viewer.role) {
    case 'director':
      return { kind: 'all' };
    case 'curator':
      // A curator without a department runs nothing; an empty owner list matches no client.
      return viewer.departmentId === null ? { kind: 'owners', ownerIds: [] } : { kind: 'department', departmentId: viewer.departmentId };
    case 'manager':
      return { kind: 'owners', ownerIds: [viewer.id] };
    case 'assistant':
      // An assistant works the manager's book; clients they create are owned by the manager.
      return { kind: 'owners', ownerIds: viewer.managerId === null ? [] : [viewer.managerId] };
  }
}

/**
 * Deals, their files and notes are not a second rule: a viewer sees one exactly when they see
 * its client, so a client handed to another manager takes its deals and notes along. Services
 * select them through their client (deals.service.ts `visibleDeals`).
 */
export function dealScope(viewer: Viewer): ClientScope {
  return clientScope(viewer);
}

/** Notes follow their client too, whether they are about the client or one of its deals. */
export const noteScope = dealScope;

/**
 * Whether lists show this viewer clients' numbers masked. Managers and assistants call through
 * click-to-call and read a full number only on a card they open, so a list page is not a copy
 * of the base; directors and curators see numbers in full. `maskSetting` is the director's
 * switch (MASK_PHONES_IN_LISTS).
 */
export function masksPhonesInLists(viewer: Viewer, maskSetting: boolean): boolean {
  return maskSetting && (viewer.role === 'manager' || viewer.role === 'assistant');
}

/** The list of deal types (and their colours) is the director's, like the company's price list. */
export function canEditDealTypes(viewer: Viewer): boolean {
  return viewer.role === 'director';
}

/**
 * The owner of a new deal: the client's owner unless a curator or director names someone
 * (`ownerDenial` then checks that user); a manager or assistant works deals of their own book.
 */
export function dealOwnerFor(viewer: Viewer, clientOwnerId: number, requested: number | undefined): { ownerId: number } | { error: string } {
  if (requested === undefined || requested === clientOwnerId) return { ownerId: clientOwnerId };
  if (viewer.role === 'manager' || viewer.role === 'assistant') {
    return { error: `ownerId: a ${viewer.role} cannot give a deal to another owner than the client's (user ${clientOwnerId})` };
  }
  return { ownerId: requested };
}

/** A person as the rules about their calls look at them. */
export interface WorkPerson {
  id: number;
  departmentId: number | null;
  managerId: number | null;
}

/**
 * Whether the viewer sees work done by or for any of `people` (a call's owner, who answered,
 * who clicked; the managers a call was routed to). The client rule applied to people: director
 * everybody, curator their department, manager themselves and their assistants, assistant what
 * their manager sees; anyone their own. Recordings and routing traces both ask this.
 */
export function seesWorkOf(viewer: Viewer, people: readonly WorkPerson[]): boolean {
  if (people.some((p) => p.id === viewer.id)) return true;
  const scope = clientScope(viewer);
  switch (scope.kind) {
    case 'all':
      return true;
    case 'department':
      return people.some((p) => p.departmentId === scope.departmentId);
    case 'owners':
      return people.some((p) => scope.ownerIds.includes(p.id) || (p.managerId !== null && scope.ownerIds.includes(p.managerId)));
  }
}

/** Which users a viewer sees: everyone, a department, a manager and their assistants, or given ids. */
export type UserScope =
  | { kind: 'all' }
  | { kind: 'department'; departmentId: number }
  | { kind: 'team'; managerId: number }
  | { kind: 'ids'; ids: number[] };

export function userScope(viewer: Viewer): UserScope {
  switch (viewer.role) {
    case 'director':
      return { kind: 'all' };
    case 'curator':
      return viewer.departmentId === null ? { kind: 'ids', ids: [viewer.id] } : { kind: 'department', departmentId: viewer.departmentId };
    case 'manager':
      return { kind: 'team', managerId: viewer.id };
    case 'assistant':
      return { kind: 'ids', ids: viewer.managerId === null ? [viewer.id] : [viewer.id, viewer.managerId] };
  }
}

/** The part of a user that access rules look at. */
export interface UserFacts {
  id: number;
  role: Role;
  departmentId: number | null;
}

/** A curator runs managers and assistants of their own department; a director runs everybody. */
const CURATED_ROLES: readonly Role[] = ['manager', 'assistant'];

/**
 * Whether the viewer may create a user with these facts, or change one (call it with the user as
 * it is and as it will be: both must pass, so a curator can neither take nor give away people).
 */
export function canManageUser(viewer: Viewer, target: Pick<UserFacts, 'role' | 'departmentId'>): boolean {
  if (viewer.role === 'director') return true;
  if (viewer.role !== 'curator' || viewer.departmentId === null) return false;
  return CURATED_ROLES.includes(target.role) && target.departmentId === viewer.departmentId;
}

/** Status is set by the person, their department's curator (covering for them), or a director. */
export function canSetPresence(viewer: Viewer, target: Pick<UserFacts, 'id' | 'departmentId'>): boolean {
  if (viewer.id === target.id || viewer.role === 'director') return true;
  return viewer.role === 'curator' && viewer.departmentId !== null && viewer.departmentId === target.departmentId;
}

/** Fields everybody may change on their own account. */
export const SELF_EDITABLE_FIELDS = ['name', 'mobile', 'absentRule', 'password'] as const;

/**
 * Why the viewer may not apply a PATCH that touches `fields` of `target`, or null when they may.
 * `after` is the target with the patch applied (role and department as they would become).
 */
export function userPatchDenial(
  viewer: Viewer,
  target: UserFacts,
  after: Pick<UserFacts, 'role' | 'departmentId'>,
  fields: readonly string[],
): string | null {
  const self = viewer.id === target.id;
  if (self && (fields.includes('role') || fields.includes('active'))) {
    // Otherwise the last director could demote or disable themselves and lock everybody out.
    return 'you cannot change your own role or disable your own account';
  }
  if (fields.includes('password') && !self && viewer.role !== 'director') {
    return 'only the user themself or a director may change a password';
  }
  if (self && fields.every((f) => (SELF_EDITABLE_FIELDS as readonly string[]).includes(f))) return null;
  if (canManageUser(viewer, target) && canManageUser(viewer, after)) return null;
  if (self) {
    const other = fields.filter((f) => !(SELF_EDITABLE_FIELDS as readonly string[]).includes(f));
    return `on your own account you may change only ${SELF_EDITABLE_FIELDS.join(', ')}; not ${other.join(', ')}`;
  }
  return viewer.role === 'curator'
    ? 'a curator manages only managers and assistants of their own department'
    : 'you may not change other users';
}

/**
 * The owner of a client the viewer creates or reassigns. Managers and assistants never choose:
 * a manager's clients are their own, an assistant's belong to their manager. Curators and
 * directors choose (default: themselves); `ownerDenial` then checks the chosen user.
 */
export function clientOwnerFor(viewer: Viewer, requested: number | undefined): { ownerId: number } | { error: string } {
  if (viewer.role === 'manager' || viewer.role === 'assistant') {
    const fixed = viewer.role === 'manager' ? viewer.id : viewer.managerId;
    if (fixed === null) return { error: 'an assistant without a manager cannot create clients' };
    if (requested !== undefined && requested !== fixed) {
      return { error: `ownerId: a ${viewer.role}'s clients are owned by ${viewer.role === 'manager' ? 'themselves' : 'their manager'} (user ${fixed})` };
    }
    return { ownerId: fixed };
  }
  return { ownerId: requested ?? viewer.id };
}

/** Why `owner` cannot own clients assigned by `viewer` (a permission or a data problem), or null. */
export function ownerDenial(
  viewer: Viewer,
  owner: UserFacts & { active: boolean },
): { code: 'FORBIDDEN' | 'VALIDATION'; message: string } | null {
  if (viewer.role === 'curator' && owner.departmentId !== viewer.departmentId) {
    return { code: 'FORBIDDEN', message: `ownerId: user ${owner.id} is not in your department` };
  }
  if (!owner.active) return { code: 'VALIDATION', message: `ownerId: user ${owner.id} is disabled` };
  // An assistant works on the manager's book; a client owned by an assistant would be hidden from
  // the manager, which is the opposite of what the roles promise.
  if (owner.role === 'assistant') {
    return { code: 'VALIDATION', message: `ownerId: user ${owner.id} is an assistant; assign the client to their manager` };
  }
  return null;
}

/** A director changes any department; a curator only the one they run. */
export function canEditDepartment(viewer: Viewer, departmentId: number): boolean {
  return viewer.role === 'director' || (viewer.role === 'curator' && viewer.departmentId === departmentId);
}


/**
 * Why the viewer may not hand everything of `from` (a leaving employee) over to `to`, or null.
 * A director hands over anybody's; a curator only a manager's or an assistant's of their own
 * department, to an owner of that department (ownerDenial: active, not an assistant).
 */
export function handoverDenial(
  viewer: Viewer,
  from: UserFacts,
  to: UserFacts & { active: boolean },
): { code: 'FORBIDDEN' | 'VALIDATION'; message: string } | null {
  if (from.id === to.id) return { code: 'VALIDATION', message: 'toUserId: the same user' };
  if (!canManageUser(viewer, from)) {
    return { code: 'FORBIDDEN', message: 'a handover is made by a director, or by a curator for a manager or assistant of their own department' };
  }
  const denial = ownerDenial(viewer, to);
  return denial && { code: denial.code, message: denial.message.replace(/^ownerId/, 'toUserId') };
}

/** Which leads from the websites a viewer sees and assigns: none, a department's, or all. */
export type LeadScope = { kind: 'all' } | { kind: 'department'; departmentId: number } | { kind: 'none' };

/**
 * Waiting leads are the supervisors' work, as escalated reminders are: a curator sees and assigns
 * their department's, a director everybody's. Once assigned a lead is a deal, seen through dealScope.
 */
export function leadScope(viewer: Viewer): LeadScope {
  if (viewer.role === 'director') return { kind: 'all' };
  if (viewer.role === 'curator' && viewer.departmentId !== null) return { kind: 'department', departmentId: viewer.departmentId };
  return { kind: 'none' };
}

/**
 * Whose statistics, call reviews and review queue a viewer sees (issue 13): a director everybody's,
 * a curator their department's people, a manager or an assistant their own only (a manager is
 * not shown a colleague's figures, nor their assistant's reviews).
 */
export type FiguresScope = { kind: 'all' } | { kind: 'department'; departmentId: number } | { kind: 'ids'; ids: number[] };

export function figuresScope(viewer: Viewer): FiguresScope {
  if (viewer.role === 'director') return { kind: 'all' };
  if (viewer.role === 'curator' && viewer.departmentId !== null) return { kind: 'department', departmentId: viewer.departmentId };
  return { kind: 'ids', ids: [viewer.id] };
}

export function seesFiguresOf(viewer: Viewer, person: Pick<WorkPerson, 'id' | 'departmentId'>): boolean {
  const scope = figuresScope(viewer);
  if (scope.kind === 'all') return true;
  if (scope.kind === 'department') return person.departmentId === scope.departmentId;
  return scope.ids.includes(person.id);
}

/** Reviewing is the supervisors' work: a director reviews any call, a curator their department's. */
export function canReviewCallOf(viewer: Viewer, manager: Pick<WorkPerson, 'id' | 'departmentId'>): boolean {
  return (viewer.role === 'director' || viewer.role === 'curator') && manager.id !== viewer.id && seesFiguresOf(viewer, manager);
}

/** A review is read by its author, the manager whose call it is, and who sees that manager's figures. */
export function seesReview(viewer: Viewer, review: { reviewerId: number | null; manager: Pick<WorkPerson, 'id' | 'departmentId'> | null }): boolean {
  if (review.reviewerId === viewer.id) return true;
  return review.manager !== null && seesFiguresOf(viewer, review.manager);
}

/** Scorecards: a director writes any (the company's, departmentId null, or a department's); a curator their department's. */
export function canEditScorecard(viewer: Viewer, departmentId: number | null): boolean {
  if (viewer.role === 'director') return true;
  return viewer.role === 'curator' && departmentId !== null && departmentId === viewer.departmentId;
}

/** Everybody reads the company's scorecards and their own department's (a manager sees what they are judged by). */
export function seesScorecard(viewer: Viewer, departmentId: number | null): boolean {
  return viewer.role === 'director' || departmentId === null || departmentId === viewer.departmentId;
}
