import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { EventBus } from '../events/event-bus.js';
import type { DirectorySync } from '../routing/directory/directory-sync.js';
import type { DeviceState } from '../routing/types.js';
import type { ConnectHook } from '../screenpop/ws.routes.js';
import type { UserDirectory } from '../users/user-directory.js';
import { createDeviceStates } from './device-states.js';
import { createPresence, type PresenceUser } from './presence.service.js';
import { presenceSnapshot } from './presence-snapshot.js';
import { createPresenceWs } from './presence.ws.js';

export interface PresenceModuleDeps {
  db: Db;
  /** Command connection. */
  redis: Redis;
  config: Pick<Config, 'REDIS_URL' | 'REDIS_PREFIX' | 'PBX_SYSTEM_NAME' | 'DEVICE_DIAL_TEMPLATE'>;
  bus: Pick<EventBus, 'publish'>;
  users: Pick<UserDirectory, 'cachedByExtension'>;
  /** Who is who and their status, in memory and current (the routing directory). */
  directory: Pick<DirectorySync, 'directory'>;
  logger: Logger;
}

/** Presence and phone states as one instance runs them. */
export function createPresenceModule(deps: PresenceModuleDeps) {
  const deviceStates = createDeviceStates({
    redis: deps.redis,
    redisUrl: deps.config.REDIS_URL,
    systemName: deps.config.PBX_SYSTEM_NAME,
    keyPrefix: deps.config.REDIS_PREFIX,
    deviceDialTemplate: deps.config.DEVICE_DIAL_TEMPLATE,
    logger: deps.logger,
  });
  const presence = createPresence({
    db: deps.db,
    bus: deps.bus,
    deviceStates,
    // The cached directory only (refreshed every 30 s): trunks and queues report states too,
    // and a miss must not cost a database query per event.
    userByExtension: async (extension) => deps.users.cachedByExtension(extension),
    logger: deps.logger,
  });

  return {
    /** For routing (AppDeps.deviceState): synchronous, from memory. */
    deviceState: (extension: string): DeviceState | undefined => deviceStates.get(extension),
    /** For PUT /api/users/:id/presence (AppDeps.onPresenceChanged). */
    onPresenceChanged: (user: PresenceUser) => presence.publish(user),
    /** On connect: the statuses the screen may see (a supervisor's whole department) in one frame. */
    onConnect: ((viewer, send) => send(presenceSnapshot(viewer, deps.directory.directory, deviceStates.get))) satisfies ConnectHook,
    /** `presence.set` frames from the WebSocket. */
    onClientMessage: createPresenceWs(presence),
    /** Feed the AMI events and (re)connects of this instance's client into presence. */
    watch: presence.watch,
    set: presence.set,
    start: () => deviceStates.start(),
    close: () => deviceStates.close(),
  };
}

export type PresenceModule = ReturnType<typeof createPresenceModule>;
