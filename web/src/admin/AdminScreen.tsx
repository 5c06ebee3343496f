import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client.js';
import type { Answer } from '../api/types.js';
import { codeText, fmtDateTime, lang, t } from '../i18n/i18n.js';
import { Phone } from '../ui/Phone.js';
import { toast } from '../ui/toast.js';

type Tab = 'users' | 'departments' | 'sites' | 'webhooks' | 'settings' | 'audit';

/** The director's screens: users, departments (DIDs, hours), web-form sites and keys, webhooks, audit. */
export default function AdminScreen() {
  const [tab, setTab] = useState<Tab>('users');
  return (
    <section>
      <div class="tabs">
        {(['users', 'departments', 'sites', 'webhooks', 'settings', 'audit'] as const).map((x) => (
          <button key={x} class={tab === x ? 'active' : ''} onClick={() => setTab(x)}>
            {t(`admin.${x}`)}
          </button>
        ))}
      </div>
      {tab === 'users' && <Users />}
      {tab === 'departments' && <Departments />}
      {tab === 'sites' && <Sites />}
      {tab === 'webhooks' && <Webhooks />}
      {tab === 'settings' && <Settings />}
      {tab === 'audit' && <Audit />}
    </section>
  );
}

const fail = (err: unknown) => toast(t('common.error', { message: (err as Error).message }), 'error');

function useList<T>(load: () => Promise<T[]>): [T[], () => void] {
  const [items, setItems] = useState<T[]>([]);
  const reload = () => void load().then(setItems, fail);
  useEffect(reload, []);
  return [items, reload];
}

