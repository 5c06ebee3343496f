import type { Logger } from 'pino';
import type pg from 'pg';
import type { EventBus } from '../events/event-bus.js';
import type { AmiEvent } from '../pbx/events.js';
import { normalizePhone, type CountryCode } from '../phones/normalize.js';
import type { ActivePops } from '../screenpop/active-pops.js';
import type { UserDirectory } from '../users/user-directory.js';
import type { CallEffect, ExpectedOriginate } from './call-state.js';
import { summarize, type CallSummary } from './call-summary.js';
import type { CallTracker } from './call-tracker.js';
import { createCallClients, newCallClient, type CallClient } from './call-client.js';
import { deleteCall, touchClient, upsertCall, type CallParties } from './calls.repository.js';

const END_GRACE_MS = 250;

/** A call as the hooks (webhooks, reminders, recordings) see it once it is stored. */
export interface StoredCall {
  id: number;
  summary: CallSummary;
  parties: CallParties;
}

export interface CallHooks {
  onStarted?: (call: StoredCall) => Promise<void> | void;
  onAnswered?: (call: StoredCall) => Promise<void> | void;
  onEnded?: (call: StoredCall) => Promise<void> | void;
}

export interface CallPipelineDeps {
  pool: pg.Pool;
  /**
   * Connections for the pop's one read (the client and its card), apart from `pool`: there a
   * busy minute queues the calls' upserts and hooks (~13 queries a call), and a pop behind
   * them waited tens of milliseconds for a connection. Defaults to `pool`.
   */
  popPool?: pg.Pool;
  tracker: CallTracker;
  users: UserDirectory;
  bus: EventBus;
  activePops: ActivePops;
  logger: Logger;
  systemName: string;
  region: string;
  cardUrlTemplate: string;
  /** This instance's routing decisions not yet written (trace-writer.ts `pending`): a call's
   *  first AMI events can arrive before its decision is in the database. */
  pendingDecisions?: (linkedid: string) => ReadonlyArray<{ clientId: number | null }>;
  /** How long an inbound call's end waits for a routing decision still on its way to the
   *  database (another instance's trace writer flushes every 50 ms). Default 250 ms. */
  endGraceMs?: number;
  hooks?: CallHooks[];
  /** After a pop is published: seconds since its ringing event arrived (for /metrics). */
  onPop?: (latencySeconds: number) => void;
}

/** What the pipeline remembers of a live call beyond the tracker's state. */
interface CallContext {
  id: number | null;
  client: CallClient;
  /** The frame a screen that reconnects is shown (active-pops.ts); updated when the card comes. */
  lastFrame: Record<string, unknown> | null;
  /** Users whose screen shows the call now. */
  popped: Set<number>;
  /** Users whose screen was ever shown the call (a late card goes to them all). */
  shown: Set<number>;
  started: boolean;
  answered: boolean;
  /** An upsert is waiting in `stored`; it will read the latest state when it runs. */
  persistQueued: boolean;
  /** The call's upserts, in order. Kept apart from `queue` so a pop never waits for a commit. */
  stored: Promise<StoredCall | null>;
  /** The call's frames and hooks, in order; calls run concurrently. */
  queue: Promise<void>;
}

/**
 * AMI events in, effects out: the tracker (pure) says what happened, this carries it out —
 * store the call (idempotent upsert), pop the card on the ringing user's screens, tell them when
 * it is answered or over, and call the hooks. Runs on the one instance that holds the AMI lock;
 * frames reach the other instances through the event bus.
 */
