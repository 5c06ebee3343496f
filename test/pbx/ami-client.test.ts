import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AmiError, originate } from '../../src/pbx/actions.js';
import { createAmiClient, createAmiFromConfig, createDisabledAmi, type AmiClient, type AmiClientConfig, type AmiStatus } from '../../src/pbx/ami-client.js';
import { toAmiEvent, type AmiEvent } from '../../src/pbx/events.js';
import { FakeAmiServer, scenarioChunks } from './fake-ami-server.js';
import { settledBeforeNextTick, trackTimers, waitFor, waitForStatus } from './wait.js';

let server: FakeAmiServer;
let client: AmiClient | undefined;
let logLines: Array<Record<string, unknown>>;

function makeClient(overrides: Partial<AmiClientConfig> = {}): AmiClient {
  logLines = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) { logLines.push(JSON.parse(chunk.toString())); cb(); },
  });
  client = createAmiClient({
    host: '127.0.0.1', port: server.port, username: 'crm', secret: 'crmsecret',
    backoffInitialMs: 20, backoffMaxMs: 200, connectTimeoutMs: 1_000, pingIntervalMs: 0,
    ...overrides,
  }, pino({ level: 'debug' }, sink));
  return client;
}

async function connected(overrides: Partial<AmiClientConfig> = {}): Promise<AmiClient> {
  const c = makeClient(overrides);
  c.start();
  await waitForStatus(c, 'connected');
  return c;
}

beforeEach(async () => {
  server = await FakeAmiServer.start();
});

afterEach(async () => {
  await client?.stop();
  client = undefined;
  await server.close();
});

