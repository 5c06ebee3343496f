import { Transform, type Readable } from 'node:stream';
import { AppError } from '../errors.js';

/** An inclusive byte range, as HTTP `Range` and S3 `Range` count it. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where recording files live: a local folder or S3-compatible object storage. Keys are single
 * path segments (`<uniqueid>.<ext>`, the name MixMonitor gives the file); every implementation
 * rejects anything else, so a key can never point outside the store.
 */
export interface RecordingStorage {
  /** Streams `body` into `key`, replacing an existing object only once the new one is complete. */
  put(key: string, body: Readable, options: { contentType: string; maxBytes: number }): Promise<{ size: number }>;
  stat(key: string): Promise<{ size: number; contentType: string } | null>;
  /** Throws NOT_FOUND when the object is gone. */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /** Removing what is not there is not an error. */
  delete(key: string): Promise<void>;
}

// One path segment: no separators, no leading dot (temporary files and `..` start with one).
const KEY = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;

export function isValidKey(key: string): boolean {
  return KEY.test(key) && !key.includes('..');
}

export function assertValidKey(key: string): void {
  if (!isValidKey(key)) throw new AppError('VALIDATION', `"${key.slice(0, 80)}" is not a valid recording name`);
}

/** The formats Asterisk writes (wav, WAV = wav49, gsm, ogg) plus mp3 for converted files. */
export const AUDIO_FORMATS = {
  wav: 'audio/wav',
  WAV: 'audio/wav',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  gsm: 'audio/x-gsm',
} as const;
export type AudioExtension = keyof typeof AUDIO_FORMATS;

export function contentTypeForKey(key: string): string {
  const ext = key.slice(key.lastIndexOf('.') + 1);
  return (AUDIO_FORMATS as Record<string, string>)[ext] ?? 'application/octet-stream';
}

/**
 * Passes bytes through and fails with PAYLOAD_TOO_LARGE as soon as more than `maxBytes` went by,
 * so an oversized upload is stopped while it streams instead of after it filled the disk.
 */
export function byteLimiter(maxBytes: number): Transform & { readonly bytes: number } {
  let bytes = 0;
  const limiter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        callback(new AppError('PAYLOAD_TOO_LARGE', `the file may be at most ${maxBytes} bytes`));
        return;
      }
      callback(null, chunk);
    },
  });
  return Object.defineProperty(limiter, 'bytes', { get: () => bytes }) as Transform & { readonly bytes: number };
}
