// A user's availability has two sources: the status they set (available / away / dnd / offline,
// stored on the user, changed through the API or the WebSocket; a new user starts available) and
// their phone's device state from the PBX. Routing reads both (decide-route.ts): away and dnd
// skip the desk phone, offline (no screen) leaves it to the device state. The phone never
// overwrites the status:
// when a call ends there would be nothing to restore. Supervisors see both in one frame:
//   { type: 'presence.changed', userId, presence, deviceState?, at }
// sent to the department's curators (and directors) and to the user's own screens.
import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Actor } from '../audit/audit.js';
import type { Viewer } from '../auth/viewer.js';
import type { Db } from '../db/client.js';
import type { EventBus } from '../events/event-bus.js';
import type { AmiEvent } from '../pbx/events.js';
import type { DeviceState } from '../routing/types.js';
import { setPresence } from '../users/users.service.js';
import { users, type Presence } from '../users/users.table.js';
import type { DeviceStateChange, DeviceStates } from './device-states.js';

export interface PresenceUser {
  id: number;
  departmentId: number | null;
  extension: string | null;
  presence: Presence;
}

export interface PresenceChangedFrame {
  type: 'presence.changed';
  userId: number;
  presence: Presence;
  /** The phone's state when known; absent for a user without an extension or unknown. */
  deviceState?: DeviceState;
  at: string;
}

export interface PresenceDeps {
  db: Db;
  bus: Pick<EventBus, 'publish'>;
  deviceStates: Pick<DeviceStates, 'get' | 'apply' | 'resync'>;
  /** Whose phone is this extension (the in-memory user directory). */
  userByExtension: (extension: string) => Promise<{ id: number } | null>;
  logger: Logger;
}

/** What the AMI client offers that presence needs. */
interface AmiSource {
  onEvent(handler: (event: AmiEvent) => void): unknown;
  onStatusChange(handler: (status: string) => void): unknown;
  action(name: string): Promise<unknown>;
}

export function createPresence(deps: PresenceDeps) {
  const log = deps.logger.child({ feature: 'presence' });

  function frameOf(user: PresenceUser, at = new Date()): PresenceChangedFrame {
    const deviceState = user.extension ? deps.deviceStates.get(user.extension) : undefined;
    return { type: 'presence.changed', userId: user.id, presence: user.presence, ...(deviceState && { deviceState }), at: at.toISOString() };
  }

  /** Tell the user's screens and their department's supervisors. */
  function publish(user: PresenceUser): void {
    deps.bus.publish(
      { userIds: [user.id], ...(user.departmentId !== null && { supervisorsOf: [user.departmentId] }) },
      frameOf(user),
    );
  }

  async function onDeviceChange(change: DeviceStateChange): Promise<void> {
    const owner = await deps.userByExtension(change.extension);
    if (!owner) return;
    const [user] = await deps.db
      .select({ id: users.id, departmentId: users.departmentId, extension: users.extension, presence: users.presence })
      .from(users)
      .where(eq(users.id, owner.id));
    if (user) publish(user);
  }

  return {
    publish,

    /** Set a status (the user, their curator or a director; audited) and tell who should know. */
    async set(actor: Actor, viewer: Viewer, userId: number, presence: Presence) {
      const user = await setPresence(deps.db, actor, viewer, userId, presence);
      publish(user);
      return user;
    },

    /**
     * Feed from the AMI consumer (the leader): device states go to the shared store, and a
     * change of the mapped state (not every event: phones report often) becomes a frame. On
     * every (re)connect the full list is asked for, since changes during the outage were lost.
     */
    watch(ami: AmiSource): void {
      ami.onEvent((event) => {
        if (event.event !== 'DeviceStateChange') return;
        const change = deps.deviceStates.apply(event.device, event.state);
        if (change) void onDeviceChange(change).catch((err: unknown) => log.warn({ err, extension: change.extension }, 'could not publish a device state change'));
      });
      ami.onStatusChange((status) => {
        if (status === 'connected') void deps.deviceStates.resync(ami);
      });
    },
  };
}

export type PresenceService = ReturnType<typeof createPresence>;
