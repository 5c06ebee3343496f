import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client.js';
import type { Answer } from '../api/types.js';
import { fmtNumber, lang, t } from '../i18n/i18n.js';
import { toast } from '../ui/toast.js';

type Deal = Answer<'/api/deals/', 'get'>['items'][number];
type Status = Answer<'/api/deals/statuses', 'get'>[number];

/** Deals as a board by pipeline status; dropping a card on a column changes its status. */
export default function DealsBoard() {
  const [statuses, setStatuses] = useState<Status[]>([]);
  const [deals, setDeals] = useState<Deal[]>([]);
  const [over, setOver] = useState<string | null>(null);
  const load = async () => {
    setStatuses(ok(await api.GET('/api/deals/statuses')));
    setDeals(ok(await api.GET('/api/deals/', { params: { query: { limit: 200 } } })).items);
  };
  useEffect(() => void load(), []);

  const move = async (dealId: number, status: string) => {
    const deal = deals.find((d) => d.id === dealId);
    if (!deal || deal.status === status) return;
    setDeals(deals.map((d) => (d.id === dealId ? { ...d, status: status as Deal['status'] } : d)));
    try {
      ok(await api.POST('/api/deals/{id}/status', { params: { path: { id: dealId } }, body: { status: status as Deal['status'] } }));
    } catch (err) {
      toast(t('common.error', { message: (err as Error).message }), 'error');
      void load();
    }
  };

  return (
    <section>
      <h2>{t('deals.board')}</h2>
      <p class="muted">{t('deals.dragHint')}</p>
      <div class="board">
        {statuses.map((s) => (
          <div
            key={s.status}
            class={`column ${over === s.status ? 'over' : ''}`}
            data-status={s.status}
            onDragOver={(e) => {
              e.preventDefault();
              setOver(s.status);
            }}
            onDragLeave={() => setOver(null)}
            onDrop={(e) => {
              e.preventDefault();
              setOver(null);
              void move(Number(e.dataTransfer?.getData('text/plain')), s.status);
            }}
          >
            <h3>{lang.value === 'ru' ? s.ru : s.en}</h3>
            {deals
              .filter((d) => d.status === s.status)
              .map((d) => (
                <div key={d.id} class="deal" draggable data-deal={d.id} onDragStart={(e) => e.dataTransfer?.setData('text/plain', String(d.id))}>
                  <a href={`#/clients/${d.clientId}`}>{d.title}</a> {d.important && <span class="flag">{t('card.important')}</span>}
                  {d.amount !== null && <div class="muted">{fmtNumber(d.amount)} {d.currency}</div>}
                </div>
              ))}
          </div>
        ))}
      </div>
    </section>
  );
}
