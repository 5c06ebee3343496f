import type pg from 'pg';

export interface ClientCard {
  clientId: number;
  name: string;
  company: string | null;
  important: boolean;
  owner: { id: number; name: string } | null;
  openDeals: Array<{ id: number; title: string; status: string; amount: string | null }>;
  lastCalls: Array<{ id: number; at: string; direction: string; disposition: string | null; talkSeconds: number | null; who: string | null }>;
  lastNote: { text: string; at: string; author: string | null } | null;
  nextReminder: { id: number; dueAt: string; note: string } | null;
  /** The company's own CRM page for this client, from CARD_URL_TEMPLATE. */
  url: string | null;
}

// One round trip: the card must be on the screen while the phone is still ringing.
const CARD_SQL = {
  name: 'switchboard-client-card',
  text: `
select c.id, c.name, c.company, c.important,
  (select json_build_object('id', u.id, 'name', u.name) from users u where u.id = c.owner_id) as owner,
  (select coalesce(json_agg(json_build_object('id', d.id, 'title', d.title, 'status', d.status, 'amount', d.amount) order by d.updated_at desc), '[]'::json)
     from deals d where d.client_id = c.id and d.status in ('new', 'negotiation', 'proposal')) as open_deals,
  (select coalesce(json_agg(x order by x.at desc), '[]'::json) from (
     select k.id, k.started_at as at, k.direction, k.disposition, k.talk_seconds as "talkSeconds", u.name as who
     from calls k left join users u on u.id = coalesce(k.final_user_id, k.answered_by_id, k.initiated_by_id)
     where k.client_id = c.id and k.ended_at is not null
     order by k.started_at desc limit 5) x) as last_calls,
  (select json_build_object('text', n.text, 'at', n.created_at, 'author', u.name)
     from client_notes n left join users u on u.id = n.author_id
     where n.client_id = c.id order by n.created_at desc limit 1) as last_note,
  (select json_build_object('id', r.id, 'dueAt', r.due_at, 'note', r.note)
     from reminders r where r.client_id = c.id and r.status = 'pending' order by r.due_at limit 1) as next_reminder
from clients c where c.id = $1`,
};

export async function loadClientCard(pool: pg.Pool, clientId: number, cardUrlTemplate: string): Promise<ClientCard | null> {
  const { rows } = await pool.query({ ...CARD_SQL, values: [clientId] });
  const row = rows[0];
  if (!row) return null;
  return {
    clientId: row.id,
    name: row.name,
    company: row.company,
    important: row.important,
    owner: row.owner,
    openDeals: row.open_deals,
    lastCalls: row.last_calls,
    lastNote: row.last_note,
    nextReminder: row.next_reminder,
    url: cardUrl(cardUrlTemplate, row.id),
  };
}

export function cardUrl(template: string, clientId: number): string | null {
  return template ? template.replaceAll('{client_id}', encodeURIComponent(String(clientId))) : null;
}
