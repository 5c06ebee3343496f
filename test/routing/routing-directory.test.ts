import { describe, expect, it } from 'vitest';
import { type DirectoryClient, type DirectoryDepartment, type DirectoryUser, RoutingDirectory } from '../../src/routing/directory/routing-directory.js';

const user = (id: number, extra: Partial<DirectoryUser> = {}): DirectoryUser => ({
  id, name: `u${id}`, extension: String(100 + id), mobile: null, presence: 'available', absentRule: 'department', departmentId: 1, active: true, ...extra,
});
const client = (id: number, phones: string[], extra: Partial<DirectoryClient> = {}): DirectoryClient => ({
  id, name: `c${id}`, ownerId: 1, lastActivityAt: null, phones, ...extra,
});
const department = (id: number, name: string, dids: string[]): DirectoryDepartment => ({
  id, name, line: { kind: 'queue', queue: name.toLowerCase() }, voicemailBox: null, businessHours: null, timeZone: 'Europe/Moscow', dids,
});

function seeded() {
  const d = new RoutingDirectory();
  d.setDepartment(1, department(1, 'Sales', ['+74951110001']));
  d.setDepartment(2, department(2, 'Reception', []));
  d.setUser(1, user(1));
  d.setUser(2, user(2, { departmentId: 2 }));
  return d;
}

describe('RoutingDirectory', () => {
  it('finds the clients of a number with their owners and the owners’ departments', () => {
    const d = seeded();
    d.setClient(10, client(10, ['+79161234567', '+79031112233'], { ownerId: 2 }));
    const facts = d.factsFor('+79031112233', '+74951110001', 'Reception');
    expect(facts.clients.map((c) => c.id)).toEqual([10]);
    expect(facts.owners.map((o) => o.id)).toEqual([2]);
    expect(facts.ownerDepartments.map((x) => x.name)).toEqual(['Reception']);
    expect(facts.didDepartment?.name).toBe('Sales');
  });

  it('orders a shared number by most recent activity, never-active last, then by id, and keeps 20', () => {
    const d = seeded();
    for (let id = 1; id <= 30; id++) d.setClient(id, client(id, ['+79160000000'], { lastActivityAt: id % 3 === 0 ? null : 1_000 * (id % 7) }));
    const ids = d.factsFor('+79160000000', '', 'Sales').clients.map((c) => c.id);
    expect(ids).toHaveLength(20);
    expect(ids.slice(0, 4)).toEqual([13, 20, 5, 19]); // activity 6000, 6000, 5000, 5000: lower id first on equal activity
    const activity = ids.map(Number).map((id) => (id % 3 === 0 ? -1 : 1_000 * (id % 7)));
    expect([...activity].sort((a, b) => b - a)).toEqual(activity);
  });

  it('keeps a client with an active owner first, so 20 recent clients of a deactivated owner cannot crowd it out', () => {
    const d = seeded();
    d.setUser(3, user(3, { active: false }));
    for (let id = 1; id <= 25; id++) d.setClient(id, client(id, ['+79160000000'], { ownerId: 3, lastActivityAt: 1_000 * id }));
    d.setClient(99, client(99, ['+79160000000'], { ownerId: 1, lastActivityAt: null }));
    const ids = d.factsFor('+79160000000', '', 'Sales').clients.map((c) => c.id);
    expect(ids).toHaveLength(20);
    expect(ids[0]).toBe(99);
  });

  it('replaces a client’s numbers when the client is set again, and forgets a removed client', () => {
    const d = seeded();
    d.setClient(10, client(10, ['+79161234567']));
    d.setClient(10, client(10, ['+79990000000']));
    expect(d.factsFor('+79161234567', '', 'Sales').clients).toEqual([]);
    expect(d.factsFor('+79990000000', '', 'Sales').clients.map((c) => c.id)).toEqual([10]);
    d.setClient(10, null);
    expect(d.factsFor('+79990000000', '', 'Sales').clients).toEqual([]);
    expect(d.size).toMatchObject({ clients: 0, numbers: 0 });
  });

  it('keeps a shared number right as its clients come and go', () => {
    const d = seeded();
    d.setClient(10, client(10, ['+79161234567']));
    d.setClient(11, client(11, ['+79161234567']));
    d.setClient(12, client(12, ['+79161234567']));
    d.setClient(11, null);
    expect(d.factsFor('+79161234567', '', 'Sales').clients.map((c) => c.id)).toEqual([10, 12]);
    d.setClient(10, null);
    expect(d.factsFor('+79161234567', '', 'Sales').clients.map((c) => c.id)).toEqual([12]);
    d.setClient(10, client(10, ['+79161234567']));
    d.setClient(12, null);
    d.setClient(10, null);
    expect(d.factsFor('+79161234567', '', 'Sales').clients).toEqual([]);
    expect(d.size.numbers).toBe(0);
  });

  it('leaves out inactive and unknown owners, and lists a shared owner once', () => {
    const d = seeded();
    d.setUser(3, user(3, { active: false }));
    d.setClient(10, client(10, ['+79161234567'], { ownerId: 3 }));
    d.setClient(11, client(11, ['+79161234567'], { ownerId: 99 }));
    d.setClient(12, client(12, ['+79161234567'], { ownerId: 1 }));
    d.setClient(13, client(13, ['+79161234567'], { ownerId: 1 }));
    const facts = d.factsFor('+79161234567', '', 'Sales');
    expect(facts.clients).toHaveLength(4);
    expect(facts.owners.map((o) => o.id)).toEqual([1]);
  });

  it('moves a DID between departments whichever of the two is updated first', () => {
    for (const order of [[1, 2], [2, 1]]) {
      const d = seeded();
      const after = { 1: department(1, 'Sales', []), 2: department(2, 'Reception', ['+74951110001']) };
      for (const id of order) d.setDepartment(id, after[id as 1 | 2]);
      expect(d.departmentFor('+74951110001', 'none')?.name).toBe('Reception');
    }
  });

  it('falls back to the default department by name, follows a rename, and answers null when neither exists', () => {
    const d = seeded();
    expect(d.departmentFor('+70000000000', 'Reception')?.id).toBe(2);
    d.setDepartment(2, department(2, 'Front desk', []));
    expect(d.departmentFor('+70000000000', 'Reception')).toBeNull();
    expect(d.departmentFor('+70000000000', 'Front desk')?.id).toBe(2);
    d.setDepartment(2, null);
    expect(d.departmentFor('+70000000000', 'Front desk')).toBeNull();
  });

  it('has no clients for a caller that did not parse', () => {
    const d = seeded();
    d.setClient(10, client(10, ['+79161234567']));
    expect(d.factsFor(null, '+74951110001', 'Sales')).toMatchObject({ clients: [], owners: [] });
  });
});
