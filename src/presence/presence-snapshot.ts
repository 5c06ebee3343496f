// The statuses a screen sees when it connects. `presence.changed` frames tell what changes; a
// supervisor opening the console in the middle of the day must also see who is available now,
// not only who changes next. One frame, from memory (the routing directory, kept current from
// PostgreSQL, and the device states from the PBX): a director's screen lists the whole company.
//   { type: 'presence.snapshot', users: [{ userId, presence, deviceState? }], at }
// Who is listed follows who gets `presence.changed` (presence.service.ts): a curator their
// department, a director everybody, anyone else themself.
import type { Viewer } from '../auth/viewer.js';
import type { DirectoryUser, RoutingDirectory } from '../routing/directory/routing-directory.js';
import type { DeviceState } from '../routing/types.js';
import type { Presence } from '../users/users.table.js';

export interface PresenceSnapshotFrame {
  type: 'presence.snapshot';
  users: Array<{ userId: number; presence: Presence; deviceState?: DeviceState }>;
  at: string;
}

export function presenceSnapshot(
  viewer: Viewer,
  directory: Pick<RoutingDirectory, 'activeUsers' | 'user'>,
  deviceState: (extension: string) => DeviceState | undefined,
  now = new Date(),
): PresenceSnapshotFrame {
  let listed: DirectoryUser[];
  if (viewer.role === 'director') listed = directory.activeUsers();
  else if (viewer.role === 'curator' && viewer.departmentId !== null) listed = directory.activeUsers(viewer.departmentId);
  else listed = [];
  if (!listed.some((u) => u.id === viewer.id)) {
    const self = directory.user(viewer.id);
    if (self) listed.push(self);
  }
  return {
    type: 'presence.snapshot',
    users: listed.map((u) => {
      const state = u.extension ? deviceState(u.extension) : undefined;
      return { userId: u.id, presence: u.presence, ...(state && { deviceState: state }) };
    }),
    at: now.toISOString(),
  };
}
