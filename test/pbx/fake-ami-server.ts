// A fake Asterisk AMI server for tests: real protocol over TCP on 127.0.0.1 (ephemeral port),
// replaying the recorded transcripts of ../shared/ami-transcripts byte for byte.
// Behaviour copied from Asterisk's manager.c: action names and header names are matched
// case-insensitively (asterisk-manager sends `Action: login`, `Channelid:`); a failed Login
// answers `Authentication failed` and closes the session (Asterisk sleeps 1 s first:
// `authFailDelayMs`); any action but Login/Logoff before login gets `Authentication Required`.
import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { AmiFrameParser, parseAmi, serializeAmi, type AmiMessage } from '../../src/pbx/ami-frame.js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** `../shared/ami-transcripts` from the repo root, or AMI_TRANSCRIPTS_DIR. */
export function transcriptsDir(): string {
  return process.env['AMI_TRANSCRIPTS_DIR'] ?? resolve(REPO_ROOT, '../shared/ami-transcripts');
}

export interface ReceivedAction {
  /** As sent (`login`, `Originate`). */
  name: string;
  actionId: string | undefined;
  /** Headers as on the wire. */
  raw: AmiMessage;
  /** Header names lowercased, for lookups. */
  headers: Record<string, string>;
  connection: FakeConnection;
}

export interface ReplayOptions {
  /** 'fast': one write; 'recorded': the gaps of `<scenario>.times.tsv` (divided by `speed`). */
  timing?: 'fast' | 'recorded';
  speed?: number;
  /** The only change made to the bytes: `ActionID: <old>` lines become `ActionID: <new>`. */
  actionIds?: Readonly<Record<string, string>>;
  /**
   * Ids the client chose (Originate `ChannelId`/`OtherChannelId`, e.g. `crm-c2c-0005`) become
   * the ones it sent, wherever they occur: that is how the PBX would have written them.
   */
  channelIds?: Readonly<Record<string, string>>;
  /**
   * Runs after message `index` is written, before the next one; the replay waits for it. How a
   * test puts the PBX's own side effects (the dialplan's CURL) at the moment they happened.
   */
  afterMessage?: (index: number, chunk: Chunk) => void | Promise<void>;
}

export type ActionHandler = (action: ReceivedAction, conn: FakeConnection) => void | Promise<void>;

const lower = (m: AmiMessage): Record<string, string> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k.toLowerCase(), v]));

export class FakeConnection {
  authenticated = false;
  constructor(readonly socket: Socket, readonly id: number) {}

  write(data: string | Buffer): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((res) => this.socket.write(data, () => res()));
  }

  /** Writes `Response: <response>`, the action's ActionID (if it had one), then `fields`. */
  respond(action: ReceivedAction, response: string, fields: AmiMessage = {}): Promise<void> {
    const pairs: Array<[string, string]> = [['Response', response]];
    if (action.actionId !== undefined) pairs.push(['ActionID', action.actionId]);
    return this.write(serializeAmi([...pairs, ...Object.entries(fields)]));
  }
}

export class FakeAmiServer extends EventEmitter {
  readonly actions: ReceivedAction[] = [];
  /** Every byte received from clients, to assert that nothing reached the socket. */
  received = '';
  connectionsAccepted = 0;
  /** Date.now() of each accepted TCP connection (to observe a client's backoff). */
  readonly connectionTimes: number[] = [];
  refusing = false;
  authFailDelayMs = 0;
  private readonly handlers = new Map<string, ActionHandler>();
  private readonly connections = new Set<FakeConnection>();
  private nextId = 1;

  private constructor(
    private readonly server: Server,
    readonly username: string,
    public secret: string,
  ) {
    super();
  }

