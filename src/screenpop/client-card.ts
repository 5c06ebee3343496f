import { seesClientOwnedBy } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { OPEN_DEAL_STATUSES_SQL } from '../deals/deal-statuses.js';

export interface CardContact {
  id: number;
  name: string;
  position: string | null;
  decisionMaker: boolean;
}

export interface ClientCard {
  clientId: number;
  name: string;
  company: string | null;
  important: boolean;
  status: string;
  temperature: string | null;
  nextContactAt: string | null;
  tags: string[];
  owner: { id: number; name: string } | null;
  /** The contact person whose number is calling (or being called); null for the client's own numbers. */
  callingContact: CardContact | null;
  /** Who decides at this client, with their numbers: the manager may ask for them. */
  decisionMakers: Array<CardContact & { phones: string[] }>;
  /**
   * The other clients with a number of this card (a company's switchboard, a family phone): the
   * manager answering sees that the caller may be one of them. Most recent activity first.
   * Each screen gets only those its user may open (`cardForViewer`); the others are counted.
   */
  sharedWith: Array<{ clientId: number; name: string; owner: { id: number; name: string; departmentId: number | null } | null }>;
  /** Other clients with this number that the screen's user may not open. */
  sharedWithHidden: number;
  openDeals: Array<{ id: number; title: string; status: string; amount: string | null; currency: string; important: boolean }>;
  lastCalls: Array<{ id: number; at: string; direction: string; disposition: string | null; talkSeconds: number | null; who: string | null }>;
  lastNote: { text: string; at: string; author: string | null } | null;
  nextReminder: { id: number; dueAt: string; note: string } | null;
  /** The company's own CRM page for this client, from CARD_URL_TEMPLATE. */
  url: string | null;
}

// The card's columns, over a client row `c`: each part is a subquery, so a card is one round
// trip, and with the call's client lookup in front of it (calls.repository.ts) the pop needs one
// query in all: the card must be on the screen while the phone is still ringing.
// A number typed into many cards must not make the pop list them all (routing keeps 20 too).
const SHARED_WITH_MAX = 20;
const DECISION_MAKERS_MAX = 5;
// Constants of ours, not input: safe to write into the text (and the plan stays the same).

/**
 * The card's columns over a client row `c`; `number` is an SQL expression giving the call's
 * outside number in E.164 (a parameter such as `$2::text`, or `null::text`), which names the
 * calling contact.
 */
export const cardColumns = (number: string) => `c.id, c.name, c.company, c.important, c.status, c.temperature,
  c.next_contact_at as "nextContactAt", c.tags,
  (select json_build_object('id', u.id, 'name', u.name) from users u where u.id = c.owner_id) as owner,
  (select json_build_object('id', k.id, 'name', k.name, 'position', k.position, 'decisionMaker', k.decision_maker)
     from client_phones p join client_contacts k on k.id = p.contact_id
    where p.client_id = c.id and p.phone = ${number} limit 1) as calling_contact,
  (select coalesce(json_agg(json_build_object('id', k.id, 'name', k.name, 'position', k.position, 'decisionMaker', true,
            'phones', (select coalesce(json_agg(p.phone order by p.id), '[]'::json) from client_phones p where p.contact_id = k.id))
          order by k.id), '[]'::json)
     from (select k.id, k.name, k.position from client_contacts k where k.client_id = c.id and k.decision_maker
            order by k.id limit ${DECISION_MAKERS_MAX}) k) as decision_makers,
  (select coalesce(json_agg(json_build_object('clientId', o.id, 'name', o.name,
            'owner', (select json_build_object('id', u.id, 'name', u.name, 'departmentId', u.department_id) from users u where u.id = o.owner_id))
          order by o.last_activity_at desc nulls last, o.id), '[]'::json)
     from (select o.id, o.name, o.owner_id, o.last_activity_at from clients o
            where o.id <> c.id and exists (select 1 from client_phones mine join client_phones theirs on theirs.phone = mine.phone
                                            where mine.client_id = c.id and theirs.client_id = o.id)
            order by o.last_activity_at desc nulls last, o.id limit ${SHARED_WITH_MAX}) o) as shared_with,
  (select coalesce(json_agg(json_build_object('id', d.id, 'title', d.title, 'status', d.status, 'amount', d.amount, 'currency', d.currency, 'important', d.important) order by d.updated_at desc), '[]'::json)
     from deals d where d.client_id = c.id and d.status in (${OPEN_DEAL_STATUSES_SQL})) as open_deals,
  (select coalesce(json_agg(x order by x.at desc), '[]'::json) from (
     select k.id, k.started_at as at, k.direction, k.disposition, k.talk_seconds as "talkSeconds", u.name as who
     from calls k left join users u on u.id = coalesce(k.final_user_id, k.answered_by_id, k.initiated_by_id)
     where k.client_id = c.id and k.ended_at is not null
     order by k.started_at desc limit 5) x) as last_calls,
  (select json_build_object('text', n.text, 'at', n.created_at, 'author', u.name)
     from client_notes n left join users u on u.id = n.author_id
     where n.client_id = c.id order by n.created_at desc limit 1) as last_note,
  (select json_build_object('id', r.id, 'dueAt', r.due_at, 'note', r.note)
     from reminders r where r.client_id = c.id and r.status = 'pending' order by r.due_at limit 1) as next_reminder`;

