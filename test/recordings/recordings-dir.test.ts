import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordings } from '../../src/calls/calls.table.js';
import { attachFromRecordingsDir } from '../../src/recordings/recordings.service.js';
import { startFakeS3, type FakeS3 } from './fake-s3.js';
import { addCall, addUser, bearer, createRecordingsApp, wavFile, type RecordingsTestApp } from './helpers.js';

describe('recordings that MixMonitor wrote into RECORDINGS_DIR', () => {
  let dir: string;
  let t: RecordingsTestApp;
  let director: { id: number; token: string };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sb-monitor-'));
    t = await createRecordingsApp({ RECORDINGS_DIR: dir });
    director = await addUser(t, { role: 'director' });
  });
  afterAll(async () => {
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const listen = (callId: number, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'GET', url: `/api/calls/${callId}/recording`, headers: { ...bearer(director.token), ...headers } });

  it('finds <uniqueid>.wav on first listen, registers it once, and serves it in place', async () => {
    const audio = wavFile(16000);
    await writeFile(path.join(dir, '1795348783.3.wav'), audio);
    const call = await addCall(t, { linkedid: '1795348783.1', recordingUniqueid: '1795348783.3' });

    const res = await listen(call.id);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('audio/wav');
    expect(res.rawPayload.equals(audio)).toBe(true);
    const ranged = await listen(call.id, { range: 'bytes=44-143' });
    expect(ranged.statusCode).toBe(206);
    expect(ranged.rawPayload.equals(audio.subarray(44, 144))).toBe(true);

    const rows = await t.database.db.select().from(recordings).where(eq(recordings.uniqueid, '1795348783.3'));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ systemName: 'default', storageKey: '1795348783.3.wav', contentType: 'audio/wav', sizeBytes: audio.length });
  });

  it('is idempotent when called directly (the call tracker may call it at hang-up)', async () => {
    await writeFile(path.join(dir, '1795348790.7.wav'), wavFile(100));
    const deps = { db: t.database.db, config: t.config, storage: t.storage };
    const first = await attachFromRecordingsDir(deps, '1795348790.7');
    const second = await attachFromRecordingsDir(deps, '1795348790.7');
    expect(second?.id).toBe(first?.id);
    expect(await attachFromRecordingsDir(deps, '1795348790.8')).toBeNull();
    expect(await attachFromRecordingsDir(deps, '../../etc/passwd')).toBeNull();
  });

  it('falls back to the Linkedid when no MixMonitorStart was seen', async () => {
    await writeFile(path.join(dir, '1795348800.1.wav'), wavFile(50));
    const call = await addCall(t, { linkedid: '1795348800.1', recordingUniqueid: null });
    expect((await listen(call.id)).statusCode).toBe(200);
  });

  it('leaves the file of a live call alone until it has settled', async () => {
    const file = path.join(dir, '1795348810.2.wav');
    await writeFile(file, wavFile(50));
    const call = await addCall(t, { recordingUniqueid: '1795348810.2', endedAt: null, disposition: null });
    expect((await listen(call.id)).statusCode).toBe(404);
    const anHourAgo = new Date(Date.now() - 3_600_000);
    await utimes(file, anHourAgo, anHourAgo);
    expect((await listen(call.id)).statusCode).toBe(200);
  });

  it('serves an uploaded file from the same folder', async () => {
    const call = await addCall(t, { recordingUniqueid: '1795348820.4' });
    const put = await t.app.inject({
      method: 'PUT',
      url: '/pbx/recordings/1795348820.4',
      headers: { 'x-switchboard-token': 'test-pbx-token-0123456789', 'content-type': 'audio/wav' },
      payload: wavFile(10),
    });
    expect(put.statusCode).toBe(201);
    expect((await listen(call.id)).statusCode).toBe(200);
  });
});

describe('RECORDINGS_DIR with S3 storage configured (fake S3 server)', () => {
  let dir: string;
  let s3: FakeS3;
  let t: RecordingsTestApp;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'sb-monitor-'));
    s3 = await startFakeS3('calls');
    t = await createRecordingsApp({
      RECORDINGS_DIR: dir,
      S3_BUCKET: 'calls',
      S3_ENDPOINT: s3.endpoint,
      S3_ACCESS_KEY_ID: 'k',
      S3_SECRET_ACCESS_KEY: 's',
    });
  });
  afterAll(async () => {
    await t?.close();
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('copies the file into the bucket once and streams it from there', async () => {
    const audio = wavFile(3000);
    await writeFile(path.join(dir, '1795348900.5.wav'), audio);
    const call = await addCall(t, { recordingUniqueid: '1795348900.5' });
    const director = await addUser(t, { role: 'director' });
    const res = await t.app.inject({ method: 'GET', url: `/api/calls/${call.id}/recording`, headers: { ...bearer(director.token), range: 'bytes=-1000' } });
    expect(res.statusCode).toBe(206);
    expect(res.rawPayload.equals(audio.subarray(audio.length - 1000))).toBe(true);
    expect(s3.objects.get('1795348900.5.wav')?.body.equals(audio)).toBe(true);
    const puts = s3.requests.filter((r) => r.startsWith('PUT '));
    await t.app.inject({ method: 'GET', url: `/api/calls/${call.id}/recording`, headers: bearer(director.token) });
    expect(s3.requests.filter((r) => r.startsWith('PUT '))).toEqual(puts);
  });
});
