import type { WebSocket } from 'ws';

// What one connection may cost the server. A signed-in client that sent 60 KB frames and never
// read grew the process from 171 to 468 MB in 4 s (issue 15): every frame was echoed back in an
// error frame and queued in memory for a reader that never came.

/** Client frames are tiny control frames (ping, presence.set, reminder.ack); ws closes with 1009 past this. */
export const MAX_CLIENT_FRAME_BYTES = 4 * 1024;
/** Bytes queued for a socket beyond which it is a slow consumer: terminated, not buffered for. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Frames a client may send per window; the console sends a handful a minute. */
export const MAX_FRAMES_PER_WINDOW = 60;
export const FRAME_WINDOW_MS = 10_000;
/** Malformed or unknown frames tolerated before the socket is closed (1008). */
export const MAX_BAD_FRAMES = 3;
/** After a close frame, how long a peer that does not read gets before the TCP socket is cut. */
export const CLOSE_GRACE_MS = 1_000;

/** True when the socket may take another frame; a slow consumer is terminated instead. */
export function roomFor(socket: WebSocket): boolean {
  if (socket.readyState !== 1) return false;
  if (socket.bufferedAmount <= MAX_BUFFERED_BYTES) return true;
  socket.terminate();
  return false;
}

/**
 * Closes with a code at once and cuts the socket if the peer does not finish the handshake
 * quickly: ws would otherwise wait 30 s for a client that does not read its close frame.
 */
export function closeFast(socket: WebSocket, code: number, reason: string): void {
  if (socket.readyState >= 2) return;
  socket.close(code, reason);
  setTimeout(() => socket.terminate(), CLOSE_GRACE_MS).unref();
}

/** Counts one client's frames: a flood or a run of bad frames means it is closed. */
export function createFrameBudget(now: () => number = Date.now) {
  let windowStart = now();
  let frames = 0;
  let bad = 0;
  return {
    /** A frame arrived: false when the client has sent too many in this window. */
    take(): boolean {
      const t = now();
      if (t - windowStart >= FRAME_WINDOW_MS) {
        windowStart = t;
        frames = 0;
      }
      return ++frames <= MAX_FRAMES_PER_WINDOW;
    },
    /** A frame was malformed or of an unknown type: false when that was one too many. */
    bad(): boolean {
      return ++bad <= MAX_BAD_FRAMES;
    },
  };
}