export function createCallPipeline(deps: CallPipelineDeps) {
  const { tracker, logger } = deps;
  const contexts = new Map<string, CallContext>();
  const hooks = deps.hooks ?? [];

  const contextOf = (linkedid: string): CallContext => {
    let ctx = contexts.get(linkedid);
    if (!ctx) {
      ctx = { id: null, client: newCallClient(), lastFrame: null, popped: new Set(), shown: new Set(), started: false, answered: false, persistQueued: false, stored: Promise.resolve(null), queue: Promise.resolve() };
      contexts.set(linkedid, ctx);
    }
    return ctx;
  };

  const enqueue = (linkedid: string, work: (ctx: CallContext) => Promise<void>) => {
    const ctx = contextOf(linkedid);
    ctx.queue = ctx.queue.then(() => work(ctx)).catch((err) => logger.error({ err, linkedid }, 'call pipeline step failed'));
    return ctx.queue;
  };

  const normalise = (n: string | null) => (n ? normalizePhone(n, deps.region as CountryCode) ?? n : null);

  const callClients = createCallClients({
    pool: deps.pool,
    popPool: deps.popPool ?? deps.pool,
    region: deps.region,
    cardUrlTemplate: deps.cardUrlTemplate,
    logger,
    pendingDecisions: deps.pendingDecisions,
    onChange(summary, previous) {
      const ctx = contextOf(summary.linkedid);
      if (ctx.shown.size > 0) void enqueue(summary.linkedid, (c) => sendClientLinked(c, summary));
      if (previous !== null || ctx.id !== null) void store(ctx, summary.linkedid); // the stored row catches up
    },
  });

  /** The pop and the answer frame go out with the card known so far when the lookup fails. */
  const settleForFrame = (ctx: CallContext, summary: CallSummary, forPop: boolean) =>
    callClients.settle(ctx.client, summary, forPop).catch((err: unknown) => logger.warn({ err, linkedid: summary.linkedid }, 'call client lookup failed; frame sent without it'));

  /** Every screen that popped for this call gets the card now (a closed pop too: the missed call
   *  it left on the screen gets its name); a screen that reconnects is shown the card as well. */
  async function sendClientLinked(ctx: CallContext, summary: CallSummary): Promise<void> {
    if (ctx.client.card === null) return;
    deps.bus.publish({ userIds: [...ctx.shown] }, { type: 'call.client_linked', ...frameBase(ctx, summary), client: ctx.client.card, newClient: false });
    if (ctx.lastFrame && ctx.popped.size > 0) await remember(ctx, [...ctx.popped], summary.linkedid, ctx.lastFrame);
  }

  async function remember(ctx: CallContext, userIds: number[], linkedid: string, frame: Record<string, unknown>): Promise<void> {
    ctx.lastFrame = frame;
    const card = ctx.client.card;
    await deps.activePops.remember(userIds, linkedid, JSON.stringify({ ...frame, client: card, ...(frame.type === 'call.ringing' && { newClient: card === null }) }));
  }

  async function parties(ctx: CallContext, summary: CallSummary): Promise<CallParties> {
    await callClients.refresh(ctx.client, summary);
    const userId = async (ext: string | null) => (ext ? (await deps.users.byExtension(ext))?.id ?? null : null);
    const clicked = summary.clickToCall?.userId;
    return {
      did: normalise(summary.did),
      clientId: ctx.client.current?.clientId ?? null,
      ownerId: ctx.client.current?.ownerId ?? null,
      initiatedById: clicked && /^\d+$/.test(clicked) ? Number(clicked) : null,
      answeredById: await userId(summary.answeredByExtension),
      finalUserId: await userId(summary.finalExtension),
      externalNumber: normalise(summary.clientNumber),
      rang: await Promise.all(summary.rang.map(async (r) => ({ extension: r.extension, userId: await userId(r.extension), at: r.at.toISOString() }))),
      transfers: await Promise.all(summary.transfers.map(async (t) => ({
        kind: t.kind, from: t.from, fromUserId: await userId(t.from), to: t.to, toUserId: await userId(t.to), at: t.at.toISOString(),
      }))),
    };
  }

  async function persist(ctx: CallContext, linkedid: string): Promise<StoredCall | null> {
    ctx.persistQueued = false;
    const state = tracker.get(linkedid);
    if (!state || !state.relevant || state.mergedInto !== null) return null;
    const summary = summarize(state);
    const p = await parties(ctx, summary);
    const row = await upsertCall(deps.pool, deps.systemName, summary, p);
    ctx.id = row.id;
    const stored = { id: row.id, summary, parties: p };
    if (!ctx.started) {
      ctx.started = true;
      await runHooks('onStarted', stored);
    }
    return stored;
  }

  /**
   * Queues an upsert of the call (coalesced: one waiting upsert reads the latest state) and
   * resolves with the stored call. Frames do not wait for it, except where they need the row.
   */
  function store(ctx: CallContext, linkedid: string): Promise<StoredCall | null> {
    if (!ctx.persistQueued) {
      ctx.persistQueued = true;
      ctx.stored = ctx.stored
        .catch(() => null)
        .then(() => persist(ctx, linkedid))
        .catch((err: unknown) => {
          logger.error({ err, linkedid }, 'could not store call');
          return null;
        });
    }
    return ctx.stored;
  }

  async function runHooks(name: keyof CallHooks, call: StoredCall) {
    for (const hook of hooks) {
      try {
        await hook[name]?.(call);
      } catch (err) {
        logger.error({ err, hook: name, linkedid: call.summary.linkedid }, 'call hook failed');
      }
    }
  }

  /**
   * The end is the client's last chance: the stored call, its webhooks and the missed-call
   * callback take the client as it is then. An inbound call whose routing decision has not been
   * seen yet (written by another instance, or in a batch still being stored) gets one short wait.
   */
  async function awaitLateDecision(ctx: CallContext, summary: CallSummary): Promise<void> {
    if (ctx.client.settled || summary.direction !== 'inbound') return;
    await callClients.settle(ctx.client, summary);
    if (ctx.client.settled) return;
    await new Promise((resolve) => setTimeout(resolve, deps.endGraceMs ?? END_GRACE_MS));
    await callClients.settle(ctx.client, summary);
  }

  const frameBase = (ctx: CallContext, summary: CallSummary) => ({
    callId: ctx.id,
    linkedid: summary.linkedid,
    direction: summary.direction,
    number: summary.clientNumber,
    did: summary.did,
  });

  async function onEffect(effect: CallEffect, now: Date) {
    switch (effect.type) {
      case 'call_updated':
        return void store(contextOf(effect.linkedid), effect.linkedid);
      case 'ringing':
        return void enqueue(effect.linkedid, async (ctx) => {
          const user = await deps.users.byExtension(effect.extension);
          const state = tracker.get(effect.linkedid);
          if (!user || !state) return;
          // The pop goes out before the call's row is committed (the card is a read): the
          // manager's screen must not wait for a disk flush. `callId` is null until stored;
          // `linkedid` identifies the call everywhere (API, route trace) from the first frame.
          const summary = summarize(state);
          await settleForFrame(ctx, summary, true);
          const card = ctx.client.card;
          const frame = { type: 'call.ringing', ...frameBase(ctx, summary), at: now.toISOString(), client: card, newClient: card === null };
          ctx.popped.add(user.id);
          ctx.shown.add(user.id);
          deps.bus.publish({ userIds: [user.id] }, frame);
          deps.onPop?.((Date.now() - now.getTime()) / 1000);
          await remember(ctx, [user.id], effect.linkedid, frame);
        });
      case 'ringing_stopped':
        return void enqueue(effect.linkedid, async (ctx) => {
          const user = await deps.users.byExtension(effect.extension);
          const state = tracker.get(effect.linkedid);
          if (!user || !state || !ctx.popped.has(user.id)) return;
          // The one who answered keeps the call; the others' cards close (a transfer target
          // who did not pick up too: the call was answered, but not by them).
          const hasCall = effect.extension === state.answeredBy || effect.extension === state.finalAgent;
          if (effect.reason === 'answered_elsewhere' || !ctx.answered || !hasCall) {
            deps.bus.publish({ userIds: [user.id] }, { type: 'call.ringing_stopped', ...frameBase(ctx, summarize(state)), reason: effect.reason });
            ctx.popped.delete(user.id);
            await deps.activePops.forget([user.id], effect.linkedid);
          }
        });
      case 'answered':
        return void enqueue(effect.linkedid, async (ctx) => {
          const state = tracker.get(effect.linkedid);
          if (!state) return;
          ctx.answered = true;
          const user = await deps.users.byExtension(effect.extension);
          const summary = summarize(state);
          await settleForFrame(ctx, summary, false);
          const frame = { type: 'call.answered', ...frameBase(ctx, summary), at: now.toISOString(), answeredBy: user ? { id: user.id, name: user.name } : { extension: effect.extension }, client: ctx.client.card };
          const audience = [...ctx.popped, ...(user ? [user.id] : [])];
          if (user) {
            ctx.popped.add(user.id);
            ctx.shown.add(user.id);
          }
          deps.bus.publish({ userIds: [...new Set(audience)] }, frame);
          await remember(ctx, [...ctx.popped], effect.linkedid, frame);
          const stored = await store(ctx, effect.linkedid);
          if (stored) await runHooks('onAnswered', stored);
        });
      case 'ended':
        return void enqueue(effect.linkedid, async (ctx) => {
          await awaitLateDecision(ctx, effect.summary);
          const stored = await store(ctx, effect.linkedid);
          if (!stored) return;
          const { summary } = stored;
          const frame = { type: 'call.ended', ...frameBase(ctx, summary), disposition: summary.disposition, talkSeconds: summary.talkSeconds, endedAt: summary.endedAt?.toISOString() ?? null };
          if (ctx.popped.size > 0) deps.bus.publish({ userIds: [...ctx.popped] }, frame);
          await deps.activePops.forget([...ctx.popped], effect.linkedid);
          if (stored.parties.clientId && summary.endedAt) await touchClient(deps.pool, stored.parties.clientId, summary.endedAt);
          await runHooks('onEnded', stored);
        });
      case 'transferred':
        return void enqueue(effect.linkedid, async (ctx) => {
          const state = tracker.get(effect.linkedid);
          if (!state) return;
          const [from, to] = await Promise.all([effect.from, effect.to].map((ext) => (ext ? deps.users.byExtension(ext) : null)));
          const party = (extension: string | null, user: { id: number; name: string } | null | undefined) =>
            extension === null ? null : { extension, id: user?.id ?? null, name: user?.name ?? null };
          const frame = {
            type: 'call.transferred', ...frameBase(ctx, summarize(state)), kind: effect.kind,
            from: party(effect.from, from), to: party(effect.to, to), at: new Date(effect.at).toISOString(),
          };
          const audience = [from?.id, to?.id].filter((id): id is number => id !== undefined);
          if (audience.length > 0) deps.bus.publish({ userIds: [...new Set(audience)] }, frame);
          // The card moves with the caller: the transferer's screen is done with this call (no
          // call.ended there, nothing replayed when it reconnects).
          if (from && from.id !== to?.id) {
            ctx.popped.delete(from.id);
            await deps.activePops.forget([from.id], effect.linkedid);
          }
        });
      case 'merged':
        return void enqueue(effect.linkedid, async (ctx) => {
          // After any upsert already queued, so that it cannot bring the row back.
          await ctx.stored;
          await deleteCall(deps.pool, deps.systemName, effect.linkedid);
          const audience = [...ctx.popped];
          if (audience.length > 0) deps.bus.publish({ userIds: audience }, { type: 'call.merged', callId: ctx.id, linkedid: effect.linkedid, into: effect.into });
          await deps.activePops.forget(audience, effect.linkedid);
          ctx.popped.clear();
        });
      case 'originate_failed': {
        const userId = effect.userId && /^\d+$/.test(effect.userId) ? Number(effect.userId) : null;
        if (userId !== null) deps.bus.publish({ userIds: [userId] }, { type: 'originate.failed', callId: effect.callId, linkedid: effect.linkedid, reason: effect.reason });
        return;
      }
    }
  }

  return {
    /** The AMI event handler: synchronous and cheap; the I/O is queued per call. */
    handle(event: AmiEvent, now = new Date()): void {
      for (const effect of tracker.handle(event, now)) void onEffect(effect, now);
    },
    expectOriginate(originate: ExpectedOriginate, now = new Date()) {
      tracker.expectOriginate(originate, now);
    },
    /** Forget finished calls (kept a while for late Cdr events) and end calls gone silent. */
    housekeeping(now = new Date()) {
      for (const effect of tracker.expireIdle(new Date(now.getTime() - 4 * 3600_000), now)) void onEffect(effect, now);
      for (const linkedid of tracker.evict(new Date(now.getTime() - 5 * 60_000))) contexts.delete(linkedid);
    },
    /** Resolves when every queued step has run (tests, shutdown). */
    async drain(): Promise<void> {
      const chains = () => [...contexts.values()].flatMap((c) => [c.queue, c.stored]);
      // Every chain awaited so far, not only the last round's: when one chain moved on during a
      // round, comparing with that round alone handed the other (settled) one back forever.
      const seen = new Set<Promise<unknown>>();
      let pending: Array<Promise<unknown>> = chains();
      while (pending.length > 0) {
        for (const q of pending) seen.add(q);
        await Promise.all(pending);
        pending = chains().filter((q) => !seen.has(q));
      }
    },
  };
}

export type CallPipeline = ReturnType<typeof createCallPipeline>;
