/** The client a lead's phone matched, as far as the decision needs it. */
export interface MatchedClient {
  clientId: number;
  ownerId: number;
  ownerActive: boolean;
}

export type LeadFate =
  | { kind: 'owner'; clientId: number; ownerId: number }
  | { kind: 'department'; departmentId: number; reason: 'no_phone' | 'unknown_phone' | 'owner_disabled' };

/**
 * Where a lead goes. A known client's request goes straight to the manager who already works
 * with them (a second manager calling back would be the worst first impression). A disabled
 * owner cannot act on it, so the lead waits for a curator like an unknown one; the curator's
 * handover of that owner's book is the fix, not a guess here.
 */
export function leadFate(lead: { phone: string | null; departmentId: number }, matched: MatchedClient | null): LeadFate {
  if (lead.phone === null) return { kind: 'department', departmentId: lead.departmentId, reason: 'no_phone' };
  if (matched === null) return { kind: 'department', departmentId: lead.departmentId, reason: 'unknown_phone' };
  if (!matched.ownerActive) return { kind: 'department', departmentId: lead.departmentId, reason: 'owner_disabled' };
  return { kind: 'owner', clientId: matched.clientId, ownerId: matched.ownerId };
}

/**
 * Whether a request from `origin` may use a site's key. A browser always sends Origin on a
 * cross-site POST; no Origin means a server (the site's own backend), which CORS does not
 * concern and which cannot be told apart from a forger anyway: the key is what admits it.
 */
export function originAllowed(siteOrigin: string, origin: string | undefined): boolean {
  return origin === undefined || origin === siteOrigin;
}

/** `https://Example.ru/` → `https://example.ru`; null for anything that is not a bare http(s) origin. */
export function serialisedOrigin(input: string): string | null {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return null;
  return url.origin;
}
