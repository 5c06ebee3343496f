import { useLayoutEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client.js';
import { codeText, fmtDateTime, fmtNumber, fmtSeconds, t } from '../i18n/i18n.js';
import { dealStatusText } from '../deals/statuses.js';
import { Phone } from '../ui/Phone.js';
import { toast } from '../ui/toast.js';
import { dismissPop, linkClient, markPainted, type ClientCard, type Pop } from './pops.js';

const stateText = { ringing: 'call.ringing', answered: 'call.answered', ended: 'call.ended' } as const;

/** One call's card: who calls, what is open with them, and a note typed while talking. */
export function PopCard({ pop }: { pop: Pop }) {
  useLayoutEffect(() => markPainted(pop.linkedid), [pop.linkedid]);
  const c = pop.client;
  return (
    <article class={`pop ${pop.state}`} data-linkedid={pop.linkedid} data-testid="pop">
      <header>
        <span class="badge">{t(stateText[pop.state])}</span>
        {pop.state === 'answered' && pop.answeredBy && <span class="muted">{pop.answeredBy}</span>}
        <span>{t(pop.direction === 'outbound' ? 'call.outbound' : 'call.inbound')}</span>
        <Phone number={pop.number} {...(c && { clientId: c.clientId })} />
        {pop.state === 'ended' && (
          <button class="link" onClick={() => dismissPop(pop.linkedid)}>
            {t('call.dismiss')}
          </button>
        )}
      </header>
      {c ? <Card card={c} /> : <NewClient pop={pop} />}
      {c && <CallNotes clientId={c.clientId} linkedid={pop.linkedid} />}
    </article>
  );
}

function Card({ card: c }: { card: ClientCard }) {
  return (
    <div class="card">
      <h2>
        <a href={`#/clients/${c.clientId}`} class="client-name">{c.name}</a>
        {c.important && <span class="flag">{t('card.important')}</span>}
      </h2>
      {c.company && <div class="muted">{c.company}</div>}
      {c.owner && <div class="muted">{t('card.owner', { name: c.owner.name })}</div>}
      {c.callingContact && <div>{t('card.callingContact', { name: `${c.callingContact.name}${c.callingContact.position ? `, ${c.callingContact.position}` : ''}` })}</div>}
      {c.decisionMakers.length > 0 && (
        <section>
          <h3>{t('card.decisionMakers')}</h3>
          {c.decisionMakers.map((d) => (
            <div key={d.id}>
              {d.name} {d.position && <span class="muted">{d.position}</span>} {d.phones.map((p) => <Phone key={p} number={p} contactId={d.id} />)}
            </div>
          ))}
        </section>
      )}
      {c.openDeals.length > 0 && (
        <section>
          <h3>{t('card.openDeals')}</h3>
          {c.openDeals.map((d) => (
            <div key={d.id}>
              {d.important && <span class="flag">{t('card.important')}</span>} {d.title} · {dealStatusText(d.status)} {d.amount && `· ${fmtNumber(d.amount)} ${d.currency}`}
            </div>
          ))}
        </section>
      )}
      {c.lastCalls.length > 0 && (
        <section>
          <h3>{t('card.lastCalls')}</h3>
          {c.lastCalls.map((k) => (
            <div key={k.id} class="muted">
              {fmtDateTime(k.at)} · {codeText('dir', k.direction)} · {codeText('disp', k.disposition)} · {fmtSeconds(k.talkSeconds)} {k.who && `· ${k.who}`}
            </div>
          ))}
        </section>
      )}
      {c.lastNote && (
        <section>
          <h3>{t('card.lastNote')}</h3>
          <div>{c.lastNote.text}</div>
          <div class="muted">{fmtDateTime(c.lastNote.at)} {c.lastNote.author}</div>
        </section>
      )}
      {c.nextReminder && (
        <section>
          <h3>{t('card.nextReminder')}</h3>
          <div>
            {fmtDateTime(c.nextReminder.dueAt)} {c.nextReminder.note}
          </div>
        </section>
      )}
      {(c.sharedWith.length > 0 || (c.sharedWithHidden ?? 0) > 0) && (
        <section>
          <h3>{t('card.sharedWith')}</h3>
          {c.sharedWith.map((s) => (
            <div key={s.clientId}>
              {s.name} {s.owner && <span class="muted">({s.owner.name})</span>}
            </div>
          ))}
          {(c.sharedWithHidden ?? 0) > 0 && <div class="muted">{t('card.sharedHidden', { count: c.sharedWithHidden ?? 0 })}</div>}
        </section>
      )}
      {c.url && (
        <a href={c.url} target="_blank" rel="noopener noreferrer">
          {t('card.external')}
        </a>
      )}
    </div>
  );
}

function CallNotes({ clientId, linkedid }: { clientId: number; linkedid: string }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const save = async () => {
    if (!text.trim()) return;
    setBusy(true);
    try {
      ok(await api.POST('/api/clients/{id}/notes', { params: { path: { id: clientId } }, body: { kind: 'call_summary', text } }));
      setText('');
      toast(t('call.noteSaved'));
    } catch (err) {
      toast(t('common.error', { message: (err as Error).message }), 'error');
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="notes">
      <label>
        {t('call.notes')}
        <textarea name={`note-${linkedid}`} value={text} onInput={(e) => setText(e.currentTarget.value)} rows={3} />
      </label>
      <button onClick={save} disabled={busy || !text.trim()}>
        {t('call.saveNote')}
      </button>
    </div>
  );
}

/** A caller nobody knows: a client with this number, one click away. */
function NewClient({ pop }: { pop: Pop }) {
  const [name, setName] = useState('');
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      const created = ok(await api.POST('/api/clients/', { body: { name: name.trim(), phones: [pop.number] } }));
      linkClient(pop.linkedid, {
        clientId: created.id, name: created.name, company: created.company ?? null, important: created.important, status: created.status,
        owner: null, callingContact: null, decisionMakers: [], sharedWith: [], openDeals: [], lastCalls: [], lastNote: null, nextReminder: null, url: null,
      });
    } catch (err) {
      toast(t('common.error', { message: (err as Error).message }), 'error');
    }
  };
  return (
    <form class="card new-client" onSubmit={create}>
      <h2>{t('call.unknown')}</h2>
      <label>
        {t('call.clientName')}
        <input name="clientName" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
      </label>
      <input name="clientPhone" value={pop.number} readOnly />
      <button type="submit" disabled={!name.trim()}>
        {t('call.createClient')}
      </button>
    </form>
  );
}
