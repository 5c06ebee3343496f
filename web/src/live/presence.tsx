import { signal } from '@preact/signals';
import { api, ok } from '../api/client.js';
import { user } from '../api/session.js';
import { t } from '../i18n/i18n.js';
import { toast } from '../ui/toast.js';
import { onFrame, type Frame } from './channel.js';

type Presence = 'available' | 'away' | 'dnd' | 'offline';
const PHONE_STATES = ['idle', 'ringing', 'inuse', 'busy', 'unavailable', 'unknown'] as const;
type PhoneState = (typeof PHONE_STATES)[number];
const myPresence = signal<Presence | null>(null);
const myPhone = signal<string | null>(null);

function mine(f: Record<string, unknown>): void {
  if (f.userId !== user.value?.id) return;
  myPresence.value = f.presence as Presence;
  myPhone.value = typeof f.deviceState === 'string' ? f.deviceState : myPhone.value;
}
onFrame('presence.snapshot', (f: Frame) => (f.users as Array<Record<string, unknown>>).forEach(mine));
onFrame('presence.changed', mine);

/** Available / away / do-not-disturb, with what the PBX says about the phone beside it. */
export function PresenceSwitch() {
  const set = async (presence: Presence) => {
    const me = user.value;
    if (!me) return;
    try {
      myPresence.value = ok(await api.PUT('/api/users/{id}/presence', { params: { path: { id: me.id } }, body: { presence } })).presence as Presence;
    } catch (err) {
      toast(t('common.error', { message: (err as Error).message }), 'error');
    }
  };
  return (
    <div class="presence">
      <select aria-label="presence" name="presence" value={myPresence.value ?? ''} onChange={(e) => void set(e.currentTarget.value as Presence)}>
        {myPresence.value === null && <option value="">…</option>}
        {(['available', 'away', 'dnd'] as const).map((p) => (
          <option key={p} value={p}>
            {t(`presence.${p}`)}
          </option>
        ))}
        {myPresence.value === 'offline' && <option value="offline">{t('presence.offline')}</option>}
      </select>
      <span class={`phone-state ${myPhone.value ?? 'unknown'}`} data-testid="phone-state">
        {myPhone.value ? t('presence.phone', { state: PHONE_STATES.includes(myPhone.value as PhoneState) ? t(`phone.${myPhone.value as PhoneState}`) : myPhone.value }) : t('presence.phone.unknown')}
      </span>
    </div>
  );
}
