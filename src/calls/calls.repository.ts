import type pg from 'pg';
import { cardColumns, cardFromRow, type ClientCard } from '../screenpop/client-card.js';
import type { CallSummary } from './call-summary.js';
import type { StoredTransfer } from './calls.table.js';

/** Who a call belongs to, resolved from the routing trace or the client base. */
export interface CallParties {
  /** The dialled number in E.164 (department_dids holds E.164), raw when it does not parse. */
  did: string | null;
  clientId: number | null;
  ownerId: number | null;
  initiatedById: number | null;
  answeredById: number | null;
  finalUserId: number | null;
  externalNumber: string | null;
  rang: Array<{ extension: string; userId: number | null; at: string }>;
  transfers: StoredTransfer[];
}

// Idempotent on (system_name, linkedid): a replayed or duplicated event, or a second instance
// finishing the same call after a failover, updates the row instead of adding one. Facts only
// move forward: coalesce keeps a known time or party when a later, poorer update (a Cdr-only
// reconstruction) lacks it. The client is the exception that proves it: the pipeline only ever
// replaces it with one named by stronger evidence (call-pipeline.ts), so the newest one wins.
const UPSERT_SQL = `
insert into calls (system_name, linkedid, direction, did, caller_number, external_number, client_id, owner_id,
  initiated_by_id, answered_by_id, final_user_id, started_at, ringing_at, answered_at, ended_at, talk_seconds,
  disposition, hangup_cause, failure_reason, rang, legs, recording_uniqueid, recording_file, transfers, updated_at)
values ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24, now())
on conflict (system_name, linkedid) do update set
  direction = excluded.direction,
  did = coalesce(excluded.did, calls.did),
  caller_number = coalesce(excluded.caller_number, calls.caller_number),
  external_number = coalesce(excluded.external_number, calls.external_number),
  client_id = coalesce(excluded.client_id, calls.client_id),
  owner_id = case when excluded.client_id is null then calls.owner_id else excluded.owner_id end,
  initiated_by_id = coalesce(calls.initiated_by_id, excluded.initiated_by_id),
  answered_by_id = coalesce(excluded.answered_by_id, calls.answered_by_id),
  final_user_id = coalesce(excluded.final_user_id, calls.final_user_id),
  started_at = least(calls.started_at, excluded.started_at),
  ringing_at = coalesce(calls.ringing_at, excluded.ringing_at),
  answered_at = coalesce(calls.answered_at, excluded.answered_at),
  ended_at = coalesce(excluded.ended_at, calls.ended_at),
  talk_seconds = coalesce(excluded.talk_seconds, calls.talk_seconds),
  disposition = coalesce(excluded.disposition, calls.disposition),
  hangup_cause = coalesce(excluded.hangup_cause, calls.hangup_cause),
  failure_reason = coalesce(excluded.failure_reason, calls.failure_reason),
  rang = case when jsonb_array_length(excluded.rang) >= jsonb_array_length(calls.rang) then excluded.rang else calls.rang end,
  legs = case when jsonb_array_length(excluded.legs) >= jsonb_array_length(calls.legs) then excluded.legs else calls.legs end,
  transfers = case when jsonb_array_length(excluded.transfers) >= jsonb_array_length(calls.transfers) then excluded.transfers else calls.transfers end,
  recording_uniqueid = coalesce(excluded.recording_uniqueid, calls.recording_uniqueid),
  recording_file = coalesce(excluded.recording_file, calls.recording_file),
  updated_at = now()
returning id, client_id as "clientId", owner_id as "ownerId"`;

