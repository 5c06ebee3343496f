// The AMI connection: one asterisk-manager instance per attempt (its quirks and what we do
// about them are in asterisk-manager.ts), our own reconnect loop with exponential backoff
// capped at 30 s, actions that fail fast while down, a Ping heartbeat, typed events.
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { AmiError, newActionId, validateAction, type AmiFields, type AmiResponse } from './actions.js';
import { createManager, spoofed, type Manager, type Raw } from './asterisk-manager.js';
import { toAmiEvent, type AmiEvent } from './events.js';

export type AmiStatus = 'connected' | 'connecting' | 'down' | 'disabled';

export interface AmiClientConfig {
  host: string;
  port: number;
  username: string;
  secret: string;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** TCP connect + Login answer. */
  connectTimeoutMs?: number;
  actionTimeoutMs?: number;
  /** Heartbeat Ping while connected; 0 disables it. */
  pingIntervalMs?: number;
}

export interface AmiClient {
  start(): void;
  stop(): Promise<void>;
  status(): AmiStatus;
  onStatusChange(handler: (status: AmiStatus) => void): () => void;
  /** Handlers run synchronously on the socket's read path: keep them cheap. */
  onEvent(handler: (e: AmiEvent) => void): () => void;
  action(name: string, fields?: AmiFields, opts?: { timeoutMs?: number; actionId?: string }): Promise<AmiResponse>;
}

function toResponse(raw: Raw): AmiResponse {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) fields[k] = Array.isArray(v) ? String(v.at(-1)) : String(v);
  return {
    response: fields['response'] ?? '', actionId: fields['actionid'] ?? '',
    message: fields['message'] ?? '', fields,
  };
}

interface Conn {
  m: Manager;
  tcpUp: boolean;
  closed: boolean;
}

