import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client.js';
import { session } from '../api/session.js';
import type { Answer } from '../api/types.js';
import { codeText, fmtDateTime, fmtNumber, fmtSeconds, t } from '../i18n/i18n.js';
import { dealStatusText } from '../deals/statuses.js';
import { RecordingPlayer } from '../review/RecordingPlayer.js';
import { Phone } from '../ui/Phone.js';
import { toast } from '../ui/toast.js';

type Client = Answer<'/api/clients/{id}', 'get'>;
type Deal = Answer<'/api/deals/', 'get'>['items'][number];
type Note = Answer<'/api/clients/{id}/notes', 'get'>['items'][number];
type Call = Answer<'/api/calls/', 'get'>['items'][number];
type Change = Answer<'/api/clients/{id}/history', 'get'>['items'][number];
type DealFile = Answer<'/api/deals/{id}/files', 'get'>[number];
type Tab = 'contacts' | 'deals' | 'notes' | 'calls' | 'files' | 'history';

/** One client: contacts, deals, notes, files, calls with their recordings, history. */
export default function ClientCardScreen({ id }: { id: number }) {
  const [client, setClient] = useState<Client | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>('contacts');
  useEffect(() => {
    setClient(null);
    setError(null);
    api.GET('/api/clients/{id}', { params: { path: { id } } }).then(ok).then(setClient, (e: Error) => setError(e.message));
  }, [id]);
  if (error) return <p class="error">{t('common.error', { message: error })}</p>;
  if (!client) return <p class="muted">{t('common.loading')}</p>;
  return (
    <section class="client-card" data-testid="client-card">
      <a href="#/clients">← {t('clients.back')}</a>
      <h2>
        {client.name} {client.important && <span class="flag">{t('card.important')}</span>}
      </h2>
      <div class="muted">{[client.company, client.inn && `${t('clients.inn')} ${client.inn}`, codeText('status', client.status), client.temperature, ...client.tags].filter(Boolean).join(' · ')}</div>
      <dl class="facts">
        <dt>☎</dt>
        <dd>{client.phones.map((p) => <span key={p.phone}><Phone number={p.phone} clientId={client.id} /> </span>)}</dd>
        {client.emails.length > 0 && <><dt>@</dt><dd>{client.emails.map((e) => <a key={e} href={`mailto:${e}`}>{e} </a>)}</dd></>}
        {client.website && <><dt>www</dt><dd>{client.website}</dd></>}
        {client.address && <><dt>⌂</dt><dd>{client.address}</dd></>}
        <dt>{t('clients.nextContact')}</dt>
        <dd>{fmtDateTime(client.nextContactAt)}</dd>
        <dt>{t('clients.lastActivity')}</dt>
        <dd>{fmtDateTime(client.lastActivityAt)}</dd>
      </dl>
      <div class="tabs">
        {(['contacts', 'deals', 'notes', 'calls', 'files', 'history'] as const).map((x) => (
          <button key={x} class={tab === x ? 'active' : ''} onClick={() => setTab(x)}>
            {t(`clients.${x}`)}
          </button>
        ))}
      </div>
      {tab === 'contacts' && <Contacts client={client} />}
      {tab === 'deals' && <Deals clientId={id} />}
      {tab === 'notes' && <Notes clientId={id} />}
      {tab === 'calls' && <Calls clientId={id} />}
      {tab === 'files' && <Files clientId={id} />}
      {tab === 'history' && <History clientId={id} />}
    </section>
  );
}

