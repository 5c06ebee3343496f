import { describe, expect, it } from 'vitest';
import {
  canEditDepartment,
  canManageUser,
  canSetPresence,
  clientOwnerFor,
  clientScope,
  canEditDealTypes,
  dealOwnerFor,
  dealScope,
  handoverDenial,
  masksPhonesInLists,
  noteScope,
  ownerDenial,
  seesWorkOf,
  userPatchDenial,
  userScope,
} from '../../src/auth/access.js';
import type { Viewer } from '../../src/auth/viewer.js';
import { maskPhone } from '../../src/audit/audit.js';

const viewer = (role: Viewer['role'], fields: Partial<Viewer> = {}): Viewer => ({
  id: 10,
  login: role,
  name: role,
  role,
  departmentId: role === 'director' ? null : 1,
  managerId: role === 'assistant' ? 20 : null,
  ...fields,
});
const director = viewer('director');
const curator = viewer('curator');
const manager = viewer('manager');
const assistant = viewer('assistant');

describe('clientScope', () => {
  it('gives each role its part of the base', () => {
    expect(clientScope(director)).toEqual({ kind: 'all' });
    expect(clientScope(curator)).toEqual({ kind: 'department', departmentId: 1 });
    expect(clientScope(manager)).toEqual({ kind: 'owners', ownerIds: [10] });
    expect(clientScope(assistant)).toEqual({ kind: 'owners', ownerIds: [20] });
  });

  it('gives nothing to a curator without a department or an assistant without a manager', () => {
    expect(clientScope(viewer('curator', { departmentId: null }))).toEqual({ kind: 'owners', ownerIds: [] });
    expect(clientScope(viewer('assistant', { managerId: null }))).toEqual({ kind: 'owners', ownerIds: [] });
  });
});

describe('userScope', () => {
  it('lets a manager see the team, an assistant self and manager', () => {
    expect(userScope(director)).toEqual({ kind: 'all' });
    expect(userScope(curator)).toEqual({ kind: 'department', departmentId: 1 });
    expect(userScope(manager)).toEqual({ kind: 'team', managerId: 10 });
    expect(userScope(assistant)).toEqual({ kind: 'ids', ids: [10, 20] });
  });
});

describe('canManageUser', () => {
  it('lets a director manage anybody', () => {
    expect(canManageUser(director, { role: 'director', departmentId: null })).toBe(true);
    expect(canManageUser(director, { role: 'curator', departmentId: 5 })).toBe(true);
  });

  it('lets a curator manage only managers and assistants of their own department', () => {
    expect(canManageUser(curator, { role: 'manager', departmentId: 1 })).toBe(true);
    expect(canManageUser(curator, { role: 'assistant', departmentId: 1 })).toBe(true);
    expect(canManageUser(curator, { role: 'manager', departmentId: 2 })).toBe(false);
    expect(canManageUser(curator, { role: 'curator', departmentId: 1 })).toBe(false);
    expect(canManageUser(curator, { role: 'director', departmentId: 1 })).toBe(false);
    expect(canManageUser(viewer('curator', { departmentId: null }), { role: 'manager', departmentId: null })).toBe(false);
  });

  it('lets managers and assistants manage nobody', () => {
    expect(canManageUser(manager, { role: 'assistant', departmentId: 1 })).toBe(false);
    expect(canManageUser(assistant, { role: 'assistant', departmentId: 1 })).toBe(false);
  });
});

describe('canSetPresence', () => {
  it('allows self, the department curator and a director', () => {
    expect(canSetPresence(manager, { id: 10, departmentId: 1 })).toBe(true);
    expect(canSetPresence(curator, { id: 11, departmentId: 1 })).toBe(true);
    expect(canSetPresence(director, { id: 11, departmentId: 7 })).toBe(true);
  });

  it('refuses other managers, curators of other departments and assistants', () => {
    expect(canSetPresence(manager, { id: 11, departmentId: 1 })).toBe(false);
    expect(canSetPresence(curator, { id: 11, departmentId: 2 })).toBe(false);
    expect(canSetPresence(assistant, { id: 20, departmentId: 1 })).toBe(false);
  });
});

