import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

// The optional second factor of the /pbx/* endpoints (PBX_HMAC_SECRET). The shared token alone
// is a bearer secret: whoever saw one URL (a proxy's log, a packet capture on the LAN) can
// route calls and upload recordings for ever. A signature binds a request to its URL and to a
// ±5-minute window, and each signature is accepted once.
//
//   X-Switchboard-Timestamp: <unix seconds>
//   X-Switchboard-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<METHOD> <path?query>")>
//
// `path?query` is the request target exactly as sent (not re-encoded), so signer and checker
// never disagree about percent-encoding.

export const TIMESTAMP_HEADER = 'x-switchboard-timestamp';
export const PBX_SIGNATURE_HEADER = 'x-switchboard-signature';
const WINDOW_SECONDS = 300;

export function signPbxRequest(secret: string, timestamp: number, method: string, target: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${method.toUpperCase()} ${target}`).digest('hex')}`;
}

export function createPbxSignature(deps: { secret: string; redis: Redis; prefix: string; logger: Logger; now?: () => number }) {
  const now = deps.now ?? Date.now;
  return {
    /** Null when the request is signed, fresh and new; otherwise why it is refused. */
    async verify(method: string, target: string, headers: Record<string, string | string[] | undefined>): Promise<string | null> {
      const timestamp = Number(headers[TIMESTAMP_HEADER]);
      const given = headers[PBX_SIGNATURE_HEADER];
      if (!Number.isInteger(timestamp) || typeof given !== 'string') return 'PBX signature missing: send X-Switchboard-Timestamp and X-Switchboard-Signature';
      if (Math.abs(now() / 1000 - timestamp) > WINDOW_SECONDS) return 'PBX signature expired: the timestamp is more than 300 s from the server clock';
      const expected = Buffer.from(signPbxRequest(deps.secret, timestamp, method, target));
      const got = Buffer.from(given.trim().toLowerCase());
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) return 'PBX signature is wrong';
      // Seen signatures live a little longer than the window: a replay is either stale or seen.
      try {
        const fresh = await deps.redis.set(`${deps.prefix}:pbx-sig:${given.slice(7)}`, '1', 'EX', WINDOW_SECONDS * 2 + 5, 'NX');
        if (fresh === null) return 'PBX signature was already used';
      } catch (err) {
        // A call must still be routed while Redis is down; signature and window still hold.
        deps.logger.warn({ err }, 'PBX replay cache unavailable; accepting a signed request unchecked for replay');
      }
      return null;
    },
  };
}

export type PbxSignature = ReturnType<typeof createPbxSignature>;
