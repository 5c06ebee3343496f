import type { Config } from '../config.js';

/**
 * What happens to a call to a number no department lists, said at start-up in the operator's
 * terms; null when DEFAULT_DEPARTMENT covers it (whether that department exists is known only
 * once the directory is loaded: a missing one behaves as if it were not set). Known clients
 * still ring their owner first; this is about whom the call goes to when that does not help.
 */
export function unknownDidNotice(config: Pick<Config, 'DEFAULT_DEPARTMENT' | 'FALLBACK_DIAL' | 'RING_TIMEOUT_DEPARTMENT'>): string | null {
  if (config.DEFAULT_DEPARTMENT !== '') return null;
  const dialplan = "the dialplan's own fallback (it dials SWITCHBOARD_FALLBACK_DIAL, then SWITCHBOARD_FALLBACK_MAILBOX; with neither set in the PBX's globals the call ends there)";
  if (config.FALLBACK_DIAL !== '') {
    return `DEFAULT_DEPARTMENT is not set: a call to a number no department lists rings FALLBACK_DIAL (${config.FALLBACK_DIAL}) for ${config.RING_TIMEOUT_DEPARTMENT} s, then goes to ${dialplan}`;
  }
  return `DEFAULT_DEPARTMENT and FALLBACK_DIAL are not set: a call to a number no department lists goes straight to ${dialplan}`;
}