function Users() {
  const [users] = useList(async () => ok(await api.GET('/api/users/')));
  return (
    <table data-testid="users">
      <thead>
        <tr>
          <th>{t('admin.person')}</th>
          <th>{t('admin.login')}</th>
          <th>{t('admin.role')}</th>
          <th>{t('admin.extension')}</th>
          <th>{t('admin.mobile')}</th>
          <th>{t('admin.presence')}</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {users.map((u: Answer<'/api/users/', 'get'>[number]) => (
          <tr key={u.id}>
            <td>{u.name}</td>
            <td class="muted">{u.login}</td>
            <td>{codeText('role', u.role)}</td>
            <td>{u.extension}</td>
            <td>{u.mobile && <Phone number={u.mobile} />}</td>
            <td>{t(`presence.${u.presence}`)}</td>
            <td>{u.active ? '' : t('admin.inactive')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

type Department = Answer<'/api/departments/', 'get'>[number];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

/** A weekday's short name in the reader's language (`пн`, `Mon`): 2024-01-01 was a Monday. */
function weekdayName(index: number): string {
  return new Intl.DateTimeFormat(lang.value, { weekday: 'short', timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1 + index)));
}

/** `пн 09:00–18:00, вт …` from the weekly schedule (src/routing/business-hours.ts). */
function hoursText(hours: Department['businessHours']): string {
  if (!hours) return '24/7';
  const week = hours as Record<string, string[][] | undefined>;
  return WEEKDAYS.flatMap((d, i) => (week[d]?.length ? [`${weekdayName(i)} ${week[d]!.map(([a, b]) => `${a}–${b}`).join(' ')}`] : [])).join(', ');
}

function Departments() {
  const [items, reload] = useList(async () => ok(await api.GET('/api/departments/')));
  const [name, setName] = useState('');
  const [queue, setQueue] = useState('');
  const [dids, setDids] = useState('');
  const [hours, setHours] = useState('09:00-18:00');
  const [timeZone, setTimeZone] = useState(Intl.DateTimeFormat().resolvedOptions().timeZone);
  const add = async () => {
    // Monday to Friday at the hours given; an empty field: always open.
    const range = hours.trim() ? hours.split('-').map((x) => x.trim()) : null;
    const businessHours = range ? Object.fromEntries(WEEKDAYS.slice(0, 5).map((d) => [d, [range]])) : null;
    try {
      ok(await api.POST('/api/departments/', { body: { name, line: { kind: 'queue', target: queue }, dids: dids.split(/[\s,]+/).filter(Boolean), businessHours, timeZone } }));
      setName('');
      setDids('');
      reload();
    } catch (err) {
      fail(err);
    }
  };
  return (
    <div>
      <div class="filters">
        <input name="deptName" placeholder={t('admin.name')} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <input name="deptQueue" placeholder={t('admin.queue')} value={queue} onInput={(e) => setQueue(e.currentTarget.value)} size={10} />
        <input name="deptDids" placeholder={t('admin.dids')} value={dids} onInput={(e) => setDids(e.currentTarget.value)} />
        <input name="deptHours" placeholder={t('admin.hours')} value={hours} onInput={(e) => setHours(e.currentTarget.value)} size={12} />
        <input name="deptTimeZone" value={timeZone} onInput={(e) => setTimeZone(e.currentTarget.value)} size={16} />
        <button disabled={!name.trim() || !queue.trim()} onClick={() => void add()}>{t('admin.add')}</button>
      </div>
      <table data-testid="departments">
        <tbody>
          {items.map((d: Department) => (
            <tr key={d.id}>
              <td>{d.name}</td>
              <td>{d.dids.map((x) => <div key={x}><Phone number={x} /></div>)}</td>
              <td class="muted">{hoursText(d.businessHours)} ({d.timeZone})</td>
              <td class="muted">{d.line.kind} {d.line.target}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Sites() {
  const [items, reload] = useList(async () => ok(await api.GET('/api/intake/sites/')));
  const [departments] = useList(async () => ok(await api.GET('/api/departments/')));
  const [name, setName] = useState('');
  const [origin, setOrigin] = useState('');
  const [departmentId, setDepartmentId] = useState(0);
  const [key, setKey] = useState<string | null>(null);
  const add = async () => {
    try {
      const created = ok(await api.POST('/api/intake/sites/', { body: { name, departmentId, allowedOrigin: origin } }));
      setKey(created.key);
      setName('');
      setOrigin('');
      reload();
    } catch (err) {
      fail(err);
    }
  };
  return (
    <div>
      <div class="filters">
        <input name="siteName" placeholder={t('admin.name')} value={name} onInput={(e) => setName(e.currentTarget.value)} />
        <input name="siteOrigin" placeholder="https://site.example.ru" value={origin} onInput={(e) => setOrigin(e.currentTarget.value)} />
        <select name="siteDepartment" value={departmentId} onChange={(e) => setDepartmentId(Number(e.currentTarget.value))}>
          <option value={0}>…</option>
          {departments.map((d) => <option key={d.id} value={d.id}>{d.name}</option>)}
        </select>
        <button disabled={!name.trim() || !origin.trim() || !departmentId} onClick={() => void add()}>{t('admin.add')}</button>
      </div>
      {key && <p class="warn" data-testid="site-key">{t('admin.key', { key })}</p>}
      <table data-testid="sites">
        <tbody>
          {items.map((s: Answer<'/api/intake/sites/', 'get'>[number]) => (
            <tr key={s.id}>
              <td>{s.name}</td>
              <td class="muted">{s.allowedOrigin}</td>
              <td class="muted">{s.keyHint}…</td>
              <td>{s.active ? '✓' : '✕'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Webhooks() {
  const [items, reload] = useList(async () => ok(await api.GET('/api/webhooks/')));
  const [url, setUrl] = useState('');
  const add = async () => {
    try {
      ok(await api.POST('/api/webhooks/', { body: { url, events: ['call.started', 'call.answered', 'call.ended'] } }));
      setUrl('');
      reload();
    } catch (err) {
      fail(err);
    }
  };
  return (
    <div>
      <div class="filters">
        <input name="webhookUrl" type="url" placeholder="https://crm.example.com/hooks" size={40} value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
        <button disabled={!url} onClick={() => void add()}>{t('admin.add')}</button>
      </div>
      <table data-testid="webhooks">
        <tbody>
          {items.map((w: Answer<'/api/webhooks/', 'get'>[number]) => (
            <tr key={w.id}>
              <td>{w.url}</td>
              <td>{w.events.join(', ')}</td>
              <td>{w.active ? '✓' : '✕'}</td>
              <td class="muted">{fmtDateTime(w.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The director's switches for protecting the base (PATCH /api/settings); saved on each change. */
function Settings() {
  const [value, setValue] = useState<Answer<'/api/settings/', 'get'> | null>(null);
  useEffect(() => void api.GET('/api/settings/').then((r) => setValue(ok(r)), fail), []);
  if (!value) return <p>{t('common.loading')}</p>;
  const change = async (patch: Partial<Answer<'/api/settings/', 'get'>>) => {
    try {
      setValue(ok(await api.PATCH('/api/settings/', { body: patch })));
      toast(t('admin.saved'));
    } catch (err) {
      fail(err);
    }
  };
  return (
    <div data-testid="settings">
      <label>
        <input type="checkbox" name="maskPhonesInLists" checked={value.maskPhonesInLists} onChange={(e) => void change({ maskPhonesInLists: e.currentTarget.checked })} />{' '}
        {t('admin.maskPhones')}
      </label>
      <br />
      <label>
        <input type="checkbox" name="suspendOnScraping" checked={value.suspendOnScraping} onChange={(e) => void change({ suspendOnScraping: e.currentTarget.checked })} />{' '}
        {t('admin.suspendOnScraping')}
      </label>
    </div>
  );
}

function Audit() {
  const [items] = useList(async () => ok(await api.GET('/api/audit/', { params: { query: { limit: 100 } } })).items);
  return (
    <table data-testid="audit">
      <tbody>
        {items.map((a: Answer<'/api/audit/', 'get'>['items'][number]) => (
          <tr key={a.id}>
            <td class="muted">{fmtDateTime(a.at)}</td>
            <td>{a.actorName}</td>
            <td>{a.action}</td>
            <td>{a.entity} {a.entityId}</td>
            <td class="muted">{a.ip}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
