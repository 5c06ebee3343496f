import { fmtDateTime, t } from '../i18n/i18n.js';
import { callNumber } from '../live/click-to-call.js';
import { Phone } from '../ui/Phone.js';
import { complete, dueReminders, reminderText, snooze } from './reminders.js';

/** The pop-up at due time: snooze, done, or call the client now. */
export function DuePopup() {
  if (dueReminders.value.length === 0) return null;
  return (
    <div class="due-popup" role="alertdialog" aria-label={t('reminders.due')}>
      {dueReminders.value.map((r) => (
        <div class="due" key={r.id} data-testid="reminder-due">
          <strong>{t('reminders.due')}</strong> <span class="muted">{fmtDateTime(r.dueAt)}</span>
          <div>{r.clientName && <a href={`#/clients/${r.clientId}`}>{r.clientName}</a>} {r.phone && <Phone number={r.phone} {...(r.clientId && { clientId: r.clientId })} />}</div>
          <p>{reminderText(r)}</p>
          <div class="actions">
            <button onClick={() => void snooze(r.id)}>{t('reminders.snooze')}</button>
            <button onClick={() => void complete(r.id)}>{t('reminders.done')}</button>
            {(r.phone || r.clientId) && (
              <button onClick={() => void callNumber({ ...(r.phone && { to: r.phone }), ...(r.clientId && { clientId: r.clientId }) })}>{t('reminders.call')}</button>
            )}
          </div>
        </div>
      ))}
    </div>
  );
}
