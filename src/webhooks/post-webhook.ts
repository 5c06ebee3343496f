import http from 'node:http';
import https from 'node:https';
import type { TargetPolicy } from './webhook-target.js';

/**
 * POSTs one delivery. node:http rather than fetch because its `lookup` option puts the address
 * check (webhook-target.ts) inside the connection: the address checked is the address dialled.
 * Redirects are not followed (a 3xx is a failed delivery), as with fetch's `redirect: 'error'`.
 */
export async function postWebhook(url: string, headers: Record<string, string>, body: string, policy: TargetPolicy, timeoutMs: number): Promise<number> {
  const target = new URL(url);
  await policy.check(target); // IP literals never reach `lookup`
  const client = target.protocol === 'https:' ? https : http;
  return new Promise<number>((resolve, reject) => {
    const req = client.request(
      target,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: policy.lookup as never,
        signal: AbortSignal.timeout(timeoutMs),
        agent: false,
      },
      (res) => {
        res.resume(); // the answer's body is not read: only its status counts
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
