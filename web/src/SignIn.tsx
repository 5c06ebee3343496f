import { useState } from 'preact/hooks';
import { api, ok } from './api/client.js';
import { setSession, signInReason, type Session } from './api/session.js';
import { t } from './i18n/i18n.js';
import { LangSwitch } from './ui/LangSwitch.js';

export function SignIn() {
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const res = ok(await api.POST('/api/auth/login', { body: { login, password } }));
      signInReason.value = null;
      // The hash (a #/call?to=… from the tel: handler) is kept: the user lands where they were going.
      setSession(res as Session);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="signin" onSubmit={submit}>
      <h1>{t('app.title')}</h1>
      <LangSwitch />
      <h2>{t('signin.title')}</h2>
      {signInReason.value === 'expired' && <p class="warn">{t('signin.expired')}</p>}
      <label>
        {t('signin.login')}
        <input name="login" autoComplete="username" value={login} onInput={(e) => setLogin(e.currentTarget.value)} required />
      </label>
      <label>
        {t('signin.password')}
        <input name="password" type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
      </label>
      {error && <p class="error" role="alert">{error}</p>}
      <button type="submit">{t('signin.submit')}</button>
    </form>
  );
}
