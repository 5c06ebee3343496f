import { randomBytes, randomUUID } from 'node:crypto';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Viewer } from '../auth/viewer.js';
import { masksPhonesInLists } from '../auth/access.js';
import { clientContacts, clientPhones, clients } from '../clients/clients.table.js';
import { maskPhoneForList } from '../phones/mask.js';
import type { Settings } from '../settings/settings.service.js';
import { visibleClients } from '../clients/clients.service.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import { AmiError } from '../pbx/actions.js';
import { users } from '../users/users.table.js';
import { buildClickToCall, ClickToCallError, parseAutoAnswerHeader, parseTarget, type ClickToCallConfig } from './originate-call.js';
import type { OriginateJob } from './originate-relay.js';

export interface ClickToCallResult {
  /** Ours (SWITCHBOARD_CALL_ID); `originate.failed` frames carry it. */
  callId: string;
  /** The call's Linkedid (the ChannelId we gave the first leg): GET /api/calls/{linkedid}. */
  linkedid: string;
  /** E.164; masked (`+7 916 ***-**-67`) when called by id by someone who sees lists masked. */
  number: string;
  client: { id: number; name: string } | null;
}

/** A number as typed, or a client's or contact's id to call without knowing the number. */
export interface CallInput {
  to?: string | undefined;
  clientId?: number | undefined;
  contactId?: number | undefined;
}

export interface ClickToCallDeps {
  db: Db;
  config: ClickToCallConfig & Pick<Config, 'REDIS_PREFIX'> & Partial<Pick<Config, 'MASK_PHONES_IN_LISTS'>>;
  /** Command connection, for the rate limit. */
  redis: Redis;
  /** The director's `maskPhonesInLists`; MASK_PHONES_IN_LISTS when absent. */
  settings?: Pick<Settings, 'current'>;
  relay: { send(job: OriginateJob): Promise<{ actionId: string }> };
  logger: Logger;
  /** Originates one user may start per minute. */
  perMinute?: number;
}

/** 429 with the stable code RATE_LIMITED (the generic error handler passes 4xx codes through). */
export class RateLimitedError extends Error {
  readonly statusCode = 429;
  readonly code = 'RATE_LIMITED';
  constructor(readonly retryAfterSeconds: number, limit: number) {
    super(`at most ${limit} calls a minute can be started; wait ${retryAfterSeconds} s`);
  }
}

const PER_MINUTE = 10;

