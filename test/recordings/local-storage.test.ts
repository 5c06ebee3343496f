import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalStorage } from '../../src/recordings/local-storage.js';
import { isValidKey, type RecordingStorage } from '../../src/recordings/storage.js';

const bytes = (s: string) => Readable.from([Buffer.from(s)]);
const chunks = (n: number, size: number) => Readable.from(Array.from({ length: n }, () => Buffer.alloc(size, 1)));

describe('local storage', () => {
  let root: string;
  let storage: RecordingStorage;

  beforeEach(async () => {
    root = path.join(await mkdtemp(path.join(tmpdir(), 'sb-local-')), 'store');
    storage = createLocalStorage(root);
  });
  afterEach(async () => rm(path.dirname(root), { recursive: true, force: true }));

  it('round-trips a file, whole and by range, creating the folder on first write', async () => {
    expect(await storage.put('1795348783.3.wav', bytes('0123456789'), { contentType: 'audio/wav', maxBytes: 100 })).toEqual({ size: 10 });
    expect(await storage.stat('1795348783.3.wav')).toEqual({ size: 10, contentType: 'audio/wav' });
    expect(await text(await storage.get('1795348783.3.wav'))).toBe('0123456789');
    expect(await text(await storage.get('1795348783.3.wav', { start: 2, end: 4 }))).toBe('234');
    expect(await readFile(path.join(root, '1795348783.3.wav'), 'utf8')).toBe('0123456789');
  });

  it('replaces an existing file and leaves no temporary files', async () => {
    await storage.put('a.wav', bytes('first'), { contentType: 'audio/wav', maxBytes: 100 });
    await storage.put('a.wav', bytes('second'), { contentType: 'audio/wav', maxBytes: 100 });
    expect(await text(await storage.get('a.wav'))).toBe('second');
    expect(await readdir(root)).toEqual(['a.wav']);
  });

  it('stops an oversized upload, deletes the partial file and keeps the previous one', async () => {
    await storage.put('a.wav', bytes('old'), { contentType: 'audio/wav', maxBytes: 100 });
    await expect(storage.put('a.wav', chunks(10, 64), { contentType: 'audio/wav', maxBytes: 300 })).rejects.toMatchObject({
      code: 'PAYLOAD_TOO_LARGE',
      statusCode: 413,
    });
    expect(await readdir(root)).toEqual(['a.wav']);
    expect(await text(await storage.get('a.wav'))).toBe('old');
  });

  it('cleans up when the source fails halfway (the PBX went away)', async () => {
    async function* broken() {
      yield Buffer.from('part');
      throw new Error('socket hang up');
    }
    await expect(storage.put('b.wav', Readable.from(broken()), { contentType: 'audio/wav', maxBytes: 100 })).rejects.toThrow('socket hang up');
    expect(await readdir(root)).toEqual([]);
  });

  it('reports missing files', async () => {
    expect(await storage.stat('nothing.wav')).toBeNull();
    await expect(storage.get('nothing.wav')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await storage.delete('nothing.wav');
  });

  it('deletes', async () => {
    await storage.put('c.wav', bytes('x'), { contentType: 'audio/wav', maxBytes: 100 });
    await storage.delete('c.wav');
    expect(await storage.stat('c.wav')).toBeNull();
  });

  const evil = ['../../etc/passwd', '../secret.wav', 'a/b.wav', 'a\\b.wav', '/etc/passwd', '..', '.', '.hidden.wav', 'a..wav', '', 'x'.repeat(201), 'nul\0.wav', 'spa ce.wav'];

  it.each(evil)('refuses the key %j in every operation', async (key) => {
    expect(isValidKey(key)).toBe(false);
    await expect(storage.put(key, bytes('x'), { contentType: 'audio/wav', maxBytes: 100 })).rejects.toMatchObject({ statusCode: 400 });
    await expect(storage.stat(key)).rejects.toMatchObject({ statusCode: 400 });
    await expect(storage.get(key)).rejects.toMatchObject({ statusCode: 400 });
    await expect(storage.delete(key)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('cannot read a file next to the storage folder', async () => {
    await writeFile(path.join(path.dirname(root), 'outside.wav'), 'secret');
    await expect(storage.get('../outside.wav')).rejects.toMatchObject({ statusCode: 400 });
  });
});