describe('userPatchDenial', () => {
  const self = { id: 10, role: 'manager' as const, departmentId: 1 };

  it('lets anybody change their own name, mobile, absent rule and password', () => {
    expect(userPatchDenial(manager, self, self, ['name', 'mobile', 'absentRule', 'password'])).toBeNull();
  });

  it('refuses own role, department, extension and disabling oneself', () => {
    expect(userPatchDenial(manager, self, { role: 'curator', departmentId: 1 }, ['role'])).toMatch(/own role/);
    expect(userPatchDenial(director, { ...self, role: 'director' }, { role: 'director', departmentId: 1 }, ['active'])).toMatch(/disable/);
    expect(userPatchDenial(manager, self, { role: 'manager', departmentId: 2 }, ['departmentId'])).toMatch(/not departmentId/);
    expect(userPatchDenial(manager, self, self, ['extension'])).toMatch(/not extension/);
  });

  it('keeps a curator from moving people out of or into other departments', () => {
    const m = { id: 11, role: 'manager' as const, departmentId: 1 };
    expect(userPatchDenial(curator, m, { role: 'manager', departmentId: 1 }, ['extension'])).toBeNull();
    expect(userPatchDenial(curator, m, { role: 'manager', departmentId: 2 }, ['departmentId'])).toMatch(/own department/);
    expect(userPatchDenial(curator, m, { role: 'curator', departmentId: 1 }, ['role'])).toMatch(/own department/);
  });

  it("lets only the user or a director change a password", () => {
    const m = { id: 11, role: 'manager' as const, departmentId: 1 };
    expect(userPatchDenial(curator, m, m, ['password'])).toMatch(/password/);
    expect(userPatchDenial(director, m, m, ['password'])).toBeNull();
  });
});

describe('client owners', () => {
  it('fixes the owner for managers and assistants', () => {
    expect(clientOwnerFor(manager, undefined)).toEqual({ ownerId: 10 });
    expect(clientOwnerFor(assistant, undefined)).toEqual({ ownerId: 20 });
    expect(clientOwnerFor(assistant, 20)).toEqual({ ownerId: 20 });
    expect(clientOwnerFor(manager, 99)).toHaveProperty('error');
    expect(clientOwnerFor(viewer('assistant', { managerId: null }), undefined)).toHaveProperty('error');
  });

  it('lets curators and directors choose, defaulting to themselves', () => {
    expect(clientOwnerFor(curator, undefined)).toEqual({ ownerId: 10 });
    expect(clientOwnerFor(director, 33)).toEqual({ ownerId: 33 });
  });

  it('refuses disabled owners, assistants, and owners outside a curator\'s department', () => {
    const owner = { id: 33, role: 'manager' as const, departmentId: 1, active: true };
    expect(ownerDenial(curator, owner)).toBeNull();
    expect(ownerDenial(curator, { ...owner, departmentId: 2 })?.code).toBe('FORBIDDEN');
    expect(ownerDenial(director, { ...owner, departmentId: 2 })).toBeNull();
    expect(ownerDenial(director, { ...owner, active: false })?.message).toMatch(/disabled/);
    expect(ownerDenial(director, { ...owner, role: 'assistant' })?.message).toMatch(/assistant/);
  });
});

describe('canEditDepartment', () => {
  it('allows a director anywhere and a curator at home', () => {
    expect(canEditDepartment(director, 3)).toBe(true);
    expect(canEditDepartment(curator, 1)).toBe(true);
    expect(canEditDepartment(curator, 2)).toBe(false);
    expect(canEditDepartment(manager, 1)).toBe(false);
  });
});

