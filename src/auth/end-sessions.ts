import type { EventBus } from '../events/event-bus.js';

/** The close code a screen gets when its account was disabled or its password changed: do not reconnect. */
export const SESSION_ENDED = { code: 4001, reason: 'session ended' } as const;

/**
 * Closes a user's WebSockets on every instance (event bus → each instance's hub). Called after the
 * tokens were revoked and committed, so a screen that reconnects at once is refused.
 */
export const endSessionsOn = (bus: EventBus) => (userId: number): void =>
  bus.publish({ userIds: [userId] }, { type: 'session.ended' }, { close: SESSION_ENDED });
