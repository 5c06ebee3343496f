import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client.js';
import type { Answer } from '../api/types.js';
import { codeText, fmtDateTime, fmtNumber, fmtSeconds, t } from '../i18n/i18n.js';
import { toast } from '../ui/toast.js';
import { RecordingPlayer } from './RecordingPlayer.js';

type QueueItem = Answer<'/api/review/queue', 'get'>['items'][number];
type Scorecard = Answer<'/api/scorecards', 'get'>[number];
type Review = Answer<'/api/calls/{id}/reviews', 'get'>[number];
type Mark = boolean | number | null;

const fail = (err: unknown) => toast(t('common.error', { message: (err as Error).message }), 'error');

/** Supervisors: recorded calls to review, the player, the scorecard, comments pinned at a moment. */
export default function ReviewScreen() {
  const [reviewed, setReviewed] = useState<'' | 'true' | 'false'>('false');
  const [managerId, setManagerId] = useState(0);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [people, setPeople] = useState<Array<{ id: number; name: string }>>([]);
  useEffect(() => void api.GET('/api/users/').then(ok).then((u) => setPeople(u.filter((x) => x.role === 'manager')), fail), []);
  const [items, setItems] = useState<QueueItem[]>([]);
  const [open, setOpen] = useState<QueueItem | null>(null);
  const load = () =>
    api.GET('/api/review/queue', { params: { query: { limit: 100, ...(reviewed && { reviewed: reviewed === 'true' }), ...(managerId > 0 && { managerId }), ...(from && { from: new Date(`${from}T00:00`).toISOString() }), ...(to && { to: new Date(Date.parse(`${to}T00:00`) + 86_400_000).toISOString() }) } } }).then(ok).then((r) => setItems(r.items), fail);
  useEffect(() => void load(), [reviewed, managerId, from, to]);
  return (
    <section>
      <h2>{t('review.title')}</h2>
      <div class="filters">
        <select name="reviewed" value={reviewed} onChange={(e) => setReviewed(e.currentTarget.value as typeof reviewed)}>
          <option value="false">{t('review.notReviewed')}</option>
          <option value="true">{t('review.reviewed')}</option>
          <option value="">{t('common.all')}</option>
        </select>
        <input type="date" name="from" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        <input type="date" name="to" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
        <select name="manager" value={managerId} onChange={(e) => setManagerId(Number(e.currentTarget.value))}>
          <option value={0}>{t('common.all')}</option>
          {people.map((p) => (
            <option key={p.id} value={p.id}>{p.name}</option>
          ))}
        </select>
      </div>
      {open && <CallReview call={open} onSaved={() => void load()} />}
      <table>
        <tbody>
          {items.map((c) => (
            <tr key={c.id} data-testid="review-row" class={open?.id === c.id ? 'active' : ''}>
              <td>{fmtDateTime(c.startedAt)}</td>
              <td>{c.managerName}</td>
              <td>{c.clientName}</td>
              <td>{codeText('dir', c.direction)} · {codeText('disp', c.disposition)}</td>
              <td>{fmtSeconds(c.talkSeconds)}</td>
              <td>{c.lastTotal === null ? '' : fmtNumber(c.lastTotal)}</td>
              <td><button onClick={() => setOpen(c)}>{t('review.open')}</button></td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function CallReview({ call, onSaved }: { call: QueueItem; onSaved: () => void }) {
  const [cards, setCards] = useState<Scorecard[]>([]);
  const [cardId, setCardId] = useState(0);
  const [answers, setAnswers] = useState<Record<string, Mark>>({});
  const [summary, setSummary] = useState('');
  const [reviews, setReviews] = useState<Review[]>([]);
  const [now, setNow] = useState(0);
  const [comment, setComment] = useState('');
  const [pending, setPending] = useState<Array<{ atSecond: number; text: string }>>([]);
  const loadReviews = () => api.GET('/api/calls/{id}/reviews', { params: { path: { id: call.id } } }).then(ok).then(setReviews, fail);
  useEffect(() => {
    api.GET('/api/scorecards').then(ok).then((list) => {
      setCards(list);
      setCardId(list[0]?.id ?? 0);
    }, fail);
    void loadReviews();
    setPending([]);
  }, [call.id]);
  const card = cards.find((c) => c.id === cardId);
  const markers = [...reviews.flatMap((r) => r.comments.flatMap((c) => (c.atSecond === null ? [] : [{ atSeconds: c.atSecond, label: c.text }]))), ...pending.map((c) => ({ atSeconds: c.atSecond, label: c.text }))];

  /** A comment at the moment the player is at: kept with the review, or added to the last one. */
  const pin = async () => {
    const entry = { atSecond: Math.round(now * 10) / 10, text: comment.trim() };
    const last = reviews.at(-1);
    try {
      if (last) {
        ok(await api.POST('/api/reviews/{id}/comments', { params: { path: { id: last.id } }, body: entry }));
        void loadReviews();
      } else setPending([...pending, entry]);
      setComment('');
    } catch (err) {
      fail(err);
    }
  };
  const save = async () => {
    try {
      ok(await api.POST('/api/calls/{id}/reviews', { params: { path: { id: call.id } }, body: { scorecardId: cardId, answers, summary, comments: pending } }));
      setPending([]);
      toast(t('review.saved'));
      void loadReviews();
      onSaved();
    } catch (err) {
      fail(err);
    }
  };
  return (
    <div class="review" data-testid="call-review">
      <h3>{call.managerName} · {call.clientName} · {fmtDateTime(call.startedAt)}</h3>
      <RecordingPlayer callId={call.id} markers={markers} onTime={setNow} />
      <div class="filters">
        <input name="comment" size={50} placeholder={t('review.commentHere', { at: fmtSeconds(Math.floor(now)) })} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
        <button disabled={!comment.trim()} onClick={() => void pin()}>{t('review.pin', { at: fmtSeconds(Math.floor(now)) })}</button>
      </div>
      <ul class="comments">
        {reviews.flatMap((r) => r.comments).map((c) => (
          <li key={c.id} data-testid="review-comment">{c.atSecond !== null && `${fmtSeconds(Math.floor(c.atSecond))} — `}{c.text}</li>
        ))}
        {pending.map((c, i) => (
          <li key={`p${i}`} class="muted">{fmtSeconds(Math.floor(c.atSecond))} — {c.text}</li>
        ))}
      </ul>
      {reviews.map((r) => (
        <p key={r.id} class="muted">{r.scorecardName}: {fmtNumber(r.total)} · {r.summary}</p>
      ))}
      <select name="scorecard" value={cardId} onChange={(e) => setCardId(Number(e.currentTarget.value))}>
        {cards.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
      </select>
      {card?.criteria.map((c) => (
        <label key={c.key}>
          {c.label}{' '}
          {c.kind === 'yes_no' ? (
            <input type="checkbox" name={`crit-${c.key}`} checked={answers[c.key] === true} onChange={(e) => setAnswers({ ...answers, [c.key]: e.currentTarget.checked })} />
          ) : (
            <input type="number" name={`crit-${c.key}`} min={0} max={c.max ?? 5} value={typeof answers[c.key] === 'number' ? String(answers[c.key]) : ''} onInput={(e) => setAnswers({ ...answers, [c.key]: Number(e.currentTarget.value) })} />
          )}
        </label>
      ))}
      <textarea name="summary" rows={2} value={summary} onInput={(e) => setSummary(e.currentTarget.value)} />
      <button disabled={!cardId} onClick={() => void save()}>{t('review.save')}</button>
    </div>
  );
}
