import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.js';
import { assertValidKey, byteLimiter, contentTypeForKey, type RecordingStorage } from './storage.js';

const isMissing = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Recordings as files in one folder: RECORDINGS_DIR when the PBX writes there (then a file
 * MixMonitor wrote and a pushed one look the same), else DATA_DIR/recordings.
 */
export function createLocalStorage(root: string): RecordingStorage {
  const base = path.resolve(root);

  const fileOf = (key: string): string => {
    assertValidKey(key);
    const file = path.join(base, key);
    // The key pattern already forbids separators; this is the second lock on the same door.
    if (path.dirname(file) !== base) throw new AppError('VALIDATION', 'recording name escapes the storage folder');
    return file;
  };

  return {
    async put(key, body, { maxBytes }) {
      const file = fileOf(key);
      await mkdir(base, { recursive: true });
      // Same folder, so the rename is atomic: a reader sees the old file or the new one, never a
      // half-written one, and a PBX retry replaces the file in one step. The leading dot keeps
      // the temporary name outside the key pattern, so it can never be served.
      const temp = path.join(base, `.${key}.${randomUUID()}.part`);
      const limiter = byteLimiter(maxBytes);
      try {
        // flush: fsync before close, so the rename never publishes a file that a crash empties.
        await pipeline(body, limiter, createWriteStream(temp, { flags: 'wx', flush: true }));
        await rename(temp, file);
      } catch (error) {
        await rm(temp, { force: true });
        throw error;
      }
      return { size: limiter.bytes };
    },

    async stat(key) {
      try {
        const info = await stat(fileOf(key));
        return info.isFile() ? { size: info.size, contentType: contentTypeForKey(key) } : null;
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
    },

    async get(key, range) {
      // Open first, so a missing file is an error here and not after the headers went out.
      const handle = await open(fileOf(key), 'r').catch((error: unknown) => {
        throw isMissing(error) ? new AppError('NOT_FOUND', 'the recording file is missing') : error;
      });
      return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    },

    async delete(key) {
      await rm(fileOf(key), { force: true });
    },
  };
}
