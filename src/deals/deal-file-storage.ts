import path from 'node:path';
import { storageAt, type StorageConfig } from '../recordings/create-storage.js';
import type { RecordingStorage } from '../recordings/storage.js';

/**
 * Deal files live where recordings do, apart from them: the same bucket under `deal-files/`, or
 * DATA_DIR/deal-files (never RECORDINGS_DIR, which belongs to the PBX). The recordings' storage
 * brings the atomic write, the streaming byte limit and the key check that keeps a key inside.
 */
export function createDealFileStorage(config: StorageConfig): RecordingStorage {
  return storageAt(config, { s3Prefix: 'deal-files/', folder: path.join(config.DATA_DIR, 'deal-files') });
}