interface Pending {
  name: string;
  resolve: (r: AmiResponse) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export function createAmiClient(config: AmiClientConfig, logger: Logger): AmiClient {
  const log = logger.child({ component: 'ami', host: config.host, port: config.port });
  const backoffInitialMs = config.backoffInitialMs ?? 500;
  const backoffMaxMs = config.backoffMaxMs ?? 30_000;
  const connectTimeoutMs = config.connectTimeoutMs ?? 10_000;
  const actionTimeoutMs = config.actionTimeoutMs ?? 5_000;
  const pingIntervalMs = config.pingIntervalMs ?? 20_000;

  let state: AmiStatus = 'down';
  let started = false;
  let stopped = false;
  let conn: Conn | null = null;
  let generation = 0;
  let attempt = 0;
  let reconnectTimer: NodeJS.Timeout | undefined;
  let connectTimer: NodeJS.Timeout | undefined;
  let pingTimer: NodeJS.Timeout | undefined;
  const pending = new Map<string, Pending>();
  const eventHandlers = new Set<(e: AmiEvent) => void>();
  const statusHandlers = new Set<(s: AmiStatus) => void>();

  function setStatus(next: AmiStatus): void {
    if (next === state) return;
    state = next;
    for (const h of statusHandlers) {
      try { h(next); } catch (err) { log.error({ err }, 'AMI status handler threw'); }
    }
  }

  function rejectAll(reason: string): void {
    for (const [id, p] of pending) {
      clearTimeout(p.timer);
      p.reject(new AmiError('down', `AMI ${reason}; action ${id} has no answer`));
    }
    pending.clear();
  }

  function clearTimers(): void {
    clearTimeout(reconnectTimer);
    clearTimeout(connectTimer);
    clearTimeout(pingTimer);
    reconnectTimer = connectTimer = pingTimer = undefined;
  }

  // Gives up on the current Manager (its later events are ignored) and schedules the next try.
  function fail(gen: number, reason: string, err?: unknown): void {
    if (gen !== generation || stopped) return;
    generation++;
    clearTimers();
    const c = conn;
    conn = null;
    if (c?.tcpUp && !c.closed) c.m.disconnect();
    const wasConnected = state === 'connected';
    rejectAll(reason);
    setStatus('down');
    const delayMs = Math.min(backoffMaxMs, backoffInitialMs * 2 ** Math.min(attempt, 30));
    attempt++;
    // Jitter keeps N instances from reconnecting in lockstep after a PBX restart.
    const jittered = Math.round(delayMs * (0.8 + Math.random() * 0.2));
    const error = err instanceof Error ? err.message : err === undefined ? undefined : String(err);
    log[wasConnected ? 'error' : 'warn']({ reason, error, attempt, delayMs: jittered }, 'AMI down; reconnect scheduled');
    reconnectTimer = setTimeout(connect, jittered);
  }

  function connect(): void {
    if (stopped) return;
    const gen = ++generation;
    setStatus('connecting');
    log.info({ attempt }, 'AMI connecting');
    const m = createManager(config.host, config.username, config.secret);
    const c: Conn = { m, tcpUp: false, closed: false };
    conn = c;
    let lastError: unknown;
    m.on('error', (...args: unknown[]) => { if (!spoofed(args)) lastError = args[0]; });
    m.on('close', (...args: unknown[]) => {
      if (spoofed(args)) return;
      c.closed = true;
      fail(gen, 'connection closed', lastError);
    });
    m.on('connect', (...args: unknown[]) => {
      if (spoofed(args)) return;
      c.tcpUp = true;
      if (gen !== generation) m.disconnect(); // abandoned while connecting: close it now
    });
    m.on('response', (...args: unknown[]) => {
      if (gen === generation && !spoofed(args) && args[0] && typeof args[0] === 'object') onResponse(args[0] as Raw);
    });
    m.on('managerevent', (...args: unknown[]) => {
      if (gen === generation && !spoofed(args)) dispatch(args[0] as Raw);
    });
    connectTimer = setTimeout(() => fail(gen, `no login within ${connectTimeoutMs} ms`), connectTimeoutMs);
    m.connect(config.port, config.host, () => {
      if (gen !== generation) return;
      m.login((err) => {
        if (gen !== generation) return;
        if (err) {
          // Asterisk closes the session after `Authentication failed`; retrying with backoff
          // keeps the log readable and lets a fixed manager.conf take effect without a restart.
          fail(gen, 'login rejected', (err as Raw)['message'] ?? 'Authentication failed');
          return;
        }
        clearTimeout(connectTimer);
        connectTimer = undefined;
        attempt = 0;
        setStatus('connected');
        log.info('AMI connected');
        schedulePing(gen);
      });
    });
  }

  function schedulePing(gen: number): void {
    // `stopped`: a Ping answered while stop() waits for the Logoff must not re-arm the timer.
    if (pingIntervalMs <= 0 || stopped || gen !== generation) return;
    pingTimer = setTimeout(() => {
      action('Ping', {}, { timeoutMs: Math.min(actionTimeoutMs, pingIntervalMs) }).then(
        () => schedulePing(gen),
        (err: unknown) => fail(gen, 'ping failed', err),
      );
    }, pingIntervalMs);
  }

  function dispatch(raw: Raw): void {
    const event = toAmiEvent(raw);
    if (!event) return;
    for (const h of eventHandlers) {
      try { h(event); } catch (err) { log.error({ err, event: event.event }, 'AMI event handler threw'); }
    }
  }

  function action(
    name: string,
    fields: AmiFields = {},
    opts: { timeoutMs?: number; actionId?: string } = {},
  ): Promise<AmiResponse> {
    const actionId = opts.actionId ?? newActionId();
    try {
      validateAction(name, fields);
      if (!/^[A-Za-z0-9._:-]+$/.test(actionId)) throw new AmiError('invalid', 'ActionID must be a plain token');
    } catch (err) {
      return Promise.reject(err);
    }
    const m = conn?.m;
    if (state !== 'connected' || !m) {
      return Promise.reject(new AmiError('down', `PBX is not connected (AMI ${state})`));
    }
    if (pending.has(actionId)) return Promise.reject(new AmiError('invalid', `ActionID ${actionId} in use`));
    const timeoutMs = opts.timeoutMs ?? actionTimeoutMs;
    return new Promise<AmiResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(actionId);
        m.removeAllListeners(actionId);
        reject(new AmiError('timeout', `AMI ${name} got no response within ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(actionId, { name, resolve, reject, timer });
      // Settled by onResponse, not by this callback: see there.
      m.action({ ...fields, action: name, actionid: actionId }, () => undefined);
    });
  }

  // The package calls an action's callback with the first message carrying its ActionID, and
  // an OriginateResponse event carries it too: should the event overtake the queued Response,
  // the callback would get the event and the real Response would find no listener. So responses
  // are matched here, from the 'response' stream, skipping anything that is an event.
  function onResponse(raw: Raw): void {
    if (raw['event'] !== undefined) return;
    const actionId = String(raw['actionid']);
    const p = pending.get(actionId);
    if (!p) return;
    pending.delete(actionId);
    clearTimeout(p.timer);
    const res = toResponse(raw);
    if (res.response.toLowerCase() === 'error') {
      p.reject(new AmiError('rejected', `AMI ${p.name} failed: ${res.message || 'error'}`, res));
    } else {
      p.resolve(res);
    }
  }

  async function stop(): Promise<void> {
    if (stopped) return;
    stopped = true;
    const c = conn;
    const wasConnected = state === 'connected';
    clearTimers();
    if (c && wasConnected) {
      // Logoff lets Asterisk log a clean "logged off" instead of a lost connection.
      await action('Logoff', {}, { timeoutMs: 500 }).catch(() => undefined);
    }
    generation++;
    conn = null;
    rejectAll('client stopped');
    if (c && !c.closed) await closeConn(c);
    setStatus('down');
    log.info('AMI stopped');
  }

  return {
    start() {
      if (started) return;
      started = true;
      connect();
    },
    stop,
    status: () => state,
    onStatusChange(handler) {
      statusHandlers.add(handler);
      return () => statusHandlers.delete(handler);
    },
    onEvent(handler) {
      eventHandlers.add(handler);
      return () => eventHandlers.delete(handler);
    },
    action,
  };
}

// Resolves when the socket is closed, or after 1 s (a dead peer may never answer our FIN).
function closeConn(c: Conn): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    c.m.on('close', (...args: unknown[]) => {
      if (spoofed(args)) return;
      clearTimeout(timer);
      resolve();
    });
    // Not yet connected: the 'connect' listener from connect() disconnects it on arrival.
    if (c.tcpUp) c.m.disconnect();
  });
}

/** For when AMI_HOST is not configured: the service runs without a PBX, /ready says so. */
export function createDisabledAmi(): AmiClient {
  return {
    start() {},
    stop: async () => {},
    status: () => 'disabled',
    onStatusChange: () => () => false,
    onEvent: () => () => false,
    action: () => Promise.reject(new AmiError('down', 'PBX is not configured (AMI_HOST is empty)')),
  };
}

/** The client the service runs with: disabled when AMI_HOST is empty (no PBX configured). */
export function createAmiFromConfig(
  config: Pick<Config, 'AMI_HOST' | 'AMI_PORT' | 'AMI_USERNAME' | 'AMI_SECRET'>,
  logger: Logger,
): AmiClient {
  if (config.AMI_HOST === '') return createDisabledAmi();
  return createAmiClient(
    { host: config.AMI_HOST, port: config.AMI_PORT, username: config.AMI_USERNAME, secret: config.AMI_SECRET },
    logger,
  );
}
