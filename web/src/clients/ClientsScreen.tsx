import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client.js';
import type { paths } from '../api/schema.js';
import type { Answer } from '../api/types.js';
import { codeText, fmtDateTime, t } from '../i18n/i18n.js';
import { route } from '../router.js';
import { Phone } from '../ui/Phone.js';
import ClientCardScreen from './ClientCardScreen.js';

type Row = Answer<'/api/clients/search', 'get'>['items'][number];
type ClientQuery = paths['/api/clients/search']['get']['parameters']['query'];
const STATUSES = ['potential', 'current', 'former'] as const;
const TEMPERATURES = ['cold', 'warm', 'hot'] as const;

/** The client base: search with its filters (GET /api/clients/search); the server decides who sees what. */
export default function ClientsScreen() {
  const id = Number(route.value.path[1]);
  if (id > 0) return <ClientCardScreen id={id} />;
  return <ClientSearch />;
}

function ClientSearch() {
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('');
  const [temperature, setTemperature] = useState('');
  const [important, setImportant] = useState(false);
  const [overdue, setOverdue] = useState(false);
  const [rows, setRows] = useState<Row[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async (cursor?: string) => {
    try {
      const query = {
        limit: 50,
        ...(q.trim() && { q: q.trim() }),
        ...(status && { status: [status as (typeof STATUSES)[number]] }),
        ...(temperature && { temperature: [temperature as (typeof TEMPERATURES)[number]] }),
        ...(important && { important: true }),
        ...(overdue && { nextContactOverdue: true }),
        ...(cursor && { cursor }),
      } as ClientQuery;
      const page = ok(await api.GET('/api/clients/search', { params: { query } }));
      setRows(cursor ? [...(rows ?? []), ...page.items] : page.items);
      setNext(page.nextCursor ?? null);
      setError(null);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  useEffect(() => {
    const timer = setTimeout(() => void load(), 250);
    return () => clearTimeout(timer);
  }, [q, status, temperature, important, overdue]);

  return (
    <section>
      <div class="filters">
        <input name="q" type="search" placeholder={t('clients.search')} value={q} onInput={(e) => setQ(e.currentTarget.value)} size={36} />
        <label>
          {t('clients.status')}
          <select name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">{t('common.all')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>{codeText('status', s)}</option>
            ))}
          </select>
        </label>
        <label>
          {t('clients.temperature')}
          <select name="temperature" value={temperature} onChange={(e) => setTemperature(e.currentTarget.value)}>
            <option value="">{t('common.all')}</option>
            {TEMPERATURES.map((x) => (
              <option key={x} value={x}>{codeText('temperature', x)}</option>
            ))}
          </select>
        </label>
        <label>
          <input type="checkbox" name="important" checked={important} onChange={(e) => setImportant(e.currentTarget.checked)} /> {t('clients.importantOnly')}
        </label>
        <label>
          <input type="checkbox" name="overdue" checked={overdue} onChange={(e) => setOverdue(e.currentTarget.checked)} /> {t('clients.overdue')}
        </label>
      </div>
      {error && <p class="error">{t('common.error', { message: error })}</p>}
      {rows && rows.length === 0 && <p class="muted">{t('clients.none')}</p>}
      <table data-testid="clients">
        <tbody>
          {rows?.map((c) => (
            <tr key={c.id} data-testid="client-row">
              <td>
                <a href={`#/clients/${c.id}`}>{c.name}</a> {c.important && <span class="flag">!</span>}
                {c.company && <div class="muted">{c.company}</div>}
              </td>
              <td>{c.phones.map((p) => <div key={p.phone}><Phone number={p.phone} clientId={c.id} /></div>)}</td>
              <td>{codeText('status', c.status)}</td>
              <td class="muted">{fmtDateTime(c.nextContactAt)}</td>
              <td class="muted">{fmtDateTime(c.lastActivityAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {next && <button onClick={() => void load(next)}>…</button>}
    </section>
  );
}
