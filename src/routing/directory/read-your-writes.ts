import type { onSendAsyncHookHandler } from 'fastify';
import type { DirectorySync } from './directory-sync.js';

// A write through the API answers only once this instance's routing directory has read it back,
// so that the next call routes by it ("I just gave this client to Anna, and the call went to
// Boris" must not happen). /pbx/route itself no longer asks PostgreSQL (issue 16); other
// instances see the change within their freshness bound (directory-sync.ts), normally as soon as
// PostgreSQL's notification arrives.
//
// Waits at most this long: the change is committed either way, and a database too slow to
// answer the ping within it will have the route answer stale anyway.
const WAIT_MS = 1_000;

const READ_ONLY = new Set(['GET', 'HEAD', 'OPTIONS']);

export function waitForOwnWrites(directory: Pick<DirectorySync, 'barrier'>): onSendAsyncHookHandler {
  return async (request, reply, payload) => {
    if (READ_ONLY.has(request.method) || reply.statusCode >= 400) return payload;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      directory.barrier().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    return payload;
  };
}
