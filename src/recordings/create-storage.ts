import path from 'node:path';
import type { Config } from '../config.js';
import { createLocalStorage } from './local-storage.js';
import { createS3Storage } from './s3-storage.js';
import type { RecordingStorage } from './storage.js';

export type StorageConfig = Pick<
  Config,
  | 'DATA_DIR'
  | 'RECORDINGS_DIR'
  | 'S3_BUCKET'
  | 'S3_REGION'
  | 'S3_ENDPOINT'
  | 'S3_ACCESS_KEY_ID'
  | 'S3_SECRET_ACCESS_KEY'
  | 'S3_FORCE_PATH_STYLE'
>;

/**
 * S3 when a bucket is configured. Otherwise a folder: RECORDINGS_DIR when the PBX writes its
 * files there (they are served in place, nothing is copied), else DATA_DIR/recordings.
 */
export function createStorage(config: StorageConfig): RecordingStorage {
  return storageAt(config, { s3Prefix: '', folder: config.RECORDINGS_DIR !== '' ? config.RECORDINGS_DIR : path.join(config.DATA_DIR, 'recordings') });
}

/** The configured bucket under `s3Prefix`, or `folder` on disk when no bucket is configured. */
export function storageAt(config: StorageConfig, where: { s3Prefix: string; folder: string }): RecordingStorage {
  if (config.S3_BUCKET !== '') {
    return createS3Storage({
      bucket: config.S3_BUCKET,
      region: config.S3_REGION,
      endpoint: config.S3_ENDPOINT,
      accessKeyId: config.S3_ACCESS_KEY_ID,
      secretAccessKey: config.S3_SECRET_ACCESS_KEY,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      ...(where.s3Prefix !== '' && { prefix: where.s3Prefix }),
    });
  }
  return createLocalStorage(where.folder);
}
