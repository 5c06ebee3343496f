import { signal } from '@preact/signals';
import { api, ok } from '../api/client.js';
import type { Answer } from '../api/types.js';
import { fmtDateTime, t } from '../i18n/i18n.js';
import { alertIfHidden } from '../live/alert.js';
import { onFrame, send } from '../live/channel.js';
import { toast } from '../ui/toast.js';

export type Reminder = Answer<'/api/reminders/', 'get'>['items'][number];

/** Reminders that came due and wait for snooze / done / call (the pop-up). */
export const dueReminders = signal<Reminder[]>([]);

onFrame('reminder.due', (f) => {
  const r = f.reminder as Reminder;
  if (!dueReminders.value.some((x) => x.id === r.id)) dueReminders.value = [...dueReminders.value, r];
  // Seen: the service stops re-sending it on every connect.
  send({ type: 'reminder.ack', id: r.id });
  alertIfHidden(t('reminders.due'), `${r.clientName ?? ''} ${r.note ?? ''}`.trim(), `reminder-${r.id}`);
});
onFrame('reminder.escalated', (f) => {
  const r = f.reminder as Reminder;
  if (!dueReminders.value.some((x) => x.id === r.id)) dueReminders.value = [...dueReminders.value, r];
});
onFrame('reminder.closed', (f) => closeLocally(Number(f.id)));

const closeLocally = (id: number) => (dueReminders.value = dueReminders.value.filter((x) => x.id !== id));

export async function snooze(id: number, minutes = 15): Promise<void> {
  try {
    ok(await api.POST('/api/reminders/{id}/snooze', { params: { path: { id } }, body: { minutes } }));
    closeLocally(id);
  } catch (err) {
    toast(t('common.error', { message: (err as Error).message }), 'error');
  }
}

export async function complete(id: number): Promise<void> {
  try {
    ok(await api.POST('/api/reminders/{id}/complete', { params: { path: { id } } }));
    closeLocally(id);
  } catch (err) {
    toast(t('common.error', { message: (err as Error).message }), 'error');
  }
}

/**
 * What a reminder says, in the reader's language: a callback the PBX made carries its missed
 * calls as data (count, last time), written here in the user's words and time zone; the note is
 * what people typed.
 */
export function reminderText(r: Pick<Reminder, 'kind' | 'note' | 'missedCalls' | 'lastMissedAt'>): string {
  const missed = r.kind === 'callback' && r.missedCalls > 0 ? t('reminders.missed', { count: r.missedCalls, at: fmtDateTime(r.lastMissedAt) }) : '';
  return [missed, r.note].filter(Boolean).join(' — ');
}
