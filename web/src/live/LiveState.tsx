import { t } from '../i18n/i18n.js';
import { liveState } from './channel.js';

const text = { online: 'live.online', connecting: 'live.connecting', offline: 'live.offline' } as const;

/** The live channel's state: a manager must see when pops cannot reach them. */
export function LiveState() {
  return (
    <span class={`live-state ${liveState.value}`} data-testid="live-state" data-state={liveState.value}>
      {t(text[liveState.value])}
    </span>
  );
}
