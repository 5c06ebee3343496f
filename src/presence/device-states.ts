// The state of each user's phone as Asterisk reports it (AMI DeviceStateChange), shared by every
// instance: the AMI stream is consumed on the leader only, but /pbx/route runs everywhere and
// asks synchronously ("is 101 on the phone?") inside its 250 ms budget.
//
// Where it lives and how stale it may be:
// - Redis hash `switchboard:device-states:<system>`: extension → {state, at}. The truth
//   between instances, written by the leader as events arrive.
// - An in-memory copy on every instance, which routing reads. Updated by a pub/sub message per
//   change (milliseconds behind the leader), and re-read from the hash every RELOAD_MS, so a
//   pub/sub message lost in a Redis blip costs at most RELOAD_MS of staleness.
// - Asterisk sends a device's state only when it changes: an idle phone may report nothing for
//   days, so age alone cannot invalidate a state. But a busy-like state whose NOT_INUSE was lost
//   (AMI link down at the time) would skip that owner forever; so any state other than idle
//   older than STALE_AFTER_MS reads as unknown (which routing does not skip). On every AMI
//   (re)connect the leader asks for the full list (DeviceStateList), which repairs the rest.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createRedis } from '../infra/redis.js';
import type { DeviceState } from '../routing/types.js';

const RELOAD_MS = 15_000;
/** Longer than any real call; the call tracker gives up on silent calls after the same time. */
const STALE_AFTER_MS = 4 * 3600_000;

/**
 * Asterisk's device state → the routing's. RINGINUSE (a second call ringing on a phone that is
 * already in a conversation) counts as in use, not ringing: the owner is talking, and routing
 * must not ring them again.
 */
