import { computed, signal } from '@preact/signals';
import { en, type TextKey } from './en.js';
import { ru } from './ru.js';

export type Lang = 'ru' | 'en';
const dictionaries: Record<Lang, Record<TextKey, string>> = { en, ru };
const STORAGE_KEY = 'sb.lang';

/** Russian when the browser prefers it (its first language that we have), unless the user chose. */
function initialLang(): Lang {
  const chosen = localStorage.getItem(STORAGE_KEY);
  if (chosen === 'ru' || chosen === 'en') return chosen;
  for (const l of navigator.languages ?? [navigator.language]) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'ru' || base === 'en') return base;
  }
  return 'en';
}

export const lang = signal<Lang>(initialLang());

export function setLang(next: Lang): void {
  lang.value = next;
  localStorage.setItem(STORAGE_KEY, next);
  document.documentElement.lang = next;
}
document.documentElement.lang = lang.value;

/** The text for `key` in the current language, `{name}` placeholders filled in. */
export function t(key: TextKey, params?: Record<string, string | number>): string {
  const text = dictionaries[lang.value][key];
  return params ? text.replace(/\{(\w+)\}/g, (_, p: string) => String(params[p] ?? '')) : text;
}

// Dates and numbers in the user's language, in the browser's own time zone.
const dateTime = computed(() => new Intl.DateTimeFormat(lang.value, { dateStyle: 'short', timeStyle: 'short' }));
const numbers = computed(() => new Intl.NumberFormat(lang.value));

export const fmtDateTime = (iso: string | null | undefined): string => (iso ? dateTime.value.format(new Date(iso)) : t('common.noData'));
export const fmtNumber = (n: number | string | null | undefined): string => (n === null || n === undefined || n === '' ? t('common.noData') : numbers.value.format(Number(n)));
export const fmtSeconds = (s: number | null | undefined): string => (s == null ? t('common.noData') : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`);

/** A code from the API (`inbound`, `answered`, `current`) in words, when the dictionary has it. */
export function codeText(kind: 'dir' | 'disp' | 'status' | 'temperature' | 'role' | 'note' | 'importStatus', code: string | null | undefined): string {
  if (!code) return '';
  const key = `${kind}.${code}`;
  return key in en ? t(key as TextKey) : code;
}
