// Keeps the in-memory RoutingDirectory equal to PostgreSQL, and says how current it is.
//
// One dedicated connection LISTENs on `switchboard_routing` (migration 0001: triggers on clients,
// client_phones, users, departments, department_dids notify `kind:id` on every committed change,
// whoever made it) and reads changed rows back, in order, on that same connection.
//
// Freshness is a bound, not a per-request barrier (issue 16). A heartbeat sends an empty query
// on the listening connection every `heartbeatMs`. PostgreSQL delivers a commit's notification
// to an idle listener at once, and to a busy one before it reads its next query, so when that
// ping is answered every change committed before it was sent has been noted; once those rows
// are read back, the directory is current as of the ping's send time (`asOf`). /pbx/route reads
// only memory and compares `asOf` with its clock: younger than ROUTE_FRESH_MS is current, older
// is answered anyway and marked stale (PostgreSQL slow or down), past ROUTE_STALE_MAX_MS it
// falls back to the department line. `barrier()` is the old per-request proof, now used by
// writes through the API: they answer after this instance has read their own change back, so the
// next call routes by it.
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Logger } from 'pino';
import { type EntityKind, loadInto } from './directory-queries.js';
import { RoutingDirectory } from './routing-directory.js';

const CHANNEL = 'switchboard_routing';
const KINDS: readonly EntityKind[] = ['department', 'user', 'client'];
// A listener that does not answer a ping for this long is treated as lost and replaced.
const PING_TIMEOUT_MS = 2_000;
// 5 pings a second: PostgreSQL spends ~16 µs on one (BENCHMARKS.md), and ROUTE_FRESH_MS
// (1 s by default) leaves room for four missed beats before an answer is marked stale.
const HEARTBEAT_MS = 200;
// Pings leave at least this far apart; see schedulePing.
const PING_SPACING_MS = 1;
const CONNECT_TIMEOUT_MS = 2_000;
// A full load of a large base takes seconds; a query hanging this long means the server is gone.
const LOAD_TIMEOUT_MS = 60_000;
const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 1_000;
// Rows read back per query when many changed at once (an import).
const RELOAD_CHUNK = 5_000;

export class DirectoryUnavailableError extends Error {
  constructor(why: string) {
    super(`routing directory unavailable: ${why}`);
    this.name = 'DirectoryUnavailableError';
  }
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // Callers that gave up (budget elapsed) must not turn a late failure into an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export interface DirectorySync {
  /** The current facts; replaced as a whole after a full reload. */
  readonly directory: RoutingDirectory;
  /** Resolves once every change committed before the call is in `directory`; rejects when that cannot be shown. */
  barrier(): Promise<void>;
  /** Every change committed before this time (the clock's ms) is in `directory`; -Infinity until the first proof. */
  readonly asOf: number;
  /** A directory was loaded at least once (it may be stale now: see `asOf`). */
  readonly loaded: boolean;
  /** Connects and loads; resolves after the first attempt, successful or not (it keeps retrying). */
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly ready: boolean;
}

export interface DirectorySyncOptions {
  connection: pg.ClientConfig;
  logger: Logger;
  /** How often the heartbeat proves the directory current (default 200 ms). */
  heartbeatMs?: number;
  /** Epoch ms (default Date.now); `asOf` is on this clock. */
  clock?: () => number;
}

/** Five beats within ROUTE_FRESH_MS: four may be missed (a long GC, a busy loop) before answers turn stale. */
export const heartbeatMsFor = (config: { ROUTE_FRESH_MS: number }): number => Math.max(20, Math.floor(config.ROUTE_FRESH_MS / 5));

