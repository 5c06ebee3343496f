import { signal } from '@preact/signals';
import { t } from '../i18n/i18n.js';
import { alertIfHidden } from './alert.js';
import { onFrame, type Frame } from './channel.js';

export interface CardContact {
  id: number;
  name: string;
  position: string | null;
  decisionMaker: boolean;
  phones?: string[];
}
/** The pop card as the service sends it (src/screenpop/client-card.ts, README's frames). */
export interface ClientCard {
  clientId: number;
  name: string;
  company: string | null;
  important: boolean;
  status: string;
  owner: { id: number; name: string } | null;
  callingContact: CardContact | null;
  decisionMakers: Array<CardContact & { phones: string[] }>;
  sharedWith: Array<{ clientId: number; name: string; owner: { id: number; name: string } | null }>;
  /** Other clients with this number that this user may not open: only counted. */
  sharedWithHidden?: number;
  openDeals: Array<{ id: number; title: string; status: string; amount: string | null; currency: string; important: boolean }>;
  lastCalls: Array<{ id: number; at: string; direction: string; disposition: string | null; talkSeconds: number | null; who: string | null }>;
  lastNote: { text: string; at: string; author: string | null } | null;
  nextReminder: { id: number; dueAt: string; note: string } | null;
  url: string | null;
}

export interface Pop {
  linkedid: string;
  direction: string;
  number: string;
  client: ClientCard | null;
  state: 'ringing' | 'answered' | 'ended';
  answeredBy?: string;
}

/** The calls on this user's screen, newest first. */
export const pops = signal<Pop[]>([]);

function update(linkedid: string, change: (p: Pop) => Pop): void {
  pops.value = pops.value.map((p) => (p.linkedid === linkedid ? change(p) : p));
}

onFrame('call.ringing', (f: Frame) => {
  const linkedid = String(f.linkedid);
  const pop: Pop = { linkedid, direction: String(f.direction ?? 'inbound'), number: String(f.number ?? ''), client: (f.client as ClientCard | undefined) ?? null, state: 'ringing' };
  const known = pops.value.some((p) => p.linkedid === linkedid);
  pops.value = known ? pops.value.map((p) => (p.linkedid === linkedid ? { ...p, ...pop, state: p.state === 'answered' ? 'answered' : 'ringing' } : p)) : [pop, ...pops.value];
  if (!known) alertIfHidden(t('call.inbound'), pop.client?.name ?? pop.number, linkedid);
});
onFrame('call.client_linked', (f) => update(String(f.linkedid), (p) => ({ ...p, client: (f.client as ClientCard) ?? p.client })));
onFrame('call.answered', (f) => {
  const by = f.answeredBy as { name?: string; extension?: string } | undefined;
  update(String(f.linkedid), (p) => ({ ...p, state: 'answered', answeredBy: by?.name ?? by?.extension ?? '', client: (f.client as ClientCard | null | undefined) ?? p.client }));
});
onFrame('call.ended', (f) => update(String(f.linkedid), (p) => ({ ...p, state: 'ended' })));
// Answered elsewhere or the caller gave up before this phone was picked up.
onFrame('call.ringing_stopped', (f) => update(String(f.linkedid), (p) => (p.state === 'ringing' ? { ...p, state: 'ended' } : p)));
onFrame('call.merged', (f) => (pops.value = pops.value.filter((p) => p.linkedid !== String(f.linkedid))));

export const dismissPop = (linkedid: string): void => {
  pops.value = pops.value.filter((p) => p.linkedid !== linkedid);
};
export const linkClient = (linkedid: string, client: ClientCard): void => update(linkedid, (p) => ({ ...p, client }));

/**
 * Called once a card is on the screen: marks the next frame after the paint and measures from
 * the frame's arrival (channel.ts), so the browser test reads `pop:<linkedid>`.
 */
export function markPainted(linkedid: string): void {
  requestAnimationFrame(() => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      performance.mark(`paint:${linkedid}`);
      try {
        performance.measure(`pop:${linkedid}`, `frame:${linkedid}`, `paint:${linkedid}`);
      } catch {
        /* a pop restored without its frame mark */
      }
    };
    ch.port2.postMessage(null);
  });
}
