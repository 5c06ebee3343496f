import { effect, signal } from '@preact/signals';
import { session, sessionEnded } from '../api/session.js';

export type LiveState = 'connecting' | 'online' | 'offline';
export interface Frame {
  type: string;
  [k: string]: unknown;
}

/** The live channel's state, shown in the header. */
export const liveState = signal<LiveState>('offline');

type Listener = (frame: Frame) => void;
const listeners = new Map<string, Set<Listener>>();

/** Every screen reads frames from here; returns the unsubscribe. */
export function onFrame(type: string, listener: Listener): () => void {
  let set = listeners.get(type);
  if (!set) listeners.set(type, (set = new Set()));
  set.add(listener);
  return () => set!.delete(listener);
}

let socket: WebSocket | null = null;
let retry = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let pingTimer: ReturnType<typeof setInterval> | undefined;

export function send(frame: Frame): boolean {
  if (socket?.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

function dispatch(frame: Frame): void {
  // The pop's paint is measured from here (performance marks, see live/pops.ts).
  if (frame.type === 'call.ringing') performance.mark(`frame:${String(frame.linkedid)}`);
  for (const l of listeners.get(frame.type) ?? []) l(frame);
  for (const l of listeners.get('*') ?? []) l(frame);
}

function connect(token: string): void {
  clearTimeout(retryTimer);
  liveState.value = 'connecting';
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws?token=${encodeURIComponent(token)}`;
  const ws = new WebSocket(url);
  socket = ws;
  ws.onopen = () => {
    retry = 0;
    liveState.value = 'online';
    // A quiet line through a proxy that drops idle sockets: a ping every 25 s keeps it open.
    clearInterval(pingTimer);
    pingTimer = setInterval(() => send({ type: 'ping' }), 25_000);
  };
  ws.onmessage = (e) => {
    try {
      dispatch(JSON.parse(String(e.data)) as Frame);
    } catch {
      /* a frame that is not JSON: nothing to show */
    }
  };
  ws.onclose = (e) => {
    if (socket !== ws) return;
    clearInterval(pingTimer);
    socket = null;
    liveState.value = 'offline';
    // 4001: the account was disabled or its password changed; the server asks not to come back.
    if (e.code === 4001) return sessionEnded();
    if (!session.value) return;
    // Back-off with jitter: 0.5 s, 1 s, 2 s … 15 s. The server replays the pops on connect.
    const delay = Math.min(15_000, 500 * 2 ** retry++) * (0.75 + Math.random() / 2);
    retryTimer = setTimeout(() => session.value && connect(session.value.token), delay);
  };
}

function disconnect(): void {
  clearTimeout(retryTimer);
  clearInterval(pingTimer);
  const ws = socket;
  socket = null;
  ws?.close(1000);
  liveState.value = 'offline';
}

// Connected while signed in; a new token (signed in again) opens a new socket.
let currentToken: string | null = null;
effect(() => {
  const token = session.value?.token ?? null;
  if (token === currentToken) return;
  currentToken = token;
  disconnect();
  if (token) connect(token);
});

// Back from sleep or a lost network: try at once instead of waiting for the back-off.
addEventListener('online', () => {
  if (!socket && session.value) connect(session.value.token);
});
