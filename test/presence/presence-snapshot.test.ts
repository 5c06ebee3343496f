import { describe, expect, it } from 'vitest';
import type { Viewer } from '../../src/auth/viewer.js';
import { presenceSnapshot } from '../../src/presence/presence-snapshot.js';
import { type DirectoryUser, RoutingDirectory } from '../../src/routing/directory/routing-directory.js';

const user = (id: number, departmentId: number | null, extra: Partial<DirectoryUser> = {}): DirectoryUser => ({
  id, name: `u${id}`, extension: String(100 + id), mobile: null, presence: 'available', absentRule: 'department', departmentId, active: true, ...extra,
});
const viewer = (id: number, role: Viewer['role'], departmentId: number | null): Viewer => ({ id, login: `u${id}`, name: `u${id}`, role, departmentId, managerId: null });

const directory = new RoutingDirectory();
directory.setUser(1, user(1, null));
directory.setUser(2, user(2, 10, { presence: 'dnd' }));
directory.setUser(3, user(3, 10, { extension: null }));
directory.setUser(4, user(4, 10, { active: false }));
directory.setUser(5, user(5, 20));
const phones: Record<string, 'inuse' | 'ringing'> = { '102': 'inuse', '105': 'ringing' };
const ids = (v: Viewer) => presenceSnapshot(v, directory, (ext) => phones[ext]).users.map((u) => u.userId).sort();

describe('presenceSnapshot', () => {
  it('lists every active user for a director, the department for a curator, oneself for anyone else', () => {
    expect(ids(viewer(1, 'director', null))).toEqual([1, 2, 3, 5]);
    expect(ids(viewer(3, 'curator', 10))).toEqual([2, 3]);
    expect(ids(viewer(5, 'manager', 20))).toEqual([5]);
    expect(ids(viewer(1, 'curator', null))).toEqual([1]);
  });

  it('carries the status and, when the phone is known, its state', () => {
    const frame = presenceSnapshot(viewer(3, 'curator', 10), directory, (ext) => phones[ext], new Date('2026-11-22T10:00:00Z'));
    expect(frame).toEqual({
      type: 'presence.snapshot',
      users: expect.arrayContaining([{ userId: 2, presence: 'dnd', deviceState: 'inuse' }, { userId: 3, presence: 'available' }]),
      at: '2026-11-22T10:00:00.000Z',
    });
  });
});
