// Whose call is this? The client of a live call, settled on the strongest evidence there is and
// upgraded as stronger evidence arrives, until nothing stronger can come.
//
// On a real PBX the first AMI events of a call can arrive before its routing decision is in the
// database (the trace writer batches every 50 ms), and before the number is known (the outbound
// leg of a click-to-call is dialled only once the user's phone answered). A lookup made then must
// not decide the call for good: "no client" is never final while a decision may still come.
import type { Logger } from 'pino';
import type pg from 'pg';
import { normalizePhone, type CountryCode } from '../phones/normalize.js';
import type { ClientCard } from '../screenpop/client-card.js';
import type { CallSummary } from './call-summary.js';
import { findCallClient, type ClientEvidence } from './calls.repository.js';

export interface CallClient {
  current: { clientId: number; ownerId: number | null; evidence: ClientEvidence } | null;
  card: ClientCard | null;
  /** Nothing stronger can come: the click-to-call named the client, or routing has decided. */
  settled: boolean;
  /** The lookup under way; concurrent steps of the call share it. */
  lookup: Promise<void> | null;
  lookedUp: boolean;
  /** What the last lookup knew; a step that joined it asks again only when this has changed. */
  lastEvidence: string | null;
}

export const newCallClient = (): CallClient => ({ current: null, card: null, settled: false, lookup: null, lookedUp: false, lastEvidence: null });

export interface CallClientDeps {
  pool: pg.Pool;
  /** Connections kept for lookups a pop waits for (call-pipeline.ts `popPool`). */
  popPool: pg.Pool;
  region: string;
  cardUrlTemplate: string;
  logger: Logger;
  /** This instance's routing decisions not yet written (trace-writer.ts `pending`). */
  pendingDecisions?: ((linkedid: string) => ReadonlyArray<{ clientId: number | null }>) | undefined;
  /** The client changed (from none, or to one named by stronger evidence). */
  onChange: (summary: CallSummary, previous: CallClient['current']) => void;
}

interface Evidence {
  clicked: number | null;
  /** This call's decisions still queued in the trace writer (any: routing has had its say). */
  queued: number;
  routedHere: number | null;
  number: string | null;
  key: string;
}

export function createCallClients(deps: CallClientDeps) {
  const normalise = (n: string | null) => (n ? normalizePhone(n, deps.region as CountryCode) ?? n : null);

  function evidenceOf(summary: CallSummary): Evidence {
    const clicked = summary.clickToCall?.clientId ?? null;
    const queued = clicked === null ? deps.pendingDecisions?.(summary.linkedid) ?? [] : [];
    const routedHere = queued.find((d) => d.clientId !== null)?.clientId ?? null;
    const number = normalise(summary.clientNumber);
    return { clicked, queued: queued.length, routedHere, number, key: `${clicked}/${queued.length}/${routedHere}/${number}/${summary.direction}` };
  }

  async function lookUp(cc: CallClient, summary: CallSummary, ev: Evidence, pool: pg.Pool): Promise<void> {
    cc.lookedUp = true;
    cc.lastEvidence = ev.key;
    // An internal call, or an outbound one whose number is not dialled yet: nothing to look for.
    if (ev.clicked === null && ev.queued === 0 && ev.number === null && summary.direction !== 'inbound') return;
    const found = await findCallClient(pool, { linkedid: summary.linkedid, number: ev.number, knownClientId: ev.clicked ?? ev.routedHere }, deps.cardUrlTemplate);
    const evidence: ClientEvidence = ev.clicked !== null ? 'clicked' : ev.routedHere !== null || found.client?.routed ? 'routed' : 'number';
    // An outbound call dialled from a phone is never routed: its dialled number is all there is.
    // So is it for a click of ours that named no client, once the click is tied to the call: by
    // our ChannelId from its first event, or by ActionID only when OriginateResponse comes (a
    // SWITCHBOARD_CALL_ID seen on the channel does not tell which client was clicked).
    const dialledByHand = summary.direction === 'outbound' && !summary.originated;
    const ourClick = summary.clickToCall?.userId != null;
    cc.settled = ev.clicked !== null || ev.queued > 0 || found.decided || ((dialledByHand || ourClick) && ev.number !== null);
    const client = found.client;
    if (!client) return;
    const previous = cc.current;
    cc.current = { clientId: client.clientId, ownerId: client.ownerId, evidence };
    if (client.clientId === previous?.clientId) return;
    cc.card = client.card;
    deps.logger.debug({ linkedid: summary.linkedid, clientId: client.clientId, evidence, replaced: previous?.clientId ?? null }, 'call client settled');
    deps.onChange(summary, previous);
  }

  const settle = async (cc: CallClient, summary: CallSummary, forPop = false): Promise<void> => {
    while (!cc.settled) {
      const ev = evidenceOf(summary);
      if (cc.lookup === null) {
        // The first look (a pop may join it) and the pops' own go through the pop's connections;
        // the later ones (answer, end, upserts) stay off them, so that no pop of another call
        // queues behind them.
        const pool = forPop || !cc.lookedUp ? deps.popPool : deps.pool;
        cc.lookup = lookUp(cc, summary, ev, pool).finally(() => {
          cc.lookup = null;
        });
        return cc.lookup;
      }
      await cc.lookup;
      if (cc.lastEvidence === ev.key) return;
    }
  };

  return {
    /**
     * Resolves once the call's client is as good as the evidence allows now. Every call of this
     * looks again while the client is not settled (another instance's decision may have been
     * stored meanwhile); one that finds a lookup under way joins it, and looks again only if it
     * knows more than that lookup did. `forPop`: a screen is waiting for the answer.
     */
    settle,
    /**
     * For the upserts, which come with every milestone: a lookup only when the call's own facts
     * have changed since the last one (the click tied to the call by a late OriginateResponse,
     * the customer's number dialled); otherwise the one under way, if any.
     */
    async refresh(cc: CallClient, summary: CallSummary): Promise<void> {
      if (!cc.settled && (!cc.lookedUp || evidenceOf(summary).key !== cc.lastEvidence)) return settle(cc, summary);
      await cc.lookup;
    },
  };
}

export type CallClients = ReturnType<typeof createCallClients>;