export function mapDeviceState(state: string): DeviceState {
  switch (state.toUpperCase()) {
    case 'NOT_INUSE':
      return 'idle';
    case 'INUSE':
    case 'ONHOLD':
    case 'RINGINUSE':
      return 'inuse';
    case 'BUSY':
      return 'busy';
    case 'RINGING':
      return 'ringing';
    case 'UNAVAILABLE':
    case 'INVALID':
      return 'unavailable';
    default:
      return 'unknown';
  }
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The device name Asterisk reports for a user's phone is the dial string of DEVICE_DIAL_TEMPLATE
 * (`PJSIP/101`, `Local/101@fake-phones`), up to any `/` after the resource (dial options): the
 * template read backwards gives the extension. Anything else (trunks, queues, Custom:) is null.
 */
export function deviceExtensionReader(template: string): (device: string) => string | null {
  const slash = template.indexOf('/');
  const tech = slash > 0 ? template.slice(0, slash) : '';
  let resource = template.slice(slash + 1);
  const cut = resource.indexOf('/');
  if (cut !== -1) resource = resource.slice(0, cut);
  const at = resource.indexOf('{extension}');
  if (!tech || at === -1) return () => null;
  const re = new RegExp(
    `^${escapeRe(tech)}/${escapeRe(resource.slice(0, at))}([A-Za-z0-9_*#+.-]{1,64}?)${escapeRe(resource.slice(at + '{extension}'.length))}$`,
    'i',
  );
  return (device) => re.exec(device)?.[1] ?? null;
}

interface Entry {
  state: DeviceState;
  at: number;
}

export interface DeviceStateChange {
  extension: string;
  state: DeviceState;
  previous: DeviceState | undefined;
}

export interface DeviceStatesDeps {
  /** A command connection (fail-fast). */
  redis: Redis;
  /** For this module's own subscriber connection. */
  redisUrl: string;
  systemName: string;
  /** REDIS_PREFIX. */
  keyPrefix: string;
  deviceDialTemplate: string;
  logger: Logger;
  now?: () => number;
  reloadMs?: number;
}

export function createDeviceStates(deps: DeviceStatesDeps) {
  const log = deps.logger.child({ component: 'device-states' });
  const now = deps.now ?? Date.now;
  const key = `${deps.keyPrefix}:device-states:${deps.systemName}`;
  const channel = `${key}:changed`;
  const extensionOf = deviceExtensionReader(deps.deviceDialTemplate);
  const memory = new Map<string, Entry>();
  const subscriber = createRedis(deps.redisUrl, 'blocking');
  let reloadTimer: NodeJS.Timeout | null = null;

  // Newest wins: a late pub/sub message or a reload racing an in-flight write must not move a
  // phone back to an older state.
  const merge = (extension: string, entry: Entry) => {
    const known = memory.get(extension);
    if (!known || entry.at >= known.at) memory.set(extension, entry);
  };
  const parse = (raw: string): (Entry & { extension?: string }) | null => {
    try {
      const v = JSON.parse(raw) as { state?: unknown; at?: unknown; extension?: unknown };
      if (typeof v.state !== 'string' || typeof v.at !== 'number') return null;
      return { state: v.state as DeviceState, at: v.at, ...(typeof v.extension === 'string' && { extension: v.extension }) };
    } catch {
      return null;
    }
  };

  subscriber.on('message', (ch: string, raw: string) => {
    if (ch !== channel) return;
    const v = parse(raw);
    if (v?.extension !== undefined) merge(v.extension, { state: v.state, at: v.at });
  });

  async function reload(): Promise<void> {
    try {
      const all = await deps.redis.hgetall(key);
      for (const [extension, raw] of Object.entries(all)) {
        const entry = parse(raw);
        if (entry) merge(extension, { state: entry.state, at: entry.at });
      }
    } catch (err) {
      log.warn({ err }, 'could not read device states from Redis; keeping the copy in memory');
    }
  }

  return {
    async start(): Promise<void> {
      // Awaited for a second at most: with Redis down at boot the blocking connection would
      // wait forever; the periodic reload covers the time until the subscription is up.
      const subscribed = subscriber.subscribe(channel).catch((err: unknown) => log.error({ err }, 'could not subscribe to device state changes'));
      await Promise.race([subscribed, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
      await reload();
      reloadTimer = setInterval(() => void reload(), deps.reloadMs ?? RELOAD_MS);
      reloadTimer.unref();
    },

    /** What routing reads: undefined when not known (or too old to trust). */
    get(extension: string): DeviceState | undefined {
      const entry = memory.get(extension);
      if (!entry) return undefined;
      if (entry.state !== 'idle' && now() - entry.at > STALE_AFTER_MS) return undefined;
      return entry.state;
    },

    /**
     * One DeviceStateChange on the AMI consumer. Synchronous and cheap (it runs on the socket's
     * read path); the Redis write and the broadcast follow in the background. Returns the change
     * when the mapped state differs from the known one (INUSE → ONHOLD is no change), else null.
     */
    apply(device: string, asteriskState: string): DeviceStateChange | null {
      const extension = extensionOf(device);
      if (extension === null) return null;
      const state = mapDeviceState(asteriskState);
      const previous = memory.get(extension)?.state;
      if (previous === state) return null;
      const entry: Entry = { state, at: now() };
      memory.set(extension, entry);
      void deps.redis
        .multi()
        .hset(key, extension, JSON.stringify(entry))
        .publish(channel, JSON.stringify({ extension, ...entry }))
        .exec()
        .catch((err: unknown) => log.warn({ err, extension }, 'could not share a device state'));
      return { extension, state, previous };
    },

    /** Ask the PBX for every device's state; the answers arrive as DeviceStateChange events. */
    async resync(ami: { action(name: string): Promise<unknown> }): Promise<void> {
      await ami.action('DeviceStateList').catch((err: unknown) => log.debug({ err }, 'DeviceStateList failed; relying on events'));
    },

    async close(): Promise<void> {
      if (reloadTimer) clearInterval(reloadTimer);
      await subscriber.unsubscribe(channel).catch(() => {});
      subscriber.disconnect();
    },
  };
}

export type DeviceStates = ReturnType<typeof createDeviceStates>;
