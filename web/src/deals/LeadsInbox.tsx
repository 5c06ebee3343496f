import { useEffect, useState } from 'preact/hooks';
import { api, ok } from '../api/client.js';
import type { Answer } from '../api/types.js';
import { fmtDateTime, t } from '../i18n/i18n.js';
import { onFrame } from '../live/channel.js';
import { Phone } from '../ui/Phone.js';
import { toast } from '../ui/toast.js';

type Lead = Answer<'/api/intake/leads', 'get'>[number];
type User = Answer<'/api/users/', 'get'>[number];

/** The curator's inbox: leads from the websites that wait for an owner; new ones arrive live. */
export default function LeadsInbox() {
  const [leads, setLeads] = useState<Lead[] | null>(null);
  const [people, setPeople] = useState<User[]>([]);
  const [choice, setChoice] = useState<Record<number, number>>({});
  const load = async () => setLeads(ok(await api.GET('/api/intake/leads')).filter((l) => l.assignedToId === null));
  useEffect(() => {
    void load();
    api.GET('/api/users/', { params: { query: { active: true } } }).then((r) => setPeople(ok(r).filter((u) => u.role === 'manager' || u.role === 'curator')));
    const offs = [onFrame('lead.new', () => void load()), onFrame('lead.assigned', () => void load())];
    return () => offs.forEach((off) => off());
  }, []);
  const assign = async (lead: Lead) => {
    const userId = choice[lead.id];
    if (!userId) return;
    try {
      ok(await api.POST('/api/intake/leads/{id}/assign', { params: { path: { id: lead.id } }, body: { userId } }));
      void load();
    } catch (err) {
      toast(t('common.error', { message: (err as Error).message }), 'error');
    }
  };
  if (!leads) return <p class="muted">{t('common.loading')}</p>;
  return (
    <section>
      <h2>{t('leads.title')}</h2>
      {leads.length === 0 && <p class="muted">{t('leads.none')}</p>}
      <table>
        <tbody>
          {leads.map((l) => (
            <tr key={l.id} data-testid="lead-row">
              <td class="muted">{fmtDateTime(l.createdAt)}</td>
              <td>{l.name}</td>
              <td>{l.phone && <Phone number={l.phone} />}</td>
              <td>{l.email}</td>
              <td>{l.message}</td>
              <td>
                <select name={`assign-${l.id}`} value={choice[l.id] ?? ''} onChange={(e) => setChoice({ ...choice, [l.id]: Number(e.currentTarget.value) })}>
                  <option value="">…</option>
                  {people.map((u) => (
                    <option key={u.id} value={u.id}>{u.name}</option>
                  ))}
                </select>
                <button disabled={!choice[l.id]} onClick={() => void assign(l)}>{t('leads.assign')}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
