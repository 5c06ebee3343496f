// Adapter for the `asterisk-manager` package (0.2.0, CommonJS, no types). Its quirks, read
// from node_modules/asterisk-manager/lib/ami.js, and what ami-client.ts does about them:
// - keepConnected() retries at 10 s, 20 s … 60 s and console.logs: ami-client runs its own
//   loop (exponential backoff capped at 30 s), one Manager instance per attempt.
// - Actions sent before login are silently held and replayed after the next login (a failed
//   socket write is queued the same way): ami-client never calls action() unless logged in,
//   so a click-to-call fails fast instead of dialling minutes later.
// - login() is the only way to mark the session authenticated; a Login sent via action()
//   leaves every later action held. login() has no timeout: ami-client's covers connect+login.
//   It sends `Event: on|off`, a header Asterisk ignores (it reads `Events`): harmless.
// - connect() has no timeout, and disconnect() on a socket still connecting only forgets it,
//   so it would connect later, orphaned: ami-client disconnects such a Manager on 'connect'.
// - An action's callback is a `once` listener on the ActionID as event name; it stays forever
//   if no response comes (ami-client removes it on timeout) and it also fires for an
//   OriginateResponse *event* with that ActionID, so responses are matched from 'response'.
// - Any message with Response + ActionID is emitted under the ActionID (see `spoofed`).
// - Header names arrive lowercased; `Variable: X` (no '=') becomes { X: '' }; a repeated
//   header becomes an array; in actions, arrays are joined with ',' and objects become one
//   `Key: name=value` line each; header names are re-cased (`ChannelId` → `Channelid`,
//   Asterisk matches them case-insensitively) and lines are sorted.
// - Its reader re-splits its whole buffer per chunk with Array#shift, runs two regexps per
//   header and forgets a half-read `Response: Follows` between chunks (legacy Command only). It
//   was 8–12% of the service's CPU at 50–100 calls/s (bench/screenpop, V8 CPU profile), and
//   more per call in the bursts that follow a busy moment (bigger chunks): createManager takes
//   the socket's 'data' away from it and reads with ami-frame.ts (linear, tested on the
//   transcripts), handing each message to the package in the shape its reader made.
// - 'error' with no listener would crash: the package adds a no-op one; never remove it.
// - setKeepAlive(true) keeps the OS default (2 h): ami-client's Ping finds a dead link.
import diagnostics from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { AmiFrameParser, type AmiMessage } from './ami-frame.js';

export type Raw = Record<string, unknown>;
export interface Manager {
  connect(port: number, host: string, cb: () => void): void;
  login(cb: (err?: unknown) => void): void;
  action(action: Record<string, unknown>, cb: (err: unknown, res?: Raw) => void): string;
  disconnect(): void;
  on(event: string, fn: (...args: never[]) => void): void;
  listeners(event: string): Array<(...args: unknown[]) => void>;
  removeAllListeners(event: string): void;
}
// CommonJS without types: a called factory, `new` optional.
const AsteriskManager = createRequire(import.meta.url)('asterisk-manager') as (
  port: number | undefined, host: string, username: string, secret: string, events: boolean,
) => Manager;

// The package emits every message carrying Response + ActionID under the ActionID as event
// name, as emit(actionId, undefined, message). Events reach every AMI session, so another
// client's OriginateResponse with ActionID `rawevent` would call the package's own parser
// with undefined and throw in a nextTick (process crash); `close`/`connect`/`managerevent`
// would fake a socket state change or an event. Genuine emits never pass undefined first.
export const spoofed = (args: unknown[]): boolean => args.length >= 2 && args[0] === undefined;

export function createManager(host: string, username: string, secret: string): Manager {
  // No port: the constructor would otherwise connect and log in by itself.
  const m = AsteriskManager(undefined, host, username, secret, true);
  const [parse] = m.listeners('rawevent');
  if (!parse) throw new Error('asterisk-manager: no rawevent parser to hand messages to');
  m.removeAllListeners('rawevent');
  m.on('rawevent', (...args: unknown[]) => {
    if (!spoofed(args) && args[0] && typeof args[0] === 'object') parse(args[0]);
  });
  const connect = m.connect.bind(m);
  m.connect = (port, connectHost, cb) => {
    const socket = socketCreatedBy(() => connect(port, connectHost, cb));
    // None when the package reused a socket it still had: its reader, already replaced, stays.
    if (!socket) return;
    // Only the package's reader listens to 'data' (errors, close and connect have their own).
    socket.removeAllListeners('data');
    const frames = new AmiFrameParser();
    socket.on('data', (chunk: string | Buffer) => {
      let messages: AmiMessage[];
      try {
        messages = frames.push(chunk);
      } catch (err) {
        socket.destroy(err as Error); // a line over 1 MiB: not an AMI peer; 'close' reconnects
        return;
      }
      for (const message of messages) parse(asPackageMessage(message));
    });
  };
  return m;
}

/** The socket that `connect` creates, seen through Node's `net.client.socket` diagnostics
 *  channel (public API): the package keeps its socket in a closure. Synchronous, so the one
 *  socket created during the call is the package's. */
function socketCreatedBy(connect: () => void): Socket | undefined {
  const channel = diagnostics.channel('net.client.socket');
  let socket: Socket | undefined;
  const seen = (message: unknown) => {
    socket ??= (message as { socket: Socket }).socket;
  };
  channel.subscribe(seen);
  try {
    connect();
  } finally {
    channel.unsubscribe(seen);
  }
  return socket;
}

/** A message as the package's reader made it: header names trimmed and lowercased. Where it made
 *  an array (a repeated header) or an object (`Variable`), events.ts keeps the last value or the
 *  variable's name, which is what ami-frame gives. Its `Response: Follows` form (legacy Command
 *  output) is not made: the service never sends Command. */
function asPackageMessage(message: AmiMessage): Raw {
  const item: Raw = {};
  for (const key in message) item[key.trim().toLowerCase()] = message[key];
  return item;
}
