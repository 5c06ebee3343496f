import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n/i18n.js';

/**
 * A screen loaded on first use: the initial script holds the shell, the live panel and the
 * reminders only (the bundle budget: 150 KB gzipped), the rest comes when opened.
 */
export function lazyScreen(load: () => Promise<{ default: ComponentType }>): ComponentType {
  let loaded: ComponentType | null = null;
  return function LazyScreen() {
    const [Screen, setScreen] = useState<ComponentType | null>(() => loaded);
    const [error, setError] = useState<string | null>(null);
    useEffect(() => {
      if (!Screen) load().then((m) => setScreen(() => (loaded = m.default)), (e: Error) => setError(e.message));
    }, []);
    if (error) return <p class="error">{t('common.error', { message: error })}</p>;
    return Screen ? <Screen /> : <p class="muted">{t('common.loading')}</p>;
  };
}