export async function upsertCall(
  pool: pg.Pool,
  systemName: string,
  s: CallSummary,
  p: CallParties,
): Promise<{ id: number; clientId: number | null; ownerId: number | null }> {
  const { rows } = await pool.query({
    name: 'switchboard-upsert-call',
    text: UPSERT_SQL,
    values: [
      systemName, s.linkedid, s.direction, p.did, s.callerNumber, p.externalNumber, p.clientId, p.ownerId,
      p.initiatedById, p.answeredById, p.finalUserId, s.startedAt, s.ringingAt, s.answeredAt, s.endedAt, s.talkSeconds,
      s.disposition, s.hangupCause, s.failureReason, JSON.stringify(p.rang), JSON.stringify(s.legs),
      s.recording?.uniqueid ?? null, s.recording?.file ?? null, JSON.stringify(p.transfers),
    ],
  });
  return { ...rows[0], id: Number(rows[0].id) };
}

/** A call that turned out to be part of another (an attended transfer's own consultation call). */
export async function deleteCall(pool: pg.Pool, systemName: string, linkedid: string): Promise<void> {
  await pool.query('delete from calls where system_name = $1 and linkedid = $2', [systemName, linkedid]);
}

/** What named the call's client, strongest first (call-pipeline.ts settles on the strongest). */
export type ClientEvidence = 'clicked' | 'routed' | 'number';

export interface CallClientLookup {
  linkedid: string;
  /** The outside party in E.164: the caller (inbound) or the dialled customer (outbound). */
  number: string | null;
  /** A client already named by stronger evidence than this query can find: the click-to-call's
   *  own client, or the routing decision still queued in this instance's trace writer. */
  knownClientId: number | null;
}

export interface CallClientFound {
  /** A routing decision of this call is in the database: routing has had its say. */
  decided: boolean;
  client: { clientId: number; ownerId: number | null; card: ClientCard; routed: boolean } | null;
}

/**
 * The client of a call, with its card (screenpop/client-card.ts) in the same query, so the pop
 * waits for one round trip only. In order: the client already known, the one routing chose for
 * this Linkedid (it saw the tie-break), else the client with this number whose owner still works
 * here and who was active most recently (the routing directory's tie-break). A contact's number
 * is a row of client_phones like the client's own, so it finds the client, and the card names the
 * contact calling.
 */
export async function findCallClient(pool: pg.Pool, lookup: CallClientLookup, cardUrlTemplate: string): Promise<CallClientFound> {
  const { rows } = await pool.query({
    name: 'switchboard-call-client',
    text: `
      with chosen as (
        (select $3::int as "clientId", 0 as rank where $3::int is not null)
        union all
        (select r.client_id, 1 from route_decisions r
          where r.linkedid = $1 and r.client_id is not null order by r.step limit 1)
        union all
        (select c.id, 2 from client_phones p join clients c on c.id = p.client_id left join users o on o.id = c.owner_id
          where $2::text is not null and p.phone = $2
          order by coalesce(o.active, false) desc, c.last_activity_at desc nulls last, c.id limit 1)
        order by rank limit 1)
      select exists (select 1 from route_decisions r where r.linkedid = $1) as decided, chosen.rank,
             c.owner_id as "ownerId", ${cardColumns('$2::text')}
        from (select 1) one left join chosen on true left join clients c on c.id = chosen."clientId"`,
    values: [lookup.linkedid, lookup.number, lookup.knownClientId],
  });
  const row = rows[0];
  const decided = Boolean(row?.decided);
  if (!row || row.id === null) return { decided, client: null };
  return { decided, client: { clientId: row.id, ownerId: row.ownerId, card: cardFromRow(row, cardUrlTemplate), routed: row.rank === 1 } };
}

/**
 * A call with a client counts as activity (it breaks future ties in favour of this client) and
 * as a touch (lastContactAt, the client list's `stale` filter). greatest(): a late replayed
 * Cdr of an old call never moves either back.
 */
export async function touchClient(pool: pg.Pool, clientId: number, at: Date): Promise<void> {
  await pool.query(
    `update clients set last_activity_at = greatest(coalesce(last_activity_at, $2), $2),
                        last_contact_at = greatest(coalesce(last_contact_at, $2), $2)
      where id = $1`,
    [clientId, at],
  );
}
