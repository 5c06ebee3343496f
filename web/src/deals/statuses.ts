import { signal } from '@preact/signals';
import { api, ok } from '../api/client.js';
import type { Answer } from '../api/types.js';
import { lang } from '../i18n/i18n.js';

type Status = Answer<'/api/deals/statuses', 'get'>[number];
const statuses = signal<Status[] | null>(null);
let asked = false;

/** A deal status in the user's language (labels from GET /api/deals/statuses, read once). */
export function dealStatusText(code: string): string {
  if (!asked) {
    asked = true;
    api.GET('/api/deals/statuses').then(ok).then((s) => (statuses.value = s), () => (asked = false));
  }
  const found = statuses.value?.find((s) => s.status === code);
  return found ? (lang.value === 'ru' ? found.ru : found.en) : code;
}
