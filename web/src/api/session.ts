import { computed, signal } from '@preact/signals';

export interface SessionUser {
  id: number;
  login: string;
  name: string;
  role: 'director' | 'curator' | 'manager' | 'assistant' | string;
  departmentId: number | null;
  managerId: number | null;
}
export interface Session {
  token: string;
  expiresAt: string;
  user: SessionUser;
}

const KEY = 'sb.session';

function stored(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Session | null;
    return s && Date.parse(s.expiresAt) > Date.now() ? s : null;
  } catch {
    return null;
  }
}

/** The signed-in session, kept in localStorage so the tel: handler's tab finds it. */
export const session = signal<Session | null>(stored());
/** Why the user was sent to the sign-in screen (an expired token), shown there. */
export const signInReason = signal<'expired' | null>(null);
export const user = computed(() => session.value?.user ?? null);

export function setSession(next: Session | null): void {
  session.value = next;
  if (next) localStorage.setItem(KEY, JSON.stringify(next));
  else localStorage.removeItem(KEY);
}

/** The server refused the token (expired, revoked, account disabled): back to the sign-in screen. */
export function sessionEnded(): void {
  if (!session.value) return;
  setSession(null);
  signInReason.value = 'expired';
}

// Another tab signed in or out: follow it.
addEventListener('storage', (e) => {
  if (e.key === KEY) session.value = stored();
});
