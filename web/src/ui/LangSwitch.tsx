import { lang, setLang, t, type Lang } from '../i18n/i18n.js';

export function LangSwitch() {
  return (
    <select class="lang" aria-label={t('common.language')} name="lang" value={lang.value} onChange={(e) => setLang(e.currentTarget.value as Lang)}>
      <option value="ru">Русский</option>
      <option value="en">English</option>
    </select>
  );
}
