import type {} from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import { viewerOf } from '../auth/auth.plugin.js';
import type { Viewer } from '../auth/viewer.js';
import { AppError } from '../errors.js';
import type { ActivePops } from './active-pops.js';
import { frameTextForViewer } from './client-card.js';
import type { Connection, WsHub } from './ws-hub.js';
import { closeFast, createFrameBudget, roomFor } from './ws-limits.js';

/** Something that reacts to a frame sent by a browser (presence change, …). */
export type ClientMessageHandler = (viewer: Viewer, message: { type: string; [k: string]: unknown }, reply: (frame: object) => void) => Promise<void> | void;
/** Something that has frames for a user who just connected (due reminders, …). */
export type ConnectHook = (viewer: Viewer, send: (frame: object) => void) => Promise<void> | void;

/** Several features share the socket: one handler per frame type; an unknown type is an error frame. */
export function byFrameType(handlers: Readonly<Record<string, ClientMessageHandler>>): ClientMessageHandler {
  return async (viewer, message, reply) => {
    const handler = Object.hasOwn(handlers, message.type) ? handlers[message.type] : undefined;
    // The client's input is never echoed back: it would let a client make us buffer its frames.
    if (!handler) throw new UnknownFrameType();
    await handler(viewer, message, reply);
  };
}

class UnknownFrameType extends AppError {
  constructor() {
    super('VALIDATION', 'unknown frame type');
  }
}

const HEARTBEAT_MS = 30_000;
/** Server-written error texts only, and short ones. */
const errorText = (message: string) => message.slice(0, 200);

/**
 * `/ws`: the screen. The bearer token comes in `?token=` (browsers cannot set headers on a
 * WebSocket) or in `Authorization`. On connect the user gets `hello`, then the pops of calls
 * still ringing or in progress, then whatever the connect hooks add (reminders due while away).
 */
export const wsRoutes: FastifyPluginAsync<{
  hub: WsHub;
  activePops: ActivePops;
  onClientMessage?: ClientMessageHandler;
  onConnect?: ConnectHook[];
  heartbeatMs?: number;
}> = async (app, opts) => {
  const { hub } = opts;

  // Heartbeat: a socket that did not answer the previous ping is dead (laptop lid closed,
  // NAT dropped) and is terminated, so it does not hold a place in the hub forever. Sockets are
  // dealt into slices pinged about a second apart, each socket once per interval: pinging 2,000
  // sockets in one go blocked the event loop for 50–150 ms every 30 s, and a pop arriving then
  // waited for it (BENCHMARKS.md, "Screen-pop").
  const heartbeatMs = opts.heartbeatMs ?? HEARTBEAT_MS;
  const slices = Array.from({ length: Math.max(1, Math.round(heartbeatMs / 1_000)) }, () => new Set<Connection>());
  let dealt = 0;
  let tick = 0;
  const heartbeat = setInterval(() => {
    const slice = slices[tick]!;
    tick = (tick + 1) % slices.length;
    for (const c of slice) {
      if (!c.alive) {
        c.socket.terminate();
        continue;
      }
      c.alive = false;
      c.socket.ping();
    }
  }, heartbeatMs / slices.length);
  heartbeat.unref();
  app.addHook('onClose', async () => {
    clearInterval(heartbeat);
    for (const c of hub.connections()) c.socket.close(1001, 'server shutting down');
  });

  app.get('/ws', { websocket: true, preValidation: app.requireUser, schema: { hide: true } }, (socket: WebSocket, request) => {
    const viewer = viewerOf(request);
    const connection: Connection = { socket, userId: viewer.id, role: viewer.role, departmentId: viewer.departmentId, managerId: viewer.managerId, alive: true };
    // Every frame goes through `roomFor`: a client that does not read is terminated rather than
    // buffered for (ws-limits.ts).
    const send = (frame: object) => roomFor(socket) && socket.send(JSON.stringify(frame));
    hub.register(connection);
    const slice = slices[dealt++ % slices.length]!;
    slice.add(connection);
    socket.on('pong', () => {
      connection.alive = true;
    });
    socket.on('close', () => {
      hub.unregister(connection);
      slice.delete(connection);
    });
    socket.on('error', (err) => request.log.debug({ err, userId: viewer.id }, 'websocket error'));
    const budget = createFrameBudget();
    const refuse = (message: string) => {
      if (!budget.bad()) {
        request.log.info({ userId: viewer.id }, 'websocket closed: too many bad frames');
        return closeFast(socket, 1008, 'too many bad frames');
      }
      send({ type: 'error', message });
    };
    socket.on('message', (data, isBinary) => {
      connection.alive = true;
      if (!budget.take()) {
        request.log.info({ userId: viewer.id }, 'websocket closed: too many frames');
        return closeFast(socket, 1008, 'too many frames');
      }
      let message: { type?: unknown } | null = null;
      try {
        if (!isBinary) message = JSON.parse(data.toString());
      } catch {
        // answered below, without the input
      }
      if (typeof message?.type !== 'string') return refuse('frames must be JSON objects with a string "type"');
      if (message.type === 'ping') return send({ type: 'pong' });
      if (!opts.onClientMessage) return refuse('unknown frame type');
      Promise.resolve(opts.onClientMessage(viewer, message as { type: string }, send)).catch((err: Error & { statusCode?: number }) => {
        if (err instanceof UnknownFrameType) return refuse(err.message);
        send({ type: 'error', message: err.statusCode && err.statusCode < 500 ? errorText(err.message) : 'internal error' });
      });
    });

    send({ type: 'hello', user: { id: viewer.id, name: viewer.name, role: viewer.role } });
    void (async () => {
      try {
        for (const frame of await opts.activePops.forUser(viewer.id)) if (roomFor(socket)) socket.send(frameTextForViewer(frame, viewer));
        for (const hook of opts.onConnect ?? []) await hook(viewer, send);
      } catch (err) {
        request.log.warn({ err, userId: viewer.id }, 'could not send the connect snapshot');
      }
    })();
  });
};
