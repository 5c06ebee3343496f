import { useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';
import { go, route } from '../router.js';
import { callNumber } from './click-to-call.js';

/** `#/call?to=tel:+7…`: where the tel: handler (GET /c2c without a token) lands. */
export function CallRoute() {
  const raw = route.value.query.get('to') ?? '';
  const number = decodeURIComponent(raw).replace(/^tel:/i, '');
  const [busy, setBusy] = useState(false);
  // A click is asked for: any page may open a tel: link, only the user decides to call.
  return (
    <section class="call-route">
      <h2>{t('c2c.confirm', { number })}</h2>
      <button
        autoFocus
        disabled={busy || !number}
        onClick={async () => {
          setBusy(true);
          if (await callNumber({ to: number })) go('#/live');
          setBusy(false);
        }}
      >
        {t('c2c.start')}
      </button>
    </section>
  );
}
