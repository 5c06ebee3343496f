import path from 'node:path';
import { createLocalStorage } from '../recordings/local-storage.js';
import type { StorageConfig } from '../recordings/create-storage.js';
import { createS3Storage } from '../recordings/s3-storage.js';
import type { RecordingStorage } from '../recordings/storage.js';

/**
 * Deal files live where recordings do, apart from them: the same bucket under `deal-files/`, or
 * DATA_DIR/deal-files (never RECORDINGS_DIR, which belongs to the PBX). The recordings' storage
 * brings the atomic write, the streaming byte limit and the key check that keeps a key inside.
 */
export function createDealFileStorage(config: StorageConfig): RecordingStorage {
  if (config.S3_BUCKET !== '') {
    return createS3Storage({
      bucket: config.S3_BUCKET,
      region: config.S3_REGION,
      endpoint: config.S3_ENDPOINT,
      accessKeyId: config.S3_ACCESS_KEY_ID,
      secretAccessKey: config.S3_SECRET_ACCESS_KEY,
      forcePathStyle: config.S3_FORCE_PATH_STYLE,
      prefix: 'deal-files/',
    });
  }
  return createLocalStorage(path.join(config.DATA_DIR, 'deal-files'));
}
