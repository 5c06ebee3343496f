import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import * as ws from 'ws';

// A frame for many sockets (a supervisor fan-out reaches a whole department) is framed ONCE and
// written to each socket as one ready Buffer. `socket.send(text)` would, per socket, measure and
// encode the string, build a header and write header and payload as two chunks (cork, writev,
// uncork). A/B on the 2-core VM of BENCHMARKS.md, 2,000 sockets (bench/screenpop/fanout-ab.ts):
// the loop's median 48–51 → 33–41 ms; what remains is the kernel's cost of one socket write
// each (~15–20 µs there), not JavaScript.

/** What `ws` (8.x) exports but its type definitions leave out: a named export of its ES module
 *  entry, a property of the default export of its CommonJS one. */
type Framer = { frame(data: Buffer, options: { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }): Buffer[] };
const exported = ws as unknown as { Sender?: Framer; default?: { Sender?: Framer } };
const Sender: Framer | undefined = exported.Sender ?? exported.default?.Sender;
if (!Sender?.frame) throw new Error('ws does not export Sender.frame: screenpop/ws-frame.ts needs ws 8');
const framer: Framer = Sender;

/** An unmasked, unfragmented text frame (server to client), header and payload in one Buffer. */
export function textFrame(text: string): Buffer {
  const parts = framer.frame(Buffer.from(text), { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * Writes a frame from `textFrame` to an OPEN socket. The raw write is only valid while ws has
 * nothing of its own queued, which holds when no extension is negotiated (no permessage-deflate:
 * the server never enables it) — ws's sender then writes synchronously too, so frames keep their
 * order. Otherwise, or should ws's internals change, the socket sends the text the usual way.
 */
export function sendFramed(socket: WebSocket, frame: Buffer, text: string): void {
  const raw = (socket as unknown as { _socket?: Socket | null })._socket;
  if (raw && socket.extensions === '' && typeof raw.write === 'function') raw.write(frame);
  else socket.send(text);
}
