import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Who should receive a frame. */
export interface Audience {
  userIds?: number[];
  /** The supervisors of these departments: their curators, and every director. */
  supervisorsOf?: number[];
  /** Every director (security alerts: what only the company's owners act on). */
  directors?: boolean;
}

/** A frame as it travels: serialised ONCE by the publisher, sent as is to every socket. */
export interface BusMessage {
  to: Audience;
  frame: string;
  /** After the frame, close the audience's sockets with this code (a disabled account). */
  close?: { code: number; reason: string };
}

export interface EventBus {
  publish(to: Audience, frame: object, options?: { close?: { code: number; reason: string } }): void;
  /** Local delivery: the WebSocket hub of this instance. */
  onMessage(handler: (message: BusMessage) => void): void;
  close(): Promise<void>;
}


/**
 * In-process + Redis pub/sub. The publishing instance delivers to its own sockets at once (no
 * Redis round trip on the common single-instance path) and publishes for the others, which skip
 * their own messages by instance id. Pub/sub is fire-and-forget: a pop missed during a Redis
 * blip is recovered by the reconnect snapshot (screenpop/active-pops.ts), not by replay.
 */
export function createEventBus(deps: { publisher: Redis; subscriber: Redis; logger: Logger; keyPrefix: string }): EventBus {
  const CHANNEL = `${deps.keyPrefix}:events`;
  const instanceId = randomUUID();
  const handlers: Array<(message: BusMessage) => void> = [];
  const deliver = (message: BusMessage) => {
    for (const handler of handlers) handler(message);
  };

  void deps.subscriber.subscribe(CHANNEL).catch((err) => deps.logger.error({ err }, 'event bus: subscribe failed'));
  deps.subscriber.on('message', (_channel: string, raw: string) => {
    // Envelope: `<instanceId>\n<json>` — the id check needs no JSON parse.
    const newline = raw.indexOf('\n');
    if (raw.slice(0, newline) === instanceId) return;
    try {
      deliver(JSON.parse(raw.slice(newline + 1)) as BusMessage);
    } catch (err) {
      deps.logger.warn({ err }, 'event bus: unreadable message dropped');
    }
  });

  return {
    publish(to, frame, options) {
      const message: BusMessage = { to, frame: JSON.stringify(frame), ...(options?.close && { close: options.close }) };
      // Redis first: the command is written to its socket at once, so the other instances start
      // their deliveries while this one writes to its own sockets, not after (a fan-out to 1,000
      // local sockets takes ~20 ms: BENCHMARKS.md, "Screen-pop"). Costs the local sockets one
      // stringify and one write, tens of µs.
      deps.publisher
        .publish(CHANNEL, `${instanceId}\n${JSON.stringify(message)}`)
        .catch((err) => deps.logger.warn({ err }, 'event bus: publish to other instances failed'));
      deliver(message);
    },
    onMessage(handler) {
      handlers.push(handler);
    },
    async close() {
      await deps.subscriber.unsubscribe(CHANNEL).catch(() => {});
    },
  };
}
