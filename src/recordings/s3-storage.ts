import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import { AppError } from '../errors.js';
import { assertValidKey, byteLimiter, type RecordingStorage } from './storage.js';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** Empty for AWS itself; e.g. `http://minio:9000` for a compatible server. */
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  /** `http://host/bucket/key` instead of `http://bucket.host/key`; what MinIO and most others need. */
  forcePathStyle?: boolean;
  /** Object key prefix, e.g. `recordings/`. */
  prefix?: string;
}

export function createS3Client(options: S3StorageOptions): S3Client {
  return new S3Client({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    forcePathStyle: options.forcePathStyle ?? true,
    // Without keys the SDK's default chain applies (environment, instance role).
    ...(options.accessKeyId && options.secretAccessKey
      ? { credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey } }
      : {}),
    // Since 3.729 the SDK adds CRC32 checksums to every upload by default, which several
    // S3-compatible servers reject; checksums only where the API requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const isNotFound = (error: unknown) =>
  error instanceof S3ServiceException &&
  (error.$metadata.httpStatusCode === 404 || error.name === 'NotFound' || error.name === 'NoSuchKey');

/** Recordings as objects in one bucket. */
export function createS3Storage(options: S3StorageOptions, client: S3Client = createS3Client(options)): RecordingStorage {
  const Bucket = options.bucket;
  const keyOf = (key: string) => {
    assertValidKey(key);
    return `${options.prefix ?? ''}${key}`;
  };

  return {
    async put(key, body, { contentType, maxBytes }) {
      const limiter = byteLimiter(maxBytes);
      // The length is unknown while the PBX streams, so PutObject alone cannot take the body:
      // Upload buffers 5 MiB parts (one PutObject for small files, multipart beyond) and aborts
      // the multipart upload when the stream fails, so nothing half-written stays in the bucket.
      const upload = new Upload({
        client,
        params: { Bucket, Key: keyOf(key), Body: body.pipe(limiter), ContentType: contentType },
        queueSize: 1,
        leavePartsOnError: false,
      });
      // pipe() does not forward errors: a client that goes away must fail the upload too.
      body.once('error', (error) => limiter.destroy(error));
      await upload.done();
      return { size: limiter.bytes };
    },

    async stat(key) {
      try {
        const head = await client.send(new HeadObjectCommand({ Bucket, Key: keyOf(key) }));
        return { size: head.ContentLength ?? 0, contentType: head.ContentType ?? 'application/octet-stream' };
      } catch (error) {
        if (isNotFound(error)) return null;
        throw error;
      }
    },

    async get(key, range) {
      try {
        const object = await client.send(
          new GetObjectCommand({ Bucket, Key: keyOf(key), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
        );
        // In Node the body is an http.IncomingMessage (a Readable with SDK helpers mixed in).
        return object.Body as Readable;
      } catch (error) {
        if (isNotFound(error)) throw new AppError('NOT_FOUND', 'the recording object is missing');
        throw error;
      }
    },

    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket, Key: keyOf(key) }));
    },
  };
}
