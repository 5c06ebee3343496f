import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createS3Storage } from '../../src/recordings/s3-storage.js';
import type { RecordingStorage } from '../../src/recordings/storage.js';
import { startFakeS3, type FakeS3 } from './fake-s3.js';
import S3rver from 's3rver';

const MiB = 1024 * 1024;
const data = (size: number) => {
  const body = Buffer.alloc(size);
  for (let i = 0; i < size; i++) body[i] = (i * 31 + 7) % 256;
  return body;
};
// Many small chunks, like a request body arriving from the network.
const streamOf = (body: Buffer, chunk = 64 * 1024) =>
  Readable.from(Array.from({ length: Math.ceil(body.length / chunk) }, (_, i) => body.subarray(i * chunk, (i + 1) * chunk)));

/** The same checks for any S3-compatible server. */
function storageContract(name: string, setup: () => Promise<{ storage: RecordingStorage; close(): Promise<void> }>) {
  describe(name, () => {
    let storage: RecordingStorage;
    let close: () => Promise<void>;
    beforeAll(async () => ({ storage, close } = await setup()));
    afterAll(async () => close?.());

    it('round-trips an object, whole and by range, with its content type', async () => {
      const body = data(5000);
      expect(await storage.put('1795348783.3.wav', streamOf(body, 1000), { contentType: 'audio/wav', maxBytes: 10_000 })).toEqual({ size: 5000 });
      expect(await storage.stat('1795348783.3.wav')).toEqual({ size: 5000, contentType: 'audio/wav' });
      expect((await buffer(await storage.get('1795348783.3.wav'))).equals(body)).toBe(true);
      expect((await buffer(await storage.get('1795348783.3.wav', { start: 100, end: 199 }))).equals(body.subarray(100, 200))).toBe(true);
    });

    it('reports a missing object as null / NOT_FOUND and deletes idempotently', async () => {
      expect(await storage.stat('missing.wav')).toBeNull();
      await expect(storage.get('missing.wav')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await storage.put('gone.wav', streamOf(data(10)), { contentType: 'audio/wav', maxBytes: 100 });
      await storage.delete('gone.wav');
      await storage.delete('gone.wav');
      expect(await storage.stat('gone.wav')).toBeNull();
    });

    it('refuses an oversized body and stores nothing', async () => {
      await expect(storage.put('big.wav', streamOf(data(3000), 500), { contentType: 'audio/wav', maxBytes: 2048 })).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
      });
      expect(await storage.stat('big.wav')).toBeNull();
    });

    it('refuses keys that are not one safe name', async () => {
      await expect(storage.stat('../other-bucket/x.wav')).rejects.toMatchObject({ statusCode: 400 });
      await expect(storage.put('a/b.wav', streamOf(data(1)), { contentType: 'audio/wav', maxBytes: 10 })).rejects.toMatchObject({ statusCode: 400 });
    });
  });
}

let fake: FakeS3;
storageContract('S3 storage against an in-process fake S3 server', async () => {
  fake = await startFakeS3('recordings');
  const storage = createS3Storage({ bucket: 'recordings', region: 'us-east-1', endpoint: fake.endpoint, accessKeyId: 'test', secretAccessKey: 'test' });
  return { storage, close: () => fake.close() };
});

describe('S3 storage: what goes over the wire (fake server)', () => {
  let s3: FakeS3;
  let storage: RecordingStorage;
  beforeAll(async () => {
    s3 = await startFakeS3('rec');
    storage = createS3Storage({ bucket: 'rec', region: 'us-east-1', endpoint: s3.endpoint, accessKeyId: 'k', secretAccessKey: 's', prefix: 'pbx1/' });
  });
  afterAll(async () => s3?.close());

  it('uses path-style addresses, the prefix, and a Range header for ranges', async () => {
    s3.requests.length = 0;
    await storage.put('1.1.wav', streamOf(data(100)), { contentType: 'audio/wav', maxBytes: 1000 });
    await storage.get('1.1.wav', { start: 0, end: 9 }).then(buffer);
    expect(s3.requests[0]).toMatch(/^PUT \/rec\/pbx1\/1\.1\.wav/);
    expect(s3.requests[1]).toMatch(/^GET \/rec\/pbx1\/1\.1\.wav/);
    expect(s3.objects.get('pbx1/1.1.wav')?.contentType).toBe('audio/wav');
  });

  it('sends nothing when a small body is over the limit', async () => {
    s3.requests.length = 0;
    await expect(storage.put('2.1.wav', streamOf(data(3000), 100), { contentType: 'audio/wav', maxBytes: 2048 })).rejects.toMatchObject({ statusCode: 413 });
    expect(s3.requests).toEqual([]);
  });

  it('streams a large body as a multipart upload', async () => {
    s3.requests.length = 0;
    const body = data(11 * MiB);
    expect(await storage.put('3.1.wav', streamOf(body), { contentType: 'audio/wav', maxBytes: 20 * MiB })).toEqual({ size: body.length });
    expect(s3.objects.get('pbx1/3.1.wav')?.body.equals(body)).toBe(true);
    expect(s3.requests.filter((r) => r.includes('partNumber='))).toHaveLength(3);
  });

  it('aborts the multipart upload when the limit is passed after the first parts', async () => {
    s3.requests.length = 0;
    await expect(storage.put('4.1.wav', streamOf(data(12 * MiB)), { contentType: 'audio/wav', maxBytes: 7 * MiB })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(s3.requests.some((r) => r.startsWith('DELETE ') && r.includes('uploadId='))).toBe(true);
    expect(s3.objects.has('pbx1/4.1.wav')).toBe(false);
  });
});

// A real S3 implementation in process (s3rver, a dev dependency): the SDK against S3's own
// protocol, not only against the minimal fake above.
describe('against s3rver', () => {
  storageContract('S3 storage against s3rver', async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 's3rver-'));
    const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory, configureBuckets: [{ name: 'recordings', configs: [] }] });
    const { port } = await server.run();
    const storage = createS3Storage({
      bucket: 'recordings',
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${port}`,
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
    });
    return {
      storage,
      close: async () => {
        await server.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  });
});
