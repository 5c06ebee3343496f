import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addCall, addUser, createRecordingsApp, TEST_PBX_TOKEN, wavFile, type RecordingsTestApp } from './helpers.js';

// inject() never opens a socket; these run the two things that depend on one: answering 413 to a
// client that is still sending, and a browser-style range request with the token in the query.
describe('over a real HTTP connection', () => {
  let t: RecordingsTestApp;
  let base: string;

  beforeAll(async () => {
    t = await createRecordingsApp({ RECORDINGS_MAX_BYTES: '4096' });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => t?.close());

  /** A chunked PUT that keeps sending 1 KiB every few milliseconds, like curl from a slow link. */
  const slowPut = (uniqueid: string, chunks: number) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${base}/pbx/recordings/${uniqueid}`, {
        method: 'PUT',
        headers: { 'x-switchboard-token': TEST_PBX_TOKEN, 'content-type': 'audio/wav', 'transfer-encoding': 'chunked' },
      });
      let answered = false;
      req.on('response', (res) => {
        answered = true;
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode!, body }));
      });
      // The server may close the socket while we still write; that is the point. On a loaded
      // machine the last write can fail (EPIPE) before the answer already on the wire is read:
      // only a socket that closes with no answer at all is an error.
      req.on('error', (error) => {
        if (sent >= chunks) setTimeout(() => (answered ? undefined : reject(error)), 1_000);
      });
      let sent = 0;
      const tick = () => {
        if (req.destroyed) return;
        if (sent === chunks) return void req.end();
        req.write(sent === 0 ? wavFile(1024 - 44) : Buffer.alloc(1024, sent));
        sent++;
        setTimeout(tick, 2);
      };
      tick();
    });

  it('answers 413 while the client is still sending and leaves nothing behind', async () => {
    const res = await slowPut('7.1', 40);
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).code).toBe('PAYLOAD_TOO_LARGE');
    expect(await readdir(path.join(t.dataDir, 'recordings')).catch(() => [])).toEqual([]);
  });

  it('stores a chunked upload within the limit, then serves a range to ?token=', async () => {
    expect((await slowPut('7.2', 3)).status).toBe(201);
    const call = await addCall(t, { recordingUniqueid: '7.2' });
    const director = await addUser(t, { role: 'director' });
    const res = await fetch(`${base}/api/calls/${call.id}/recording?token=${director.token}`, { headers: { range: 'bytes=1000-1099' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('bytes 1000-1099/3072');
    const sent = Buffer.concat([wavFile(1024 - 44), Buffer.alloc(1024, 1), Buffer.alloc(1024, 2)]);
    expect(Buffer.from(await res.arrayBuffer()).equals(sent.subarray(1000, 1100))).toBe(true);
  });
});
