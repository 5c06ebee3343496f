// The routing facts held in memory: who owns which number, who those owners are, which
// department a dialled number belongs to. Plain data and synchronous lookups; directory-sync.ts
// fills it from PostgreSQL and keeps it current.
//
// Why in memory: the route webhook is asked on every ring of every inbound call, and a lookup
// query per call cost more CPU (ours and PostgreSQL's) than the rest of the request together
// (BENCHMARKS.md, "Route webhook"). 100,000 clients with 200,000 numbers take ~36 MiB of heap
// (bench/route/directory-memory.ts).
import type { RouteClient, RouteDepartment, RouteOwner } from '../types.js';

export interface DirectoryClient {
  id: number;
  name: string;
  ownerId: number | null;
  /** Epoch ms; null = never. Kept as a number: 100,000 Date objects are heavy for a tie-break. */
  lastActivityAt: number | null;
  /** E.164. */
  phones: readonly string[];
}

export interface DirectoryUser extends RouteOwner {
  id: number;
  active: boolean;
}

export interface DirectoryDepartment extends RouteDepartment {
  id: number;
  /** E.164 dialled numbers that belong to it. */
  dids: readonly string[];
}

/** What one routing step needs from the directory (the call's own earlier steps come from the trace). */
export interface DirectoryFacts {
  clients: RouteClient[];
  owners: RouteOwner[];
  didDepartment: RouteDepartment | null;
  ownerDepartments: RouteDepartment[];
}

// A number typed into thousands of cards (a company's switchboard) must not make every call
// from it sort thousands of records: only the most recent ones can win the tie.
const MAX_CLIENTS_PER_NUMBER = 20;

export class RoutingDirectory {
  private readonly clients = new Map<number, DirectoryClient>();
  // A number almost always belongs to one client: the id itself, an array only when shared.
  // 200,000 one-element arrays would be 200,000 more objects for every major GC to mark.
  private readonly clientsByPhone = new Map<string, number | number[]>();
  private readonly users = new Map<number, DirectoryUser>();
  private readonly departments = new Map<number, DirectoryDepartment>();
  private readonly departmentByDid = new Map<string, DirectoryDepartment>();
  private readonly departmentByName = new Map<string, DirectoryDepartment>();

  get size() {
    return { clients: this.clients.size, numbers: this.clientsByPhone.size, users: this.users.size, departments: this.departments.size };
  }

  /** Puts the client as it is now, or removes it (`null` = no longer in the database). */
  setClient(id: number, client: DirectoryClient | null): void {
    const previous = this.clients.get(id);
    if (previous) {
      for (const phone of previous.phones) this.unlinkPhone(phone, id);
      this.clients.delete(id);
    }
    if (!client) return;
    this.clients.set(id, client);
    for (const phone of client.phones) {
      const ids = this.clientsByPhone.get(phone);
      if (ids === undefined) this.clientsByPhone.set(phone, id);
      else if (typeof ids === 'number') this.clientsByPhone.set(phone, [ids, id]);
      else ids.push(id);
    }
  }

  setUser(id: number, user: DirectoryUser | null): void {
    if (user) this.users.set(id, user);
    else this.users.delete(id);
  }

  setDepartment(id: number, department: DirectoryDepartment | null): void {
    const previous = this.departments.get(id);
    if (previous) {
      // Only the entries that still point here: a DID moved to another department, or a name
      // taken over by another one, may already have been set by that department's update.
      for (const did of previous.dids) if (this.departmentByDid.get(did)?.id === id) this.departmentByDid.delete(did);
      if (this.departmentByName.get(previous.name)?.id === id) this.departmentByName.delete(previous.name);
      this.departments.delete(id);
    }
    if (!department) return;
    this.departments.set(id, department);
    this.departmentByName.set(department.name, department);
    for (const did of department.dids) this.departmentByDid.set(did, department);
  }

  /** Active users, of one department or all; for the presence snapshot a supervisor gets on connect. */
  activeUsers(departmentId?: number): DirectoryUser[] {
    const found: DirectoryUser[] = [];
    for (const user of this.users.values()) {
      if (user.active && (departmentId === undefined || user.departmentId === departmentId)) found.push(user);
    }
    return found;
  }

  user(id: number): DirectoryUser | undefined {
    return this.users.get(id);
  }

  /** The department of a dialled number, else the one named `defaultName`; null when neither exists. */
  /** Whether this exact E.164 string is a number on some client's card. */
  hasNumber(phone: string): boolean {
    return this.clientsByPhone.has(phone);
  }

  departmentFor(did: string, defaultName: string): RouteDepartment | null {
    return this.departmentByDid.get(did) ?? this.departmentByName.get(defaultName) ?? null;
  }

  /** The facts `decideRoute` needs for a caller (E.164, or null when the number did not parse). */
  factsFor(caller: string | null, did: string, defaultDepartment: string): DirectoryFacts {
    const clients = caller === null ? [] : this.clientsOf(caller);
    const owners: RouteOwner[] = [];
    const ownerDepartments: RouteDepartment[] = [];
    for (const client of clients) {
      const owner = client.ownerId === null ? undefined : this.users.get(client.ownerId as number);
      if (!owner?.active || owners.includes(owner)) continue;
      owners.push(owner);
      const department = owner.departmentId === null ? undefined : this.departments.get(owner.departmentId as number);
      if (department && !ownerDepartments.includes(department)) ownerDepartments.push(department);
    }
    return { clients, owners, didDepartment: this.departmentFor(did, defaultDepartment), ownerDepartments };
  }

  private clientsOf(phone: string): RouteClient[] {
    const ids = this.clientsByPhone.get(phone);
    if (ids === undefined) return [];
    const found: DirectoryClient[] = [];
    for (const id of typeof ids === 'number' ? [ids] : ids) {
      const client = this.clients.get(id);
      if (client) found.push(client);
    }
    // The order the tie-break uses (decide-route.ts pickClient): a client whose owner is active
    // first, so that the cut below never keeps a deactivated owner's client instead; then the
    // most recent activity.
    if (found.length > 1) found.sort((a, b) => this.ownerRank(a) - this.ownerRank(b) || byRecentActivity(a, b));
    return found.slice(0, MAX_CLIENTS_PER_NUMBER).map((c) => ({
      id: c.id,
      name: c.name,
      ownerId: c.ownerId,
      lastActivityAt: c.lastActivityAt === null ? null : new Date(c.lastActivityAt),
    }));
  }

  private ownerRank(client: DirectoryClient): number {
    return client.ownerId !== null && this.users.get(client.ownerId)?.active === true ? 0 : 1;
  }

  private unlinkPhone(phone: string, clientId: number): void {
    const ids = this.clientsByPhone.get(phone);
    if (ids === clientId) this.clientsByPhone.delete(phone);
    if (ids === undefined || typeof ids === 'number') return;
    const at = ids.indexOf(clientId);
    if (at >= 0) ids.splice(at, 1);
    if (ids.length === 1) this.clientsByPhone.set(phone, ids[0]!);
  }
}

function byRecentActivity(a: DirectoryClient, b: DirectoryClient): number {
  const ta = a.lastActivityAt ?? Number.NEGATIVE_INFINITY;
  const tb = b.lastActivityAt ?? Number.NEGATIVE_INFINITY;
  return ta !== tb ? tb - ta : a.id - b.id;
}