describe('maskPhone', () => {
  it('keeps only the last four digits', () => {
    expect(maskPhone('+79161234567')).toBe('+*******4567');
    expect(maskPhone('123')).toBe('123');
  });
});

describe('deals and notes', () => {
  it('are seen exactly when their client is: the client rule, not a second one', () => {
    for (const v of [director, curator, manager, assistant, viewer('curator', { departmentId: null }), viewer('assistant', { managerId: null })]) {
      expect(dealScope(v)).toEqual(clientScope(v));
      expect(noteScope(v)).toEqual(clientScope(v));
    }
  });

  it("belong to the client's owner unless a curator or director names another; types are the director's", () => {
    expect(dealOwnerFor(manager, 20, undefined)).toEqual({ ownerId: 20 });
    expect(dealOwnerFor(assistant, 20, 20)).toEqual({ ownerId: 20 });
    expect(dealOwnerFor(manager, 20, 10)).toHaveProperty('error');
    expect(dealOwnerFor(curator, 20, 30)).toEqual({ ownerId: 30 });
    expect([director, curator, manager, assistant].map(canEditDealTypes)).toEqual([true, false, false, false]);
  });
});

describe('handoverDenial', () => {
  const leaver = { id: 30, role: 'manager' as const, departmentId: 1 };
  const heir = { id: 31, role: 'manager' as const, departmentId: 1, active: true };
  it('lets a director hand over anybody, and a curator within their department', () => {
    expect(handoverDenial(director, { ...leaver, departmentId: 2 }, { ...heir, departmentId: 3 })).toBeNull();
    expect(handoverDenial(curator, leaver, heir)).toBeNull();
  });
  it('refuses the rest', () => {
    expect(handoverDenial(curator, { ...leaver, departmentId: 2 }, heir)?.code).toBe('FORBIDDEN');
    expect(handoverDenial(curator, leaver, { ...heir, departmentId: 2 })?.code).toBe('FORBIDDEN');
    expect(handoverDenial(curator, { ...leaver, role: 'curator' }, heir)?.code).toBe('FORBIDDEN');
    expect(handoverDenial(manager, leaver, heir)?.code).toBe('FORBIDDEN');
    expect(handoverDenial(director, leaver, { ...heir, active: false })).toEqual({ code: 'VALIDATION', message: 'toUserId: user 31 is disabled' });
    expect(handoverDenial(director, leaver, { ...heir, role: 'assistant' })?.code).toBe('VALIDATION');
    expect(handoverDenial(director, leaver, { ...heir, id: leaver.id })?.code).toBe('VALIDATION');
  });
});

describe('seesWorkOf (recordings and routing traces)', () => {
  const inA = { id: 10, departmentId: 1, managerId: null };
  const assistantOfA = { id: 11, departmentId: 1, managerId: 10 };
  const inB = { id: 20, departmentId: 2, managerId: null };
  it('follows the client rule applied to people', () => {
    expect(seesWorkOf(viewer('director'), [inB])).toBe(true);
    expect(seesWorkOf(viewer('curator', { departmentId: 1 }), [inA])).toBe(true);
    expect(seesWorkOf(viewer('curator', { departmentId: 1 }), [inB])).toBe(false);
    expect(seesWorkOf(viewer('manager', { id: 10 }), [assistantOfA])).toBe(true);
    expect(seesWorkOf(viewer('manager', { id: 10 }), [inB])).toBe(false);
    expect(seesWorkOf(viewer('assistant', { id: 12, managerId: 10 }), [inA])).toBe(true);
    expect(seesWorkOf(viewer('manager', { id: 20 }), [inA, inB])).toBe(true);
  });
});

describe('masksPhonesInLists', () => {
  it('masks for managers and assistants unless the director switched it off', () => {
    expect(['director', 'curator', 'manager', 'assistant'].map((r) => masksPhonesInLists(viewer(r as Viewer['role']), true))).toEqual([false, false, true, true]);
    expect(masksPhonesInLists(viewer('manager'), false)).toBe(false);
  });
});
