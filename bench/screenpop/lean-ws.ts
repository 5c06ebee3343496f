import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

// A WebSocket client that does just what a benchmark screen needs, for as little CPU per frame
// as Node allows: a hand-written upgrade request, then server frames read with net's `onread`
// (libuv reads straight into one buffer shared by all sockets of the thread: no Buffer per read,
// no stream 'data' events, no ws Receiver) and cut by a small parser. What it speaks of RFC 6455:
// unmasked server frames of any length, text/binary, ping (answered with a pong: the service's
// heartbeat terminates sockets that do not answer), close (answered); masked text frames to the
// server. Not fragmented messages (ws never fragments what `send` gets) and no extensions: both
// are reported as errors, never silently skipped.
//
// The receipt time is taken FIRST in the read callback, before any parsing: every frame that
// read completes gets it, so the clock stops when the bytes are in this process, as with `ws`.

export interface LeanHandlers {
  /** A complete text or binary message. `payload` may be a view into the shared read buffer:
   *  valid only during the call (copy what you keep). `at` is epoch ms (timeOrigin + now). */
  frame(payload: Buffer, at: number): void;
  close(): void;
  error(err: Error): void;
}

export interface LeanSocket {
  sendText(text: string): void;
  close(): void;
  terminate(): void;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const OP_CONT = 0;
const OP_CLOSE = 8;
const OP_PING = 9;
const OP_PONG = 10;
const HEADER_END = Buffer.from('\r\n\r\n');

/** One read buffer per thread: callbacks run one at a time and the parser copies what spans reads. */
const readBuffer = Buffer.allocUnsafe(256 * 1024);

/** A masked client frame (RFC 6455 §5.3: every client frame is masked). */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const long = payload.length > 125;
  if (payload.length > 0xffff) throw new Error('lean-ws: client frames over 64 KiB are not needed here');
  const header = long ? 4 : 2;
  const out = Buffer.allocUnsafe(header + 4 + payload.length);
  out[0] = 0x80 | opcode;
  if (long) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(payload.length, 2);
  } else {
    out[1] = 0x80 | payload.length;
  }
  const mask = randomBytes(4);
  mask.copy(out, header);
  for (let i = 0; i < payload.length; i++) out[header + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/**
 * Parses a stream of unmasked server frames. `push` takes each read; the bytes of an unfinished
 * frame are copied (the read buffer is reused) and joined once the frame is complete.
 */
export function serverFrameParser(onFrame: (opcode: number, payload: Buffer, at: number) => void) {
  let held: Buffer[] = [];
  let heldBytes = 0;
  /** Bytes the unfinished frame needs before it can be parsed further. */
  let need = 0;
  return function push(chunk: Buffer, at: number): void {
    let data = chunk;
    if (heldBytes > 0) {
      if (heldBytes + chunk.length < need) {
        held.push(Buffer.from(chunk));
        heldBytes += chunk.length;
        return;
      }
      data = Buffer.concat([...held, chunk]);
      held = [];
      heldBytes = 0;
    }
    let off = 0;
    for (;;) {
      const left = data.length - off;
      need = 2;
      if (left < need) break;
      const b0 = data[off]!;
      const b1 = data[off + 1]!;
      if (b1 & 0x80) throw new Error('lean-ws: a masked frame from the server');
      if (b0 & 0x70) throw new Error('lean-ws: RSV bits set (an extension) — not supported');
      let length = b1 & 0x7f;
      let header = 2;
      if (length === 126) {
        need = header = 4;
        if (left < need) break;
        length = data.readUInt16BE(off + 2);
      } else if (length === 127) {
        need = header = 10;
        if (left < need) break;
        length = Number(data.readBigUInt64BE(off + 2));
      }
      need = header + length;
      if (left < need) break;
      const opcode = b0 & 0x0f;
      if (!(b0 & 0x80) || opcode === OP_CONT) throw new Error('lean-ws: a fragmented message — not supported');
      onFrame(opcode, data.subarray(off + header, off + header + length), at);
      off += header + length;
    }
    if (off < data.length) {
      held = [Buffer.from(data.subarray(off))];
      heldBytes = data.length - off;
    }
  };
}

/** Connects and upgrades; resolves once the server answered 101 with the right accept key. */
export function connectLean(url: URL, handlers: LeanHandlers): Promise<LeanSocket> {
  const key = randomBytes(16).toString('base64');
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  let upgraded = false;
  let head: Buffer | null = null;
  let closed = false;
  let socket!: net.Socket;

  const lean: LeanSocket = {
    sendText: (text) => void socket.write(clientFrame(1, Buffer.from(text))),
    close() {
      if (closed || socket.destroyed) return;
      closed = true;
      socket.end(clientFrame(OP_CLOSE, Buffer.from([0x03, 0xe8]))); // 1000, normal closure
    },
    terminate: () => void socket.destroy(),
  };

  const parse = serverFrameParser((opcode, payload, at) => {
    if (opcode === OP_PING) {
      if (!closed) socket.write(clientFrame(OP_PONG, payload));
    } else if (opcode === OP_CLOSE) {
      if (!closed) socket.end(clientFrame(OP_CLOSE, payload.subarray(0, 2)));
      closed = true;
    } else if (opcode !== OP_PONG) handlers.frame(payload, at);
  });

  return new Promise((resolve, reject) => {
    const fail = (err: Error) => {
      if (!upgraded) reject(err);
      else handlers.error(err);
      socket.destroy();
    };
    socket = net.connect({
      host: url.hostname,
      port: Number(url.port),
      noDelay: true,
      onread: {
        buffer: readBuffer,
        callback(nread: number, buffer: Uint8Array): boolean {
          const at = performance.timeOrigin + performance.now();
          const chunk = (buffer as Buffer).subarray(0, nread);
          try {
            if (upgraded) {
              parse(chunk, at);
              return true;
            }
            head = head ? Buffer.concat([head, chunk]) : Buffer.from(chunk);
            const end = head.indexOf(HEADER_END);
            if (end === -1) return true;
            const response = head.subarray(0, end).toString('latin1');
            if (!response.startsWith('HTTP/1.1 101')) throw new Error(`lean-ws: upgrade refused: ${response.split('\r\n')[0]}`);
            if (!new RegExp(`^sec-websocket-accept: *${accept.replace(/[+/=]/g, '\\$&')}\\s*$`, 'im').test(response)) throw new Error('lean-ws: wrong Sec-WebSocket-Accept');
            if (/^sec-websocket-extensions:/im.test(response)) throw new Error('lean-ws: the server negotiated an extension');
            upgraded = true;
            const rest = head.subarray(end + HEADER_END.length);
            head = null;
            resolve(lean);
            if (rest.length > 0) parse(rest, at);
          } catch (err) {
            fail(err as Error);
          }
          return true; // false would pause the socket
        },
      },
    });
    socket.on('connect', () => {
      socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    socket.on('error', fail);
    socket.on('close', () => {
      if (!upgraded) reject(new Error('lean-ws: closed before the upgrade'));
      else handlers.close();
    });
  });
}
