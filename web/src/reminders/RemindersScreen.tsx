import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client.js';
import { fmtDateTime, t } from '../i18n/i18n.js';
import { Phone } from '../ui/Phone.js';
import { complete, dueReminders, reminderText, snooze, type Reminder } from './reminders.js';

export function RemindersScreen() {
  const [items, setItems] = useState<Reminder[] | null>(null);
  const load = async () => setItems(ok(await api.GET('/api/reminders/', { params: { query: { status: ['pending', 'fired'] } } })).items);
  // Reloaded when a reminder came due or was closed from the pop-up.
  useEffect(() => void load(), [dueReminders.value.length]);
  if (!items) return <p>{t('common.loading')}</p>;
  return (
    <section>
      <h2>{t('reminders.title')}</h2>
      {items.length === 0 && <p class="muted">{t('reminders.none')}</p>}
      <table>
        <tbody>
          {items.map((r) => (
            <tr key={r.id} data-testid="reminder-row">
              <td>{fmtDateTime(r.dueAt)}</td>
              <td>{t(`reminders.kind.${r.kind}`)}</td>
              <td>{r.clientName && <a href={`#/clients/${r.clientId}`}>{r.clientName}</a>}</td>
              <td>{r.phone && <Phone number={r.phone} {...(r.clientId && { clientId: r.clientId })} />}</td>
              <td>{reminderText(r)}</td>
              <td>
                <button onClick={() => void snooze(r.id).then(load)}>{t('reminders.snooze')}</button>
                <button onClick={() => void complete(r.id).then(load)}>{t('reminders.done')}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
