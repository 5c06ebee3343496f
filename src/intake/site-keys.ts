import { createHash, randomBytes } from 'node:crypto';

/**
 * A site key: 192 random bits. It sits in the site's page source, so it is not a password: it
 * names the site; the origin check, the rate limit and the honeypot keep the abuse down. Stored
 * as SHA-256 only, so a leaked database does not let anyone post as the site.
 */
export function newSiteKey(): { key: string; hash: string; hint: string } {
  const key = `isk_${randomBytes(24).toString('base64url')}`;
  return { key, hash: hashSiteKey(key), hint: key.slice(0, 8) };
}

export function hashSiteKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}
