import type { ComponentType } from 'preact';
import { api } from './api/client.js';
import { session, setSession, user } from './api/session.js';
import { t } from './i18n/i18n.js';
import { askNotificationPermission } from './live/alert.js';
import { CallRoute } from './live/CallRoute.js';
import { registerTelHandler } from './live/click-to-call.js';
import { LivePanel } from './live/LivePanel.js';
import { pops } from './live/pops.js';
import { LiveState } from './live/LiveState.js';
import './live/notices.js';
import { PresenceSwitch } from './live/presence.js';
import { DuePopup } from './reminders/DuePopup.js';
import { RemindersScreen } from './reminders/RemindersScreen.js';
import { route } from './router.js';
import { SignIn } from './SignIn.js';
import { LangSwitch } from './ui/LangSwitch.js';
import { lazyScreen } from './ui/Lazy.js';
import { Toasts } from './ui/toast.js';

const ClientsScreen = lazyScreen(() => import('./clients/ClientsScreen.js'));
const DealsBoard = lazyScreen(() => import('./deals/DealsBoard.js'));
const LeadsInbox = lazyScreen(() => import('./deals/LeadsInbox.js'));
const CallsScreen = lazyScreen(() => import('./review/CallsScreen.js'));
const AdminScreen = lazyScreen(() => import('./admin/AdminScreen.js'));
const ReviewScreen = lazyScreen(() => import('./review/ReviewScreen.js'));
const StatsScreen = lazyScreen(() => import('./stats/StatsScreen.js'));
const ImportScreen = lazyScreen(() => import('./import/ImportScreen.js'));

type Role = 'director' | 'curator' | 'manager' | 'assistant';
interface Screen {
  path: string;
  label: Parameters<typeof t>[0];
  view: ComponentType;
  roles?: Role[];
}
const SCREENS: Screen[] = [
  { path: 'live', label: 'nav.live', view: LivePanel },
  { path: 'clients', label: 'nav.clients', view: ClientsScreen },
  { path: 'deals', label: 'nav.deals', view: DealsBoard },
  { path: 'leads', label: 'nav.leads', view: LeadsInbox, roles: ['director', 'curator'] },
  { path: 'reminders', label: 'nav.reminders', view: RemindersScreen },
  { path: 'calls', label: 'nav.calls', view: CallsScreen },
  { path: 'review', label: 'nav.review', view: ReviewScreen, roles: ['director', 'curator'] },
  { path: 'stats', label: 'nav.stats', view: StatsScreen, roles: ['director', 'curator'] },
  { path: 'import', label: 'nav.import', view: ImportScreen, roles: ['director', 'curator'] },
  { path: 'admin', label: 'nav.admin', view: AdminScreen, roles: ['director'] },
];

async function signOut() {
  await api.POST('/api/auth/logout').catch(() => undefined);
  setSession(null);
}

export function App() {
  if (!session.value) return <SignIn />;
  const me = user.value!;
  const [first] = route.value.path;
  const screens = SCREENS.filter((s) => !s.roles || s.roles.includes(me.role as Role));
  const current = first === 'call' ? null : (screens.find((s) => s.path === first) ?? screens[0]!);
  const View = current?.view ?? CallRoute;
  return (
    <div class="shell" onClickCapture={askNotificationPermission}>
      <header class="top">
        <strong>{t('app.title')}</strong>
        <nav>
          {screens.map((s) => (
            <a key={s.path} href={`#/${s.path}`} class={current === s ? 'active' : ''}>
              {t(s.label)}
            </a>
          ))}
        </nav>
        <span class="spacer" />
        <LiveState />
        <PresenceSwitch />
        <LangSwitch />
        <button class="link" onClick={() => registerTelHandler()} title={t('c2c.register')}>
          tel:
        </button>
        <span class="me" data-testid="me">{me.name}</span>
        <button class="link" onClick={() => void signOut()}>
          {t('signin.out')}
        </button>
      </header>
      <main>
        {/* The pops stay visible over every screen but the live panel itself. */}
        {current?.path !== 'live' && <LivePanelDock />}
        <View />
      </main>
      <DuePopup />
      <Toasts />
    </div>
  );
}

function LivePanelDock() {
  if (pops.value.length === 0) return null;
  return (
    <aside class="dock">
      <LivePanel />
    </aside>
  );
}