export function createDirectorySync(options: DirectorySyncOptions): DirectorySync {
  const { logger } = options;
  const clock = options.clock ?? Date.now;
  const heartbeatMs = options.heartbeatMs ?? HEARTBEAT_MS;
  let directory = new RoutingDirectory();
  let loaded = false;
  let asOf = Number.NEGATIVE_INFINITY;
  let heartbeat: NodeJS.Timeout | undefined;
  let client: pg.Client | null = null;
  let ready = false;
  let stopped = false;
  let notReadyWhy = 'not started';
  let reconnectDelay = RECONNECT_MIN_MS;
  let reconnectTimer: NodeJS.Timeout | undefined;

  // Changes noted and not yet read back. `all` after a TRUNCATE.
  let changed = { all: false, ids: new Map<EntityKind, Set<number>>() };
  // Reads on the listening connection run one after another; this is the last one queued.
  let work: Promise<void> = Promise.resolve();
  let readBackScheduled = false;

  // At most one ping is on the wire; whoever asks meanwhile shares the next one.
  let pingInFlight: { client: pg.Client; waiting: Deferred } | null = null;
  let nextPing: Deferred | null = null;
  let pingScheduled = false;
  let lastPingSentAt = -Infinity;

  function noteChange(payload: string | undefined): void {
    if (payload === '*') {
      changed.all = true;
      return;
    }
    const [kind, rawId] = (payload ?? '').split(':');
    const id = Number(rawId);
    if ((kind !== 'client' && kind !== 'user' && kind !== 'department') || !Number.isSafeInteger(id)) {
      logger.warn({ payload }, 'ignoring an unexpected routing change notification');
      return;
    }
    let ids = changed.ids.get(kind);
    if (!ids) changed.ids.set(kind, (ids = new Set()));
    ids.add(id);
  }

  /** Queues the reading back of everything noted so far, after whatever is already queued. */
  function queueNotedChanges(c: pg.Client): void {
    if (!changed.all && changed.ids.size === 0) return;
    const batch = changed;
    changed = { all: false, ids: new Map() };
    work = work.then(async () => {
      if (batch.all) return loadEverything(c);
      for (const [kind, ids] of batch.ids) {
        const list = [...ids];
        for (let i = 0; i < list.length; i += RELOAD_CHUNK) await loadInto(directory, c, kind, list.slice(i, i + RELOAD_CHUNK));
      }
    });
    // A failed read means the connection is gone; `lost` has or will set up a full reload.
    work.catch((err: unknown) => lost(c, err));
  }

  async function loadEverything(c: pg.Client): Promise<void> {
    const fresh = new RoutingDirectory();
    for (const kind of KINDS) await loadInto(fresh, c, kind, null);
    directory = fresh;
    loaded = true;
  }

  function lost(c: pg.Client, err: unknown): void {
    if (c !== client) return;
    client = null;
    ready = false;
    notReadyWhy = err instanceof Error ? err.message : String(err);
    // 57P01: the server is shutting down (also ours, embedded, on SIGTERM): expected, not an error.
    const shuttingDown = (err as { code?: string } | null)?.code === '57P01';
    logger[shuttingDown ? 'warn' : 'error']({ err }, 'routing directory lost its PostgreSQL connection; routing falls back until it is reloaded');
    c.removeAllListeners('notification');
    // end() waits for the server's goodbye; a hung server never sends it, so do not wait. Nor
    // can the ping on it be waited for: its callers are answered now, the next ping goes to the
    // next connection.
    c.end().catch(() => {});
    if (pingInFlight?.client === c) {
      pingInFlight.waiting.reject(new DirectoryUnavailableError(notReadyWhy));
      pingInFlight = null;
      if (nextPing) sendPing();
    }
    scheduleReconnect();
  }

  function scheduleReconnect(): void {
    if (stopped || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, reconnectDelay);
    reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS);
  }

  async function connect(): Promise<void> {
    if (stopped) return;
    const c = new pg.Client({ ...options.connection, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, query_timeout: LOAD_TIMEOUT_MS });
    client = c;
    work = Promise.resolve();
    // Whatever was noted on an earlier connection is covered by the full load below.
    changed = { all: false, ids: new Map() };
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c, new Error('connection closed')));
    c.on('notification', (message) => {
      if (message.channel !== CHANNEL) return;
      noteChange(message.payload);
      // Read back in the background too, so that a quiet hour (no calls, no barrier) does not
      // leave the fallback's department table stale. The notifications of one turn share a read.
      if (!readBackScheduled) {
        readBackScheduled = true;
        setImmediate(() => {
          readBackScheduled = false;
          if (client === c && ready) queueNotedChanges(c);
        });
      }
    });
    try {
      await c.connect();
      await c.query(`listen ${CHANNEL}`);
      // Listening before loading: a change committed during the load is noted, and read again after it.
      await loadEverything(c);
      if (client !== c) return;
      ready = true;
      reconnectDelay = RECONNECT_MIN_MS;
      logger.info(directory.size, 'routing directory loaded');
      queueNotedChanges(c);
      // Current as of the first ping after the load, not as of the load: its three queries are
      // not one snapshot, and what changed meanwhile is read back before the ping resolves.
      await barrier().catch(() => {});
    } catch (err) {
      if (client === c) lost(c, err);
      else c.end().catch(() => {});
    }
  }

  // After the current turn of the event loop, so that the requests read in this turn share the
  // ping, and no sooner than PING_SPACING_MS after the previous ping went out. Idle, a ping leaves
  // at once; at a steady 1,000 req/s a request waits at most that millisecond more. Under load the
  // requests of a millisecond share one ping instead of one ping per round trip (~0.3 ms here):
  // on the route benchmark, 14 answers a ping (330 pings/s at 4,900 answers/s). Sending pings
  // had been 5 % of the service's CPU per answer in its profile, PostgreSQL 16 µs each.
  function schedulePing(): void {
    if (pingScheduled || pingInFlight) return;
    pingScheduled = true;
    const fire = () => {
      pingScheduled = false;
      sendPing();
    };
    const wait = lastPingSentAt + PING_SPACING_MS - performance.now();
    if (wait > 0) setTimeout(fire, wait);
    else setImmediate(fire);
  }

  function sendPing(): void {
    const waiting = nextPing;
    nextPing = null;
    if (!waiting) return;
    const c = client;
    if (!c || !ready) return waiting.reject(new DirectoryUnavailableError(notReadyWhy));
    const ping = { client: c, waiting };
    pingInFlight = ping;
    lastPingSentAt = performance.now();
    const sentAt = clock();
    const timeout = setTimeout(() => lost(c, new Error(`no answer to a ping in ${PING_TIMEOUT_MS} ms`)), PING_TIMEOUT_MS);
    // The empty query: PostgreSQL answers EmptyQueryResponse without parsing or planning
    // anything, and the driver has no row to decode (half the client CPU of `select 1`).
    c.query('')
      .then(() => {
        // Notifications that arrived before the ping's answer are noted: read them back, then answer.
        queueNotedChanges(c);
        return work;
      })
      .then(() => {
        if (client === c && sentAt > asOf) asOf = sentAt;
        waiting.resolve();
      }, waiting.reject)
      .finally(() => {
        clearTimeout(timeout);
        if (pingInFlight !== ping) return;
        pingInFlight = null;
        if (nextPing) schedulePing();
      });
  }

  function barrier(): Promise<void> {
    if (!ready) return Promise.reject(new DirectoryUnavailableError(notReadyWhy));
    if (!nextPing) {
      nextPing = deferred();
      // One ping at a time is in flight; whoever arrives meanwhile shares the next one.
      schedulePing();
    }
    return nextPing.promise;
  }

  // A failed beat needs no handling here: the connection is declared lost (ping timeout, error),
  // and `asOf` simply stops moving, which is what marks answers stale.
  function beat(): void {
    if (ready && !pingInFlight) barrier().catch(() => {});
  }

  return {
    get directory() {
      return directory;
    },
    get ready() {
      return ready;
    },
    get loaded() {
      return loaded;
    },
    get asOf() {
      return asOf;
    },
    barrier,
    async start() {
      stopped = false;
      heartbeat ??= setInterval(beat, heartbeatMs);
      heartbeat.unref();
      await connect();
    },
    async stop() {
      stopped = true;
      clearInterval(heartbeat);
      heartbeat = undefined;
      clearTimeout(reconnectTimer);
      reconnectTimer = undefined;
      const c = client;
      client = null;
      ready = false;
      notReadyWhy = 'stopped';
      nextPing?.reject(new DirectoryUnavailableError('stopped'));
      nextPing = null;
      if (c) {
        c.removeAllListeners('end');
        c.removeAllListeners('error');
        c.on('error', () => {});
        await c.end().catch(() => {});
      }
    },
  };
}