export function createClickToCall(deps: ClickToCallDeps) {
  const { db, config } = deps;
  const log = deps.logger.child({ feature: 'clicktocall' });
  const perMinute = deps.perMinute ?? PER_MINUTE;
  // A wrong header must stop the start, not the first click.
  parseAutoAnswerHeader(config.AUTO_ANSWER_HEADER);

  /** The client the card on the phone names. With an id: visible to the viewer and owning the
   *  number. Without: the viewer's most recently active client with that number, if any. */
  async function clientFor(viewer: Viewer, e164: string, clientId: number | undefined) {
    if (clientId !== undefined) {
      const [client] = await db.select({ id: clients.id, name: clients.name }).from(clients).where(and(eq(clients.id, clientId), visibleClients(db, viewer)));
      if (!client) throw new AppError('NOT_FOUND', `client ${clientId} does not exist`);
      const [phone] = await db.select({ id: clientPhones.id }).from(clientPhones).where(and(eq(clientPhones.clientId, clientId), eq(clientPhones.phone, e164)));
      if (!phone) throw new AppError('VALIDATION', `${e164} is not a phone of client ${clientId}; add it to the card, or call without clientId`);
      return client;
    }
    const [client] = await db
      .select({ id: clients.id, name: clients.name })
      .from(clientPhones)
      .innerJoin(clients, eq(clients.id, clientPhones.clientId))
      .where(and(eq(clientPhones.phone, e164), visibleClients(db, viewer)))
      .orderBy(sql`${clients.lastActivityAt} desc nulls last`, asc(clients.id))
      .limit(1);
    return client ?? null;
  }

  // A sliding minute per user (a sorted set of attempt times), so a burst across the turn of a
  // minute cannot double the limit. Refused attempts count too: a script that keeps clicking
  // stays refused. Redis being down must not stop calls (the relay needs Redis as well and
  // reports that itself), so the limit then fails open.
  async function checkRate(userId: number): Promise<void> {
    const key = `${config.REDIS_PREFIX}:c2c-rate:${userId}`;
    const now = Date.now();
    try {
      const result = await deps.redis
        .multi()
        .zremrangebyscore(key, 0, now - 60_000)
        .zadd(key, now, `${now}-${randomBytes(4).toString('hex')}`)
        .zcard(key)
        .zrange(key, 0, 0, 'WITHSCORES')
        .pexpire(key, 60_000)
        .exec();
      const count = Number(result?.[2]?.[1] ?? 0);
      if (count > perMinute) {
        const oldest = Number((result?.[3]?.[1] as string[] | undefined)?.[1] ?? now);
        throw new RateLimitedError(Math.max(1, Math.ceil((oldest + 60_000 - now) / 1000)), perMinute);
      }
    } catch (err) {
      if (err instanceof RateLimitedError) throw err;
      log.warn({ err }, 'click-to-call rate limit unavailable');
    }
  }

  /**
   * The number to call when the click names a client or contact instead of a number (a manager
   * who sees numbers masked never holds the full one): the contact's first phone, or the
   * client's own first phone before its contacts'. 404 when the viewer may not see it.
   */
  async function phoneOf(viewer: Viewer, input: CallInput): Promise<{ phone: string; clientId: number }> {
    if (input.contactId === undefined && input.clientId === undefined) throw new AppError('VALIDATION', 'give `to`, `clientId` or `contactId`');
    const [first] = await db
      .select({ phone: clientPhones.phone, clientId: clientPhones.clientId })
      .from(clientPhones)
      .innerJoin(clients, eq(clients.id, clientPhones.clientId))
      .where(
        and(
          input.contactId !== undefined ? eq(clientPhones.contactId, input.contactId) : undefined,
          input.clientId !== undefined ? eq(clientPhones.clientId, input.clientId) : undefined,
          visibleClients(db, viewer),
        ),
      )
      .orderBy(sql`${clientPhones.contactId} is not null`, asc(clientPhones.id))
      .limit(1);
    if (first) return first;
    // Nothing to call: a visible client without phones is a data problem, anything else is hidden.
    if (input.contactId === undefined) {
      const [client] = await db.select({ id: clients.id }).from(clients).where(and(eq(clients.id, input.clientId!), visibleClients(db, viewer)));
      if (client) throw new AppError('VALIDATION', `client ${input.clientId} has no phone`);
      throw new AppError('NOT_FOUND', `client ${input.clientId} does not exist`);
    }
    const [contact] = await db
      .select({ id: clientContacts.id })
      .from(clientContacts)
      .innerJoin(clients, eq(clients.id, clientContacts.clientId))
      .where(and(eq(clientContacts.id, input.contactId), input.clientId !== undefined ? eq(clientContacts.clientId, input.clientId) : undefined, visibleClients(db, viewer)));
    if (contact) throw new AppError('VALIDATION', `contact ${input.contactId} has no phone`);
    throw new AppError('NOT_FOUND', `contact ${input.contactId} does not exist`);
  }

  async function start(viewer: Viewer, input: CallInput): Promise<ClickToCallResult> {
    const picked = input.to === undefined ? await phoneOf(viewer, input) : null;
    const target = parseTarget(picked?.phone ?? input.to!, config.DEFAULT_REGION);
    if (!target.ok) throw new AppError('INVALID_PHONE', `to: ${target.error}`);
    const [me] = await db.select({ extension: users.extension }).from(users).where(eq(users.id, viewer.id));
    if (!me?.extension) throw new AppError('VALIDATION', 'you have no phone extension to ring first; ask an administrator to set one');
    const client = await clientFor(viewer, target.e164, picked?.clientId ?? input.clientId);
    await checkRate(viewer.id);

    const callId = randomUUID();
    // Asterisk requires a Uniqueid nobody else uses: random, and prefixed so a person reading
    // the PBX log can tell our calls apart.
    const channelId = `sb-c2c-${randomBytes(8).toString('hex')}`;
    let fields;
    try {
      fields = buildClickToCall({ user: { id: viewer.id, extension: me.extension }, target, client, callId, channelId }, config);
    } catch (err) {
      if (err instanceof ClickToCallError) throw new AppError('VALIDATION', `your phone ${err.message}; ask an administrator to fix your extension`);
      throw err;
    }
    try {
      await deps.relay.send({ fields, expect: { userId: String(viewer.id), callId, channelId, clientId: client?.id ?? null } });
    } catch (err) {
      throw unavailable(err);
    }
    log.info({ userId: viewer.id, callId, linkedid: channelId, clientId: client?.id ?? null }, 'click-to-call queued');
    // Called by id: the answer does not hand the number to someone who sees it masked in lists.
    const hidden = picked !== null && masksPhonesInLists(viewer, (await deps.settings?.current())?.maskPhonesInLists ?? config.MASK_PHONES_IN_LISTS ?? true);
    return { callId, linkedid: channelId, number: hidden ? maskPhoneForList(target.e164) : target.e164, client };
  }

  return {
    start,

    /** For reminders with autoDial: the reminder's user calls the client back. */
    async forReminder(userId: number, clientId: number | null, phone: string | null): Promise<ClickToCallResult> {
      const [viewer] = await db
        .select({ id: users.id, login: users.login, name: users.name, role: users.role, departmentId: users.departmentId, managerId: users.managerId })
        .from(users)
        .where(and(eq(users.id, userId), eq(users.active, true)));
      if (!viewer) throw new AppError('NOT_FOUND', `user ${userId} does not exist or is disabled`);
      // A phone is the number that called (missed-call callbacks): the lookup finds its client.
      if (phone) return start(viewer, { to: phone });
      if (clientId === null) throw new AppError('VALIDATION', 'the reminder has neither a phone nor a client');
      const [first] = await db.select({ phone: clientPhones.phone }).from(clientPhones).where(eq(clientPhones.clientId, clientId)).orderBy(asc(clientPhones.id)).limit(1);
      if (!first) throw new AppError('VALIDATION', `client ${clientId} has no phone`);
      return start(viewer, { to: first.phone, clientId });
    },
  };
}

/** AMI failures as the person who clicked should read them. */
function unavailable(err: unknown): unknown {
  if (!(err instanceof AmiError) || err.reason === 'invalid') return err;
  switch (err.reason) {
    case 'down':
      return new AppError('PBX_UNAVAILABLE', `The phone system is not reachable right now, so the call was not placed (${err.message}). Try again in a minute.`);
    case 'timeout':
      return new AppError('PBX_UNAVAILABLE', 'The phone system did not confirm the call in time. If your phone does not ring, try again.');
    default:
      return new AppError('PBX_UNAVAILABLE', `The phone system refused the call (${err.message}).`);
  }
}

export type ClickToCall = ReturnType<typeof createClickToCall>;