/** A row selected with CARD_COLUMNS as a card. */
export function cardFromRow(row: Record<string, unknown>, cardUrlTemplate: string): ClientCard {
  return {
    clientId: row.id as number,
    name: row.name as string,
    company: row.company as string | null,
    important: row.important as boolean,
    status: row.status as string,
    temperature: row.temperature as string | null,
    nextContactAt: row.nextContactAt == null ? null : new Date(row.nextContactAt as Date | string).toISOString(),
    tags: row.tags as string[],
    owner: row.owner as ClientCard['owner'],
    callingContact: row.calling_contact as ClientCard['callingContact'],
    decisionMakers: row.decision_makers as ClientCard['decisionMakers'],
    sharedWith: row.shared_with as ClientCard['sharedWith'],
    sharedWithHidden: 0,
    openDeals: row.open_deals as ClientCard['openDeals'],
    lastCalls: row.last_calls as ClientCard['lastCalls'],
    lastNote: row.last_note as ClientCard['lastNote'],
    nextReminder: row.next_reminder as ClientCard['nextReminder'],
    url: cardUrl(cardUrlTemplate, row.id as number),
  };
}

export function cardUrl(template: string, clientId: number): string | null {
  return template ? template.replaceAll('{client_id}', encodeURIComponent(String(clientId))) : null;
}

/**
 * The card as one screen may show it. The call's own client is shown to whoever's phone rings
 * (they are talking to that caller), but the other clients with the same number are a list of
 * the base like any other: the visibility rule decides, and the hidden ones are only counted.
 */
export function cardForViewer(card: ClientCard, viewer: Pick<Viewer, 'id' | 'role' | 'departmentId' | 'managerId'>): ClientCard {
  if (card.sharedWith.length === 0) return card;
  const visible = card.sharedWith.filter((other) => seesClientOwnedBy(viewer, other.owner));
  if (visible.length === card.sharedWith.length) return card;
  return { ...card, sharedWith: visible, sharedWithHidden: card.sharedWithHidden + card.sharedWith.length - visible.length };
}

/** Whether a frame's JSON carries a card with other clients of the same number (rare: shared numbers only). */
export const listsSharedClients = (text: string): boolean => text.includes('"sharedWith":[{');

/**
 * A frame's JSON as one screen may show it: a frame whose card lists other clients with the
 * caller's number is cut for this viewer; any other (nearly all) is returned as it is, unparsed.
 */
export function frameTextForViewer(text: string, viewer: Pick<Viewer, 'id' | 'role' | 'departmentId' | 'managerId'>): string {
  if (!listsSharedClients(text)) return text;
  const frame = JSON.parse(text) as { client?: ClientCard | null };
  if (!frame.client || !Array.isArray(frame.client.sharedWith)) return text;
  const shown = cardForViewer(frame.client, viewer);
  return shown === frame.client ? text : JSON.stringify({ ...frame, client: shown });
}
