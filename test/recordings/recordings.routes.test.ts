import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog } from '../../src/audit/audit.table.js';
import { recordings } from '../../src/calls/calls.table.js';
import { clients } from '../../src/clients/clients.table.js';
import {
  addCall,
  addClient,
  addDepartment,
  addUser,
  bearer,
  createRecordingsApp,
  pbxHeaders,
  wavFile,
  type RecordingsTestApp,
} from './helpers.js';

const filesIn = async (dir: string) => readdir(dir).catch(() => [] as string[]);

describe('PUT /pbx/recordings/:uniqueid', () => {
  let t: RecordingsTestApp;
  beforeAll(async () => {
    t = await createRecordingsApp({ RECORDINGS_MAX_BYTES: '2048' });
  });
  afterAll(async () => t?.close());

  const put = (uniqueid: string, payload: Buffer | Readable | string, headers: Record<string, string> = pbxHeaders()) =>
    t.app.inject({ method: 'PUT', url: `/pbx/recordings/${uniqueid}`, headers, payload });

  it('refuses a missing token with 401 and a wrong one with 403', async () => {
    expect((await put('1.1', wavFile(10), { 'content-type': 'audio/wav' })).statusCode).toBe(401);
    expect((await put('1.1', wavFile(10), { 'content-type': 'audio/wav', 'x-switchboard-token': 'wrong-token-wrong-token' })).statusCode).toBe(403);
    expect(await filesIn(path.join(t.dataDir, 'recordings'))).toEqual([]);
  });

  it.each([
    ['application/json', '{"a":1}'],
    ['text/plain', 'hello'],
    ['image/png', 'PNG'],
    ['application/x-www-form-urlencoded', 'a=b'],
    ['audio/flac', 'fLaC'],
    ['application/octet-stream', '<html><body>not audio</body></html>'],
  ])('refuses %s with 415', async (type, body) => {
    const res = await put('1.2', body, pbxHeaders(type));
    expect(res.statusCode).toBe(415);
    expect(res.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses a body without a content type with 415', async () => {
    const res = await t.app.inject({ method: 'PUT', url: '/pbx/recordings/1.3', headers: { 'x-switchboard-token': pbxHeaders()['x-switchboard-token'] }, payload: wavFile(10) });
    expect(res.statusCode).toBe(415);
  });

  it('refuses an upload declared larger than RECORDINGS_MAX_BYTES with 413 before reading it', async () => {
    const res = await put('2.1', wavFile(4000));
    expect(res.statusCode).toBe(413);
    expect(res.json().code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('stops a streamed (chunked) upload at the limit with 413 and leaves no partial file', async () => {
    const body = Readable.from(Array.from({ length: 10 }, (_, i) => (i === 0 ? wavFile(256) : Buffer.alloc(300, i))));
    const res = await put('2.2', body);
    expect(res.statusCode).toBe(413);
    expect(await filesIn(path.join(t.dataDir, 'recordings'))).toEqual([]);
    expect(await t.database.db.select().from(recordings).where(eq(recordings.uniqueid, '2.2'))).toEqual([]);
  });

  it.each(['..%2F..%2Fetc%2Fpasswd', '..%5C..%5Cwin.ini', '.hidden', 'a%2Fb', 'a%5Cb', '%2Fetc%2Fpasswd', 'a%00.wav', 'a..b'])(
    'refuses the uniqueid %s with 400',
    async (uniqueid) => {
      const res = await put(uniqueid, wavFile(10));
      expect(res.statusCode).toBe(400);
      expect(await filesIn(path.join(t.dataDir, 'recordings'))).toEqual([]);
    },
  );

  it('never reaches storage with a path that leaves the route or an over-long id', async () => {
    expect((await put('..', wavFile(10))).statusCode).toBe(404); // the URL normalises to /pbx/
    expect((await put('%2E%2E', wavFile(10))).statusCode).toBe(404); // so does its encoded form
    expect((await put('x'.repeat(129), wavFile(10))).statusCode).toBe(400); // the schema's 128, not the router's limit
    expect(await filesIn(path.join(t.dataDir, 'recordings'))).toEqual([]);
  });

  it('refuses an empty body with 400', async () => {
    expect((await put('3.1', Buffer.alloc(0))).statusCode).toBe(400);
  });

  it('stores a WAV, answers 201 with the size, and a retry replaces it', async () => {
    const first = wavFile(1000);
    const res = await put('systemname-1795348783.3', first);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ uniqueid: 'systemname-1795348783.3', size: first.length, contentType: 'audio/wav' });

    const second = wavFile(1500);
    expect((await put('systemname-1795348783.3', second)).json().size).toBe(second.length);
    const rows = await t.database.db.select().from(recordings).where(eq(recordings.uniqueid, 'systemname-1795348783.3'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ systemName: 'default', storageKey: 'systemname-1795348783.3.wav', sizeBytes: second.length });
    expect(await filesIn(path.join(t.dataDir, 'recordings'))).toEqual(['systemname-1795348783.3.wav']);
  });

  it('accepts the token in the query and application/octet-stream recognised by its content', async () => {
    const res = await t.app.inject({
      method: 'PUT',
      url: `/pbx/recordings/4.1?token=${pbxHeaders()['x-switchboard-token']}`,
      headers: { 'content-type': 'application/octet-stream' },
      payload: wavFile(100),
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().contentType).toBe('audio/wav');
  });

  it('replaces a file whose format changed and removes the old one', async () => {
    await put('5.1', wavFile(100));
    const mp3 = Buffer.concat([Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x00', 'latin1'), Buffer.alloc(200, 0x55)]);
    expect((await put('5.1', mp3, pbxHeaders('audio/mpeg'))).statusCode).toBe(201);
    const files = await filesIn(path.join(t.dataDir, 'recordings'));
    expect(files).toContain('5.1.mp3');
    expect(files).not.toContain('5.1.wav');
  });
});

describe('GET /api/calls/:id/recording', () => {
  let t: RecordingsTestApp;
  let director: { id: number; token: string };
  const audio = wavFile(2000);
  let call: { id: number; linkedid: string };

  beforeAll(async () => {
    t = await createRecordingsApp();
    director = await addUser(t, { role: 'director' });
    call = await addCall(t);
    const res = await t.app.inject({ method: 'PUT', url: `/pbx/recordings/${call.linkedid}`, headers: pbxHeaders(), payload: audio });
    expect(res.statusCode).toBe(201);
  });
  afterAll(async () => t?.close());

  const get = (ref: string | number, headers: Record<string, string> = {}, token = director.token) =>
    t.app.inject({ method: 'GET', url: `/api/calls/${ref}/recording`, headers: { ...bearer(token), ...headers } });

  it('streams the whole file with the headers a browser needs', async () => {
    const res = await get(call.id);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(audio)).toBe(true);
    expect(res.headers['content-type']).toBe('audio/wav');
    expect(res.headers['content-length']).toBe(String(audio.length));
    expect(res.headers['accept-ranges']).toBe('bytes');
    expect(res.headers['cache-control']).toBe('private, no-store');
    expect(res.headers['content-range']).toBeUndefined();
  });

  it('takes uploads beyond the app-wide 1 MiB bodyLimit (the body is streamed, not parsed)', async () => {
    const big = wavFile(3 * 1024 * 1024);
    const bigCall = await addCall(t);
    const put = await t.app.inject({ method: 'PUT', url: `/pbx/recordings/${bigCall.linkedid}`, headers: pbxHeaders(), payload: big });
    expect(put.statusCode).toBe(201);
    expect((await get(bigCall.id)).rawPayload.equals(big)).toBe(true);
  });

  it('finds the call by its Linkedid too', async () => {
    const res = await get(call.linkedid);
    expect(res.statusCode).toBe(200);
    expect(res.rawPayload.equals(audio)).toBe(true);
  });

  it.each([
    ['bytes=0-99', 0, 99],
    ['bytes=-100', audio.length - 100, audio.length - 1],
    ['bytes=100-', 100, audio.length - 1],
    ['bytes=44-44', 44, 44],
  ])('%s → 206 with exactly those bytes', async (range, start, end) => {
    const res = await get(call.id, { range });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-range']).toBe(`bytes ${start}-${end}/${audio.length}`);
    expect(res.headers['content-length']).toBe(String(end - start + 1));
    expect(res.rawPayload.equals(audio.subarray(start, end + 1))).toBe(true);
  });

  it('answers an unsatisfiable range with 416 and the size', async () => {
    const res = await get(call.id, { range: `bytes=${audio.length}-` });
    expect(res.statusCode).toBe(416);
    expect(res.headers['content-range']).toBe(`bytes */${audio.length}`);
    expect(res.json().code).toBe('RANGE_NOT_SATISFIABLE');
  });

  it('sends the whole file for several ranges or an If-Range it cannot match', async () => {
    expect((await get(call.id, { range: 'bytes=0-1,5-6' })).statusCode).toBe(200);
    expect((await get(call.id, { range: 'bytes=0-1', 'if-range': '"abc"' })).statusCode).toBe(200);
  });

  it('answers HEAD with the headers and no body, and writes no history for it', async () => {
    const before = await t.database.db.select().from(auditLog).where(eq(auditLog.action, 'recording.listen'));
    const res = await t.app.inject({ method: 'HEAD', url: `/api/calls/${call.id}/recording`, headers: { ...bearer(director.token), range: 'bytes=0-9' } });
    expect(res.statusCode).toBe(206);
    expect(res.headers['content-length']).toBe('10');
    expect(res.headers['content-range']).toBe(`bytes 0-9/${audio.length}`);
    expect(res.rawPayload.length).toBe(0);
    const after = await t.database.db.select().from(auditLog).where(eq(auditLog.action, 'recording.listen'));
    expect(after.length).toBe(before.length);
  });

  it('takes the token from ?token= for <audio src>, and refuses without one', async () => {
    const ok = await t.app.inject({ method: 'GET', url: `/api/calls/${call.id}/recording?token=${director.token}`, headers: { range: 'bytes=0-' } });
    expect(ok.statusCode).toBe(206);
    expect((await t.app.inject({ method: 'GET', url: `/api/calls/${call.id}/recording` })).statusCode).toBe(401);
  });

  it('writes one audit row per listen, with actor, call, client and range', async () => {
    const owner = await addUser(t, { role: 'manager' });
    const clientId = await addClient(t, owner.id);
    const audited = await addCall(t, { clientId, ownerId: owner.id });
    await t.app.inject({ method: 'PUT', url: `/pbx/recordings/${audited.linkedid}`, headers: pbxHeaders(), payload: wavFile(300) });
    await get(audited.id, {}, owner.token);
    await get(audited.id, { range: 'bytes=100-' }, owner.token);
    const rows = await t.database.db.select().from(auditLog).where(eq(auditLog.entityId, String(audited.id)));
    expect(rows).toHaveLength(2);
    expect(rows.map((r) => r.details?.range)).toEqual([null, 'bytes=100-']);
    for (const row of rows) {
      expect(row).toMatchObject({ action: 'recording.listen', entity: 'call', actorId: owner.id });
      expect(row.details).toMatchObject({ clientId, uniqueid: audited.linkedid });
    }
  });

  it('answers 404 for an unknown call, a call without a recording, and a garbage id', async () => {
    expect((await get(999999)).statusCode).toBe(404);
    expect((await get('99999999999999999999999')).statusCode).toBe(404);
    expect((await get('1.99999')).statusCode).toBe(404);
    const silent = await addCall(t, { recordingUniqueid: null });
    const res = await get(silent.id);
    expect(res.statusCode).toBe(404);
    expect(res.json().message).toMatch(/no recording/);
  });
});

describe('who may listen', () => {
  let t: RecordingsTestApp;
  const users: Record<string, { id: number; token: string }> = {};
  const calls: Record<string, number> = {};

  beforeAll(async () => {
    t = await createRecordingsApp();
    const sales = await addDepartment(t, 'Sales');
    const support = await addDepartment(t, 'Support');
    users.director = await addUser(t, { role: 'director' });
    users.curatorSales = await addUser(t, { role: 'curator', departmentId: sales });
    users.curatorSupport = await addUser(t, { role: 'curator', departmentId: support });
    users.anna = await addUser(t, { role: 'manager', departmentId: sales });
    users.annasAssistant = await addUser(t, { role: 'assistant', departmentId: sales, managerId: users.anna.id });
    users.boris = await addUser(t, { role: 'manager', departmentId: sales });
    users.carl = await addUser(t, { role: 'manager', departmentId: support });
    const annasClient = await addClient(t, users.anna.id);
    const borisClient = await addClient(t, users.boris.id);

    const recorded = async (fields: Parameters<typeof addCall>[1]) => {
      const c = await addCall(t, fields);
      await t.app.inject({ method: 'PUT', url: `/pbx/recordings/${c.linkedid}`, headers: pbxHeaders(), payload: wavFile(100) });
      return c.id;
    };
    // Anna's client, answered by Anna.
    calls.annas = await recorded({ clientId: annasClient, ownerId: users.anna.id, answeredById: users.anna.id, finalUserId: users.anna.id });
    // Anna's client, but Anna was away: Carl (Support) took it.
    calls.takenByCarl = await recorded({ clientId: annasClient, ownerId: users.anna.id, answeredById: users.carl.id, finalUserId: users.carl.id });
    // Boris clicked to call his own client.
    calls.borisOutbound = await recorded({ direction: 'outbound', clientId: borisClient, ownerId: users.boris.id, initiatedById: users.boris.id });
    // Unknown caller answered by Anna's assistant.
    calls.assistantTook = await recorded({ answeredById: users.annasAssistant.id });
  });
  afterAll(async () => t?.close());

  const status = async (who: string, call: string) =>
    (await t.app.inject({ method: 'GET', url: `/api/calls/${calls[call]}/recording`, headers: bearer(users[who]!.token) })).statusCode;

  it.each([
    ['director', 'annas', 200], ['director', 'takenByCarl', 200], ['director', 'borisOutbound', 200], ['director', 'assistantTook', 200],
    ['curatorSales', 'annas', 200], ['curatorSales', 'takenByCarl', 200], ['curatorSales', 'borisOutbound', 200], ['curatorSales', 'assistantTook', 200],
    ['curatorSupport', 'annas', 404], ['curatorSupport', 'takenByCarl', 200], ['curatorSupport', 'borisOutbound', 404], ['curatorSupport', 'assistantTook', 404],
    ['anna', 'annas', 200], ['anna', 'takenByCarl', 200], ['anna', 'borisOutbound', 404], ['anna', 'assistantTook', 200],
    ['annasAssistant', 'annas', 200], ['annasAssistant', 'takenByCarl', 200], ['annasAssistant', 'borisOutbound', 404], ['annasAssistant', 'assistantTook', 200],
    ['boris', 'annas', 404], ['boris', 'takenByCarl', 404], ['boris', 'borisOutbound', 200], ['boris', 'assistantTook', 404],
    ['carl', 'annas', 404], ['carl', 'takenByCarl', 200], ['carl', 'borisOutbound', 404], ['carl', 'assistantTook', 404],
  ] as const)('%s → %s: %i', async (who, call, expected) => {
    expect(await status(who, call)).toBe(expected);
  });

  it('follows the client to its new owner', async () => {
    const [row] = await t.database.db.select({ clientId: clients.id }).from(clients).where(eq(clients.ownerId, users.anna!.id)).limit(1);
    await t.database.db.update(clients).set({ ownerId: users.boris!.id }).where(eq(clients.id, row!.clientId));
    expect(await status('boris', 'annas')).toBe(200);
  });

  it('says 404, not 403, so a hidden call does not reveal itself', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/calls/${calls.annas}/recording`, headers: bearer(users.carl!.token) });
    expect(res.json()).toMatchObject({ code: 'NOT_FOUND', message: `call ${calls.annas} not found` });
  });
});