function Contacts({ client }: { client: Client }) {
  return (
    <table>
      <tbody>
        {client.contacts.map((k) => (
          <tr key={k.id}>
            <td>
              {k.name} {k.decisionMaker && <span class="badge">{t('card.decisionMakers')}</span>}
            </td>
            <td class="muted">{k.position}</td>
            <td>{k.phones.map((p) => <div key={p.phone}><Phone number={p.phone} contactId={k.id} /></div>)}</td>
            <td>{k.emails.join(', ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function useLoad<T>(load: () => Promise<T>, deps: unknown[]): [T | null, () => void] {
  const [value, setValue] = useState<T | null>(null);
  const run = () => void load().then(setValue, (e: Error) => toast(t('common.error', { message: e.message }), 'error'));
  useEffect(run, deps);
  return [value, run];
}

function Deals({ clientId }: { clientId: number }) {
  const [deals] = useLoad(async () => ok(await api.GET('/api/deals/', { params: { query: { clientId } } })).items, [clientId]);
  return (
    <table>
      <tbody>
        {deals?.map((d: Deal) => (
          <tr key={d.id}>
            <td>{d.title}</td>
            <td>{dealStatusText(d.status)}</td>
            <td>{fmtNumber(d.amount)} {d.currency}</td>
            <td class="muted">{fmtDateTime(d.updatedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Notes({ clientId }: { clientId: number }) {
  const [notes, reload] = useLoad(async () => ok(await api.GET('/api/clients/{id}/notes', { params: { path: { id: clientId } } })).items, [clientId]);
  const [text, setText] = useState('');
  const add = async () => {
    ok(await api.POST('/api/clients/{id}/notes', { params: { path: { id: clientId } }, body: { text } }));
    setText('');
    reload();
  };
  return (
    <div>
      <textarea name="note" rows={2} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <button disabled={!text.trim()} onClick={() => void add()}>{t('clients.addNote')}</button>
      {notes?.map((n: Note) => (
        <p key={n.id}>
          <span class="muted">{fmtDateTime(n.createdAt)} · {codeText('note', n.kind)}</span>
          <br />
          {n.text}
        </p>
      ))}
    </div>
  );
}

function Calls({ clientId }: { clientId: number }) {
  const [calls] = useLoad(async () => ok(await api.GET('/api/calls/', { params: { query: { clientId } } })).items, [clientId]);
  const [playing, setPlaying] = useState<number | null>(null);
  return (
    <table>
      <tbody>
        {calls?.map((c: Call) => (
          <tr key={c.id}>
            <td>{fmtDateTime(c.startedAt)}</td>
            <td>{codeText('dir', c.direction)}</td>
            <td>{c.number && <Phone number={c.number} clientId={clientId} />}</td>
            <td>{codeText('disp', c.disposition)}</td>
            <td>{fmtSeconds(c.talkSeconds)}</td>
            <td>
              {c.recordingUrl && (playing === c.id ? <RecordingPlayer callId={c.id} /> : <button onClick={() => setPlaying(c.id)}>{t('calls.play')}</button>)}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Files({ clientId }: { clientId: number }) {
  const [files] = useLoad(async () => {
    const deals = ok(await api.GET('/api/deals/', { params: { query: { clientId } } })).items;
    const lists = await Promise.all(deals.map(async (d) => ok(await api.GET('/api/deals/{id}/files', { params: { path: { id: d.id } } })).map((f: DealFile) => ({ ...f, deal: d.title }))));
    return lists.flat();
  }, [clientId]);
  return (
    <table>
      <tbody>
        {files?.map((f) => (
          <tr key={f.id}>
            <td>
              {/* A link opens in a new tab, which sends no header: the token goes in the query, as the API allows. */}
              <a href={`/api/deals/${f.dealId}/files/${f.id}?token=${encodeURIComponent(session.value?.token ?? '')}`} target="_blank" rel="noopener noreferrer">{f.fileName}</a>
            </td>
            <td class="muted">{f.deal}</td>
            <td>{fmtNumber(f.size)}</td>
            <td class="muted">{fmtDateTime(f.createdAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function History({ clientId }: { clientId: number }) {
  const [items] = useLoad(async () => ok(await api.GET('/api/clients/{id}/history', { params: { path: { id: clientId } } })).items, [clientId]);
  return (
    <table>
      <tbody>
        {items?.map((h: Change) => (
          <tr key={h.id}>
            <td class="muted">{fmtDateTime(h.at)}</td>
            <td>{h.actorName ?? h.dbUser}</td>
            <td>{h.via}</td>
            <td>{h.table} {h.op}</td>
            <td class="muted">{JSON.stringify(h.changes)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
