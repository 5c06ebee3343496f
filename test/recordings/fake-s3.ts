import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';

/**
 * The slice of the S3 REST API that s3-storage.ts uses, path-style, in memory: PutObject,
 * HeadObject, GetObject (with Range), DeleteObject and the multipart calls lib-storage makes for
 * bodies over 5 MiB. Signatures are not checked. It is a stand-in to exercise the real SDK's
 * requests and error parsing, not a proof of compatibility with AWS or MinIO.
 */
export interface FakeS3 {
  endpoint: string;
  objects: Map<string, { body: Buffer; contentType: string }>;
  /** `METHOD /bucket/key?query` of every request, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeS3(bucket: string): Promise<FakeS3> {
  const objects = new Map<string, { body: Buffer; contentType: string }>();
  const uploads = new Map<string, { key: string; contentType: string; parts: Map<number, Buffer> }>();
  const requests: string[] = [];

  const xml = (res: ServerResponse, status: number, body: string) => {
    res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>${body}`);
  };
  const noSuchKey = (res: ServerResponse, method: string) =>
    method === 'HEAD' ? res.writeHead(404).end() : xml(res, 404, '<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
  const etag = (body: Buffer) => `"${createHash('md5').update(body).digest('hex')}"`;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const [, bucketName, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (bucketName !== bucket) return xml(res, 404, '<Error><Code>NoSuchBucket</Code></Error>');
    const q = url.searchParams;
    const body = await buffer(req);

    if (req.method === 'POST' && q.has('uploads')) {
      const id = randomUUID();
      uploads.set(id, { key, contentType: req.headers['content-type'] ?? 'binary/octet-stream', parts: new Map() });
      return xml(res, 200, `<InitiateMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`);
    }
    const upload = q.has('uploadId') ? uploads.get(q.get('uploadId')!) : undefined;
    if (q.has('uploadId') && !upload) return xml(res, 404, '<Error><Code>NoSuchUpload</Code></Error>');
    if (upload && req.method === 'PUT') {
      upload.parts.set(Number(q.get('partNumber')), body);
      return res.writeHead(200, { etag: etag(body) }).end();
    }
    if (upload && req.method === 'POST') {
      const whole = Buffer.concat([...upload.parts.entries()].sort(([a], [b]) => a - b).map(([, part]) => part));
      objects.set(key, { body: whole, contentType: upload.contentType });
      uploads.delete(q.get('uploadId')!);
      return xml(res, 200, `<CompleteMultipartUploadResult><Bucket>${bucket}</Bucket><Key>${key}</Key><ETag>${etag(whole)}</ETag></CompleteMultipartUploadResult>`);
    }
    if (upload && req.method === 'DELETE') {
      uploads.delete(q.get('uploadId')!);
      return res.writeHead(204).end();
    }

    const object = objects.get(key);
    switch (req.method) {
      case 'PUT':
        objects.set(key, { body, contentType: req.headers['content-type'] ?? 'binary/octet-stream' });
        return res.writeHead(200, { etag: etag(body) }).end();
      case 'DELETE':
        objects.delete(key);
        return res.writeHead(204).end();
      case 'HEAD':
      case 'GET': {
        if (!object) return noSuchKey(res, req.method);
        const headers = { 'content-type': object.contentType, etag: etag(object.body), 'accept-ranges': 'bytes' };
        const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
        if (range) {
          const start = Number(range[1]);
          const end = Math.min(Number(range[2]), object.body.length - 1);
          const part = object.body.subarray(start, end + 1);
          res.writeHead(206, { ...headers, 'content-length': part.length, 'content-range': `bytes ${start}-${end}/${object.body.length}` });
          return res.end(req.method === 'GET' ? part : undefined);
        }
        res.writeHead(200, { ...headers, 'content-length': object.body.length });
        return res.end(req.method === 'GET' ? object.body : undefined);
      }
      default:
        return xml(res, 405, '<Error><Code>MethodNotAllowed</Code></Error>');
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => xml(res, 500, `<Error><Code>InternalError</Code><Message>${String(error)}</Message></Error>`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    objects,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
