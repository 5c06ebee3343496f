import { api, ok, ApiError } from '../api/client.js';
import { t } from '../i18n/i18n.js';
import { toast } from '../ui/toast.js';
import { onFrame } from './channel.js';

export interface CallTarget {
  /** The number as shown; a masked one (`+7 916 ***-**-67`) is not sent, the client's id picks it. */
  to?: string;
  clientId?: number;
  contactId?: number;
}

/** Click-to-call: rings the user's phone, then the number (POST /api/calls/originate). */
export async function callNumber(target: CallTarget): Promise<boolean> {
  const body = { ...target };
  if (body.to?.includes('*')) delete body.to;
  try {
    const res = ok(await api.POST('/api/calls/originate', { body }));
    toast(t('c2c.calling', { number: res.client?.name ? `${res.client.name} (${res.number})` : res.number }));
    return true;
  } catch (err) {
    toast(t('c2c.failed', { reason: err instanceof ApiError ? err.message : String(err) }), 'error');
    return false;
  }
}

onFrame('originate.failed', (f) => toast(t('c2c.failed', { reason: String(f.reason ?? f.cause ?? '') }), 'error'));

/**
 * Offers the console as the browser's tel: handler. The URL holds no token: GET /c2c without one
 * sends the tab to `#/call?to=…`, which uses the session this browser holds (or asks to sign in).
 */
export function registerTelHandler(): boolean {
  const nav = navigator as Navigator & { registerProtocolHandler?: (scheme: string, url: string) => void };
  if (!nav.registerProtocolHandler) return false;
  nav.registerProtocolHandler('tel', `${location.origin}/c2c?number=%s`);
  toast(t('c2c.registered'));
  return true;
}