  /** `port`: listen where a closed fake listened, as a restarted Asterisk would (default: ephemeral). */
  static async start(opts: { username?: string; secret?: string; port?: number } = {}): Promise<FakeAmiServer> {
    const server = createServer();
    const fake = new FakeAmiServer(server, opts.username ?? 'crm', opts.secret ?? 'crmsecret');
    server.on('connection', (s) => fake.accept(s));
    server.listen(opts.port ?? 0, '127.0.0.1');
    await once(server, 'listening');
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Authenticated sessions now open. */
  get sessions(): FakeConnection[] {
    return [...this.connections].filter((c) => c.authenticated);
  }

  /** Handle an action by name (case-insensitive); replaces the default answer. */
  onAction(name: string, handler: ActionHandler): this {
    this.handlers.set(name.toLowerCase(), handler);
    return this;
  }

  /** Answer Originate with the recorded session of `scenario`: its recorded Response and events,
   *  with the recorded Originate ActionID rewritten to the client's. */
  replyToOriginateWith(scenario: string, opts: Omit<ReplayOptions, 'actionIds'> = {}): this {
    const sent = parseAmi(readFileSync(resolve(transcriptsDir(), `${scenario}.sent.ami`))).messages;
    const recorded = sent.find((m) => m['Action']?.toLowerCase() === 'originate')?.['ActionID'];
    return this.onAction('Originate', (action) =>
      this.replay(scenario, {
        ...opts,
        actionIds: recorded && action.actionId ? { [recorded]: action.actionId } : {},
      }),
    );
  }

  /** Write the events of `<scenario>.ami` to every logged-in session. */
  async replay(scenario: string, opts: ReplayOptions = {}): Promise<void> {
    let chunks = scenarioChunks(scenario, opts.actionIds ?? {});
    const channelIds = Object.entries(opts.channelIds ?? {});
    if (channelIds.length > 0) {
      chunks = chunks.map((c) => ({ ...c, bytes: Buffer.from(channelIds.reduce((text, [from, to]) => text.replaceAll(from, to), c.bytes.toString('latin1')), 'latin1') }));
    }
    const recorded = (opts.timing ?? 'fast') === 'recorded';
    if (!recorded && !opts.afterMessage) {
      await this.broadcast(Buffer.concat(chunks.map((c) => c.bytes)));
      return;
    }
    const speed = opts.speed ?? 1;
    // Sleeps are measured from the replay's start, so time spent in writes and hooks does not
    // add up over a 20 s transcript.
    const startedAt = performance.now();
    const first = chunks[0]?.atMs ?? 0;
    for (const [index, chunk] of chunks.entries()) {
      const wait = recorded ? startedAt + (chunk.atMs - first) / speed - performance.now() : 0;
      if (wait > 0) await sleep(wait);
      await this.broadcast(chunk.bytes);
      await opts.afterMessage?.(index, chunk);
    }
  }

  broadcast(data: string | Buffer): Promise<void> {
    return Promise.all(this.sessions.map((c) => c.write(data))).then(() => undefined);
  }

  /** Resolves with the next action named `name` (or one already received since `fromIndex`). */
  async waitForAction(name: string, timeoutMs = 2_000, fromIndex = 0): Promise<ReceivedAction> {
    const match = (a: ReceivedAction): boolean => a.name.toLowerCase() === name.toLowerCase();
    const seen = this.actions.slice(fromIndex).find(match);
    if (seen) return seen;
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    try {
      for (;;) {
        const [a] = (await once(this, 'action', { signal: ac.signal })) as [ReceivedAction];
        if (match(a)) return a;
      }
    } catch {
      throw new Error(`fake AMI: no ${name} action within ${timeoutMs} ms`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Cut every connection at once, as a PBX restart or a network failure would. */
  dropConnections(): void {
    for (const c of this.connections) c.socket.destroy();
    this.connections.clear();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((res) => this.server.close(() => res()));
  }

  private accept(socket: Socket): void {
    this.connectionsAccepted++;
    this.connectionTimes.push(Date.now());
    if (this.refusing) {
      socket.destroy();
      return;
    }
    const conn = new FakeConnection(socket, this.nextId++);
    this.connections.add(conn);
    const parser = new AmiFrameParser();
    socket.on('error', () => undefined); // a client reset is not a test failure
    socket.on('close', () => this.connections.delete(conn));
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('utf8');
      for (const raw of parser.push(chunk)) void this.handle(conn, raw);
    });
    socket.write('Asterisk Call Manager/11.0.0\r\n');
  }

  private async handle(conn: FakeConnection, raw: AmiMessage): Promise<void> {
    const headers = lower(raw);
    const action: ReceivedAction = {
      name: headers['action'] ?? '', actionId: headers['actionid'], raw, headers, connection: conn,
    };
    this.actions.push(action);
    this.emit('action', action);
    const name = action.name.toLowerCase();
    if (name === 'login') return this.login(conn, action);
    if (name === 'logoff') {
      await conn.respond(action, 'Goodbye', { Message: 'Thanks for all the fish.' });
      conn.socket.end();
      return;
    }
    if (!conn.authenticated) {
      await conn.respond(action, 'Error', { Message: 'Authentication Required' });
      return;
    }
    const handler = this.handlers.get(name);
    if (handler) return handler(action, conn);
    if (name === 'ping') {
      await conn.respond(action, 'Success', { Ping: 'Pong', Timestamp: (Date.now() / 1000).toFixed(6) });
      return;
    }
    await conn.respond(action, 'Error', { Message: 'Invalid/unknown command' });
  }

  private async login(conn: FakeConnection, action: ReceivedAction): Promise<void> {
    if (action.headers['username'] !== this.username || action.headers['secret'] !== this.secret) {
      if (this.authFailDelayMs) await sleep(this.authFailDelayMs);
      await conn.respond(action, 'Error', { Message: 'Authentication failed' });
      conn.socket.end();
      return;
    }
    conn.authenticated = true;
    await conn.respond(action, 'Success', { Message: 'Authentication accepted' });
    await conn.write(serializeAmi({
      Event: 'FullyBooted', Privilege: 'system,all', Uptime: '18', LastReload: '18', Status: 'Fully Booted',
    }));
  }
}

export interface Chunk { bytes: Buffer; atMs: number }

/**
 * The bytes of `<scenario>.ami` between the login response and the final Goodbye, one chunk per
 * message, each with its receive time from `<scenario>.times.tsv` (rows of kind Response/Event
 * are the received messages, in file order; `Sent` rows are the recorder's own actions).
 */
export function scenarioChunks(scenario: string, actionIds: Readonly<Record<string, string>> = {}): Chunk[] {
  const dir = transcriptsDir();
  // latin1 maps bytes 1:1 to chars, so slicing and rewriting keep every other byte intact.
  const text = readFileSync(resolve(dir, `${scenario}.ami`)).toString('latin1');
  const times = readFileSync(resolve(dir, `${scenario}.times.tsv`), 'utf8')
    .split('\n').slice(1).filter(Boolean).map((l) => l.split('\t'))
    .filter((cols) => cols[1] !== 'Sent').map((cols) => Number(cols[0]));
  const bannerEnd = text.indexOf('\r\n') + 2;
  const messages: string[] = [];
  for (let start = bannerEnd; start < text.length;) {
    const end = text.indexOf('\r\n\r\n', start);
    const stop = end === -1 ? text.length : end + 4;
    messages.push(text.slice(start, stop));
    start = stop;
  }
  if (times.length !== messages.length) {
    throw new Error(`${scenario}: ${messages.length} messages but ${times.length} receive times`);
  }
  let first = 0;
  let last = messages.length;
  if (messages[0]?.includes('Message: Authentication accepted\r\n')) first = 1;
  if (messages.at(-1)?.startsWith('Response: Goodbye\r\n')) last -= 1;
  const out: Chunk[] = [];
  for (let i = first; i < last; i++) {
    let m = messages[i]!;
    for (const [from, to] of Object.entries(actionIds)) {
      m = m.replace(`\r\nActionID: ${from}\r\n`, `\r\nActionID: ${to}\r\n`);
    }
    out.push({ bytes: Buffer.from(m, 'latin1'), atMs: times[i]! });
  }
  return out;
}
