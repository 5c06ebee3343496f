import { t } from '../i18n/i18n.js';
import { PopCard } from './PopCard.js';
import { pops } from './pops.js';

export function LivePanel() {
  return (
    <section class="live-panel">
      {pops.value.length === 0 ? <p class="muted">{t('live.idle')}</p> : pops.value.map((p) => <PopCard key={p.linkedid} pop={p} />)}
    </section>
  );
}