describe('AMI client against the fake server', () => {
  it('connects and logs in with the configured credentials', async () => {
    const c = makeClient();
    const seen: AmiStatus[] = [];
    c.onStatusChange((s) => seen.push(s));
    c.start();
    await waitForStatus(c, 'connected');
    expect(seen).toEqual(['connecting', 'connected']);
    const login = await server.waitForAction('Login');
    expect(login.headers).toMatchObject({ username: 'crm', secret: 'crmsecret' });
    expect(server.sessions).toHaveLength(1);
  });

  it('delivers the replayed a_inbound_answered events in order, typed, with our ActionID', async () => {
    const c = await connected();
    await c.action('Ping'); // the login's own FullyBooted is delivered before this answer
    const got: AmiEvent[] = [];
    c.onEvent((e) => got.push(e));
    server.replyToOriginateWith('a_inbound_answered');
    const { actionId, response } = await originate(c, {
      channel: 'Local/74951110001@from-pstn', application: 'Wait', data: '3', callerId: '79161234567',
    });
    expect(response).toMatchObject({ response: 'Success', actionId, message: 'Originate successfully queued' });
    // Expected: the same bytes parsed by ami-frame, converted by the same function.
    const { parseAmi } = await import('../../src/pbx/ami-frame.js');
    const expected = scenarioChunks('a_inbound_answered', { 'a_inbound_answered-1': actionId })
      .flatMap((ch) => parseAmi(ch.bytes).messages).map(toAmiEvent).filter((e) => e !== null);
    await waitFor(() => got.length >= expected.length, `${expected.length} events`);
    expect(got).toEqual(expected);
    const or = got.find((e) => e.event === 'OriginateResponse');
    expect(or).toMatchObject({ actionId, response: 'Success', reason: 4 });
    expect(got.filter((e) => e.event === 'Cdr')).toHaveLength(3);
  });

  it('sends Originate headers Asterisk understands, one Variable line per variable', async () => {
    const c = await connected();
    server.onAction('Originate', (a, conn) => conn.respond(a, 'Success', { Message: 'Originate successfully queued' }));
    await originate(c, {
      channel: 'PJSIP/101', context: 'click-to-call', exten: '79161234567', callerId: '79161234567',
      timeoutMs: 8000, channelId: 'sb-c2c-1', otherChannelId: 'sb-c2c-1-2', variables: { CRM_CALL_ID: 'c2c-1', CLIENT: '42' },
    });
    const a = await server.waitForAction('Originate');
    // asterisk-manager rewrites header names (`Channelid`); Asterisk matches them case-insensitively.
    expect(a.headers).toMatchObject({
      channel: 'PJSIP/101', context: 'click-to-call', exten: '79161234567', priority: '1', callerid: '79161234567',
      timeout: '8000', async: 'true', channelid: 'sb-c2c-1', otherchannelid: 'sb-c2c-1-2',
    });
    expect(server.received).toContain('Variable: CRM_CALL_ID=c2c-1\r\n');
    expect(server.received).toContain('Variable: CLIENT=42\r\n');
  });

  it('resolves with the Response even when the OriginateResponse event overtakes it', async () => {
    const c = await connected();
    await c.action('Ping');
    const events: AmiEvent[] = [];
    c.onEvent((e) => events.push(e));
    server.onAction('Originate', async (a, conn) => {
      await conn.write(`Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: ${a.actionId}\r\n` +
        'Response: Failure\r\nChannel: PJSIP/101\r\nReason: 8\r\nUniqueid: <unknown>\r\n\r\n');
      await conn.respond(a, 'Success', { Message: 'Originate successfully queued' });
    });
    const { actionId, response } = await originate(c, { channel: 'PJSIP/101', context: 'c', exten: '1' });
    expect(response.message).toBe('Originate successfully queued');
    expect(events).toEqual([expect.objectContaining({ event: 'OriginateResponse', actionId, reason: 8 })]);
  });

  it('reconnects after dropConnections, with growing delays capped by backoffMaxMs', async () => {
    const c = await connected({ backoffInitialMs: 20, backoffMaxMs: 160 });
    server.refusing = true;
    const before = server.connectionsAccepted;
    server.dropConnections();
    await waitForStatus(c, 'down');
    await waitFor(() => server.connectionsAccepted >= before + 5, '5 reconnect attempts', 5_000);
    // The delays the client chose (logged), not wall-clock gaps: stable on a loaded machine.
    const scheduled = logLines.filter((l) => l['msg'] === 'AMI down; reconnect scheduled');
    expect(scheduled[0]).toMatchObject({ level: 50, component: 'ami', attempt: 1, reason: 'connection closed' });
    const delays = scheduled.map((l) => l['delayMs'] as number);
    // 20, 40, 80, 160, 160 … nominal, each minus up to 20 % jitter.
    const nominal = [20, 40, 80, 160, 160];
    nominal.forEach((n, i) => {
      expect(delays[i]).toBeGreaterThanOrEqual(Math.floor(n * 0.8));
      expect(delays[i]).toBeLessThanOrEqual(n);
    });
    // And the attempts really waited that long (timers never fire early; 2 ms clock slack).
    const t = server.connectionTimes.slice(before);
    for (let i = 1; i < 4; i++) expect(t[i]! - t[i - 1]!).toBeGreaterThanOrEqual(delays[i]! - 2);
    server.refusing = false;
    await waitForStatus(c, 'connected', 2_000);
    expect(server.sessions).toHaveLength(1);
  });

  it('rejects an action that gets no response after timeoutMs, and stays connected', async () => {
    const c = await connected();
    server.onAction('Slow', () => {});
    const t0 = Date.now();
    const err = await c.action('Slow', {}, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AmiError);
    expect(err).toMatchObject({ reason: 'timeout', code: 'PBX_UNAVAILABLE', statusCode: 503 });
    expect(Date.now() - t0).toBeLessThan(500);
    expect(c.status()).toBe('connected');
    await expect(c.action('Ping')).resolves.toMatchObject({ response: 'Success' });
  });

  it('rejects CR/LF/NUL and unsafe variables before anything is written', async () => {
    const c = await connected();
    const attempts = [
      c.action('Originate', { Channel: 'PJSIP/101\r\nAction: Hangup', Context: 'x' }),
      c.action('Originate', { 'Chan\nnel': 'PJSIP/101' }),
      c.action('Originate', { Channel: 'PJSIP/101\0' }),
      c.action('Originate\r\n', {}),
      c.action('Ping', {}, { actionId: 'a\r\nb' }),
      originate(c, { channel: 'PJSIP/101', context: 'c', exten: '1', variables: { NOTE: 'a,b' } }),
      originate(c, { channel: 'PJSIP/101', context: 'c', exten: '1', variables: { 'A=B': 'x' } }),
      originate(c, { channel: 'PJSIP/101', context: 'c', exten: '1', callerId: 'x'.repeat(2000) }),
    ];
    for (const p of attempts) await expect(p).rejects.toMatchObject({ reason: 'invalid', code: 'VALIDATION' });
    // TCP keeps order: once the Ping's answer is back, anything written before it has arrived.
    await c.action('Ping');
    expect(server.actions.map((a) => a.name.toLowerCase())).toEqual(['login', 'ping']);
    expect(server.received).not.toContain('PJSIP/101');
  });

  it('fails at once while down, and rejects pending actions when the link drops', async () => {
    const idle = makeClient();
    const early = idle.action('Ping');
    // Settled before any I/O or timer could run: nothing was queued.
    expect(await settledBeforeNextTick(early)).toBe('rejected');
    await expect(early).rejects.toMatchObject({ reason: 'down', statusCode: 503 });
    idle.start();
    await waitForStatus(idle, 'connected');
    server.onAction('Slow', () => {});
    const pending = idle.action('Slow', {}, { timeoutMs: 5_000 });
    await server.waitForAction('Slow');
    server.refusing = true;
    server.dropConnections();
    await expect(pending).rejects.toMatchObject({ reason: 'down' });
    await expect(idle.action('Ping')).rejects.toMatchObject({ reason: 'down' });
  });

  it('with a wrong secret never reports connected and keeps retrying', async () => {
    server.secret = 'something-else';
    const c = makeClient();
    const seen: AmiStatus[] = [];
    c.onStatusChange((s) => seen.push(s));
    c.start();
    await waitFor(() => server.actions.filter((a) => a.name.toLowerCase() === 'login').length >= 3, '3 logins');
    expect(seen).not.toContain('connected');
    expect(c.status()).not.toBe('connected');
    expect(logLines.some((l) => l['reason'] === 'login rejected' && l['error'] === 'Authentication failed')).toBe(true);
  });

  it('detects a silent PBX with Ping and reconnects', async () => {
    const c = await connected({ pingIntervalMs: 30 });
    server.onAction('Ping', () => {}); // connection open, nobody answering
    await waitForStatus(c, 'down', 1_000);
    expect(logLines.some((l) => l['reason'] === 'ping failed')).toBe(true);
    await waitForStatus(c, 'connected', 1_000);
  });

  it('maps Response: Error to a rejected AmiError with the message', async () => {
    const c = await connected();
    await expect(c.action('Bogus')).rejects.toMatchObject({
      reason: 'rejected', message: 'AMI Bogus failed: Invalid/unknown command',
      response: { response: 'Error', message: 'Invalid/unknown command' },
    });
  });

  it('reads an event whose bytes arrive one at a time, split inside CRLF and inside UTF-8', async () => {
    const c = await connected();
    const got: AmiEvent[] = [];
    c.onEvent((e) => got.push(e));
    const bytes = Buffer.from(
      'Event: Newchannel\r\nPrivilege: call,all\r\nChannel: PJSIP/trunk-00000001\r\nChannelState: 4\r\n' +
        'ChannelStateDesc: Ring\r\nCallerIDNum: 79161234567\r\nCallerIDName: Пётр Иванов\r\nConnectedLineNum: <unknown>\r\n' +
        'ConnectedLineName: <unknown>\r\nLanguage: ru\r\nAccountCode: \r\nContext: from-pstn\r\nExten: 74951110001\r\nPriority: 1\r\n' +
        'Uniqueid: pbx-1700000000.1\r\nLinkedid: pbx-1700000000.1\r\n\r\n',
    );
    const [session] = server.sessions;
    session!.socket.setNoDelay(true); // else Nagle holds each 1-byte write for the last one's ACK
    for (const byte of bytes) await session!.write(Buffer.from([byte]));
    await waitFor(() => got.some((e) => e.event === 'Newchannel'), 'the Newchannel');
    expect(got.filter((e) => e.event === 'Newchannel')).toHaveLength(1);
    expect(got.find((e) => e.event === 'Newchannel')).toMatchObject({ event: 'Newchannel', callerIdName: 'Пётр Иванов', callerIdNum: '79161234567', linkedid: 'pbx-1700000000.1' });
  });

  it('drops and reopens a session whose peer sends a line longer than 1 MiB, instead of buffering it', async () => {
    const c = await connected();
    const before = server.connectionsAccepted;
    const [session] = server.sessions;
    await session!.write(Buffer.alloc((1 << 20) + 1024, 'x'));
    await waitFor(() => server.connectionsAccepted > before, 'a new connection', 5_000);
    await waitForStatus(c, 'connected', 2_000);
    expect(logLines.some((l) => l['msg'] === 'AMI down; reconnect scheduled' && String(l['error']).includes('longer than'))).toBe(true);
  });

  it('survives a throwing event handler', async () => {
    const c = await connected();
    const got: string[] = [];
    c.onEvent(() => { throw new Error('boom'); });
    c.onEvent((e) => got.push(e.event));
    await server.replay('f2_click_to_call_manager_busy');
    await waitFor(() => got.includes('OriginateResponse'), 'OriginateResponse');
    expect(c.status()).toBe('connected');
  });

  it('stop() logs off, closes, leaves no timers and no reconnects', async () => {
    const timers = trackTimers(); // every setTimeout from here on that has not fired or been cleared
    try {
      const c = await connected({ pingIntervalMs: 1_000 });
      expect(timers.live()).toBe(1); // the heartbeat
      await c.stop();
      expect(c.status()).toBe('down');
      expect(server.actions.at(-1)?.name.toLowerCase()).toBe('logoff');
      expect(timers.live()).toBe(0);
      // Stopping during backoff cancels the pending reconnect.
      server.refusing = true;
      const d = makeClient({ backoffInitialMs: 50 });
      d.start();
      await waitFor(() => d.status() === 'down', 'first failure');
      expect(timers.live()).toBe(1); // the reconnect
      const accepted = server.connectionsAccepted;
      await d.stop();
      expect(timers.live()).toBe(0);
      await new Promise((r) => setTimeout(r, 120));
      expect(server.connectionsAccepted).toBe(accepted);
    } finally {
      timers.restore();
    }
  });

  it('survives a refused port (ECONNREFUSED) and keeps retrying', async () => {
    const gone = await FakeAmiServer.start();
    const port = gone.port;
    await gone.close();
    const c = makeClient({ port });
    c.start();
    await waitFor(() => logLines.filter((l) => l['msg'] === 'AMI down; reconnect scheduled').length >= 3, '3 failures');
    expect(c.status()).not.toBe('connected');
    expect(logLines.find((l) => l['msg'] === 'AMI down; reconnect scheduled')?.['error']).toMatch(/ECONNREFUSED/);
  });

  it("replays with the recorded gaps (timing: 'recorded', sped up)", async () => {
    const c = await connected();
    await c.action('Ping');
    const got: Array<{ event: string; at: number }> = [];
    c.onEvent((e) => got.push({ event: e.event, at: Date.now() }));
    const chunks = scenarioChunks('f2_click_to_call_manager_busy');
    const spanMs = chunks.at(-1)!.atMs - chunks[0]!.atMs;
    const speed = spanMs / 150; // the whole call in ~150 ms
    const t0 = Date.now();
    await server.replay('f2_click_to_call_manager_busy', { timing: 'recorded', speed });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(120);
    await waitFor(() => got.some((e) => e.event === 'Hangup' && e.at), 'Hangup');
    const names = got.map((e) => e.event);
    expect(names.indexOf('DialBegin')).toBeLessThan(names.indexOf('OriginateResponse'));
  });

  // Events go to every AMI session, and asterisk-manager emits any message with Response +
  // ActionID under the ActionID as event name: another client's OriginateResponse with
  // ActionID `rawevent`, `managerevent` or `close` would crash or disconnect us.
  it('ignores foreign OriginateResponse events whose ActionID is an emitter event name', async () => {
    const c = await connected();
    await c.action('Ping');
    const got: AmiEvent[] = [];
    c.onEvent((e) => got.push(e));
    const foreign = (id: string): string =>
      `Event: OriginateResponse\r\nPrivilege: call,all\r\nActionID: ${id}\r\nResponse: Failure\r\n` +
      `Channel: PJSIP/9\r\nReason: 0\r\nUniqueid: <unknown>\r\n\r\n`;
    for (const id of ['rawevent', 'managerevent', 'close', 'connect', 'error', 'end', 'response']) {
      await server.broadcast(foreign(id));
    }
    await c.action('Ping');
    expect(c.status()).toBe('connected');
    expect(got.map((e) => e.event === 'OriginateResponse' && e.actionId)).toEqual(
      ['rawevent', 'managerevent', 'close', 'connect', 'error', 'end', 'response']);
  });

  it('createDisabledAmi / empty AMI_HOST: status disabled, actions fail with 503', async () => {
    const d = createDisabledAmi();
    d.start();
    expect(d.status()).toBe('disabled');
    await expect(d.action('Ping')).rejects.toMatchObject({ reason: 'down', code: 'PBX_UNAVAILABLE' });
    await d.stop();
    const fromConfig = createAmiFromConfig({ AMI_HOST: '', AMI_PORT: 5038, AMI_USERNAME: 'x', AMI_SECRET: '' }, pino({ level: 'silent' }));
    expect(fromConfig.status()).toBe('disabled');
  });
});
