import { AppError } from '../errors.js';
import type { ClientMessageHandler } from '../screenpop/ws.routes.js';
import { PRESENCES, type Presence } from '../users/users.table.js';
import type { PresenceService } from './presence.service.js';

/** Frame types a browser may send to this feature. */
export const PRESENCE_CLIENT_MESSAGE_TYPES = ['presence.set'] as const;

/**
 * `{type:'presence.set', presence, userId?}`: the same as PUT /api/users/:id/presence (same
 * rules, audited), for a status switch in the web console without an HTTP round trip. `userId`
 * defaults to the sender; a curator or director may set someone else's. The answer is the
 * `presence.changed` frame every screen of the user gets (this one included).
 */
export function createPresenceWs(presence: Pick<PresenceService, 'set'>): ClientMessageHandler {
  return async (viewer, message) => {
    if (message.type !== 'presence.set') return;
    const value = message.presence;
    if (typeof value !== 'string' || !(PRESENCES as readonly string[]).includes(value)) {
      throw new AppError('VALIDATION', `presence.set: "presence" must be one of ${PRESENCES.join(', ')}`);
    }
    const target = message.userId ?? viewer.id;
    if (typeof target !== 'number' || !Number.isSafeInteger(target) || target < 1) {
      throw new AppError('VALIDATION', 'presence.set: "userId" must be a user id (a positive integer)');
    }
    await presence.set({ actorId: viewer.id, ip: null }, viewer, target, value as Presence);
  };
}
