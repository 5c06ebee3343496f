import type { WebSocket } from 'ws';
import type { BusMessage } from '../events/event-bus.js';
import type { Role } from '../users/users.table.js';
import { frameTextForViewer, listsSharedClients } from './client-card.js';
import { sendFramed, textFrame } from './ws-frame.js';
import { roomFor } from './ws-limits.js';

export interface Connection {
  socket: WebSocket;
  userId: number;
  role: Role;
  departmentId: number | null;
  /** An assistant's manager: the visibility rule needs it (access.ts). */
  managerId: number | null;
  alive: boolean;
}

/**
 * The sockets of this instance, indexed by user and department so a frame reaches its audience
 * without scanning every connection. A user may have several (tabs, devices): all get the frame.
 */
export function createWsHub() {
  const byUser = new Map<number, Set<Connection>>();
  /** Curators by the department they run; directors supervise every department. */
  const curatorsByDepartment = new Map<number, Set<Connection>>();
  const directors = new Set<Connection>();

  const add = <K>(index: Map<K, Set<Connection>>, key: K, c: Connection) => {
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(c);
  };
  const remove = <K>(index: Map<K, Set<Connection>>, key: K, c: Connection) => {
    const set = index.get(key);
    set?.delete(c);
    if (set?.size === 0) index.delete(key);
  };

  return {
    register(c: Connection) {
      add(byUser, c.userId, c);
      if (c.role === 'director') directors.add(c);
      if (c.role === 'curator' && c.departmentId !== null) add(curatorsByDepartment, c.departmentId, c);
    },
    unregister(c: Connection) {
      remove(byUser, c.userId, c);
      directors.delete(c);
      if (c.departmentId !== null) remove(curatorsByDepartment, c.departmentId, c);
    },
    deliver({ to, frame, close }: BusMessage) {
      const targets = new Set<Connection>();
      for (const id of to.userIds ?? []) for (const c of byUser.get(id) ?? []) targets.add(c);
      if (to.supervisorsOf && to.supervisorsOf.length > 0) {
        for (const id of to.supervisorsOf) for (const c of curatorsByDepartment.get(id) ?? []) targets.add(c);
        for (const c of directors) targets.add(c);
      }
      if (to.directors) for (const c of directors) targets.add(c);
      if (targets.size === 0) return;
      // Framed once for every target (ws-frame.ts). OPEN sockets only; one that is closing
      // gets nothing and is removed by its close handler, and one that stopped reading is
      // terminated once its queue passes MAX_BUFFERED_BYTES (ws-limits.ts).
      const framed = textFrame(frame);
      // A card listing other clients with the caller's number is cut to what each user may see
      // (client-card.ts); any other frame (a fan-out to 2,000 screens) is framed once for all.
      const perViewer = listsSharedClients(frame);
      for (const c of targets) {
        if (!roomFor(c.socket)) continue;
        const own = perViewer ? frameTextForViewer(frame, { id: c.userId, role: c.role, departmentId: c.departmentId, managerId: c.managerId }) : frame;
        sendFramed(c.socket, own === frame ? framed : textFrame(own), own);
      }
      // The close handler unregisters each one; the frame above is queued before the close frame.
      if (close) for (const c of targets) c.socket.close(close.code, close.reason);
    },
    isConnected: (userId: number) => (byUser.get(userId)?.size ?? 0) > 0,
    connections: () => [...byUser.values()].flatMap((set) => [...set]),
    get size() {
      let n = 0;
      for (const set of byUser.values()) n += set.size;
      return n;
    },
  };
}

export type WsHub = ReturnType<typeof createWsHub>;
