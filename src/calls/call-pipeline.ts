import type { Logger } from 'pino';
import type pg from 'pg';
import type { EventBus } from '../events/event-bus.js';
import type { AmiEvent } from '../pbx/events.js';
import { normalizePhone, type CountryCode } from '../phones/normalize.js';
import type { ActivePops } from '../screenpop/active-pops.js';
import type { ClientCard } from '../screenpop/client-card.js';
import type { UserDirectory } from '../users/user-directory.js';
import type { CallEffect, ExpectedOriginate } from './call-state.js';
import { summarize, type CallSummary } from './call-summary.js';
import type { CallTracker } from './call-tracker.js';
import { findCallClient, touchClient, upsertCall, type CallParties } from './calls.repository.js';

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
  hooks?: CallHooks[];
  /** After a pop is published: seconds since its ringing event arrived (for /metrics). */
  onPop?: (latencySeconds: number) => void;
}

/** What the pipeline remembers of a live call beyond the tracker's state. */
interface CallContext {
  id: number | null;
  client: { clientId: number; ownerId: number | null } | null;
  clientLoad: Promise<void> | null;
  card: ClientCard | null;
  popped: Set<number>;
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
      ctx = { id: null, client: null, clientLoad: null, card: null, popped: new Set(), started: false, answered: false, persistQueued: false, stored: Promise.resolve(null), queue: Promise.resolve() };
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

  // Once per call, shared by the pop and the upsert, which run concurrently: both wait for the
  // same lookup, so a pop never goes out without the card another path is still loading.
  function loadClient(ctx: CallContext, summary: CallSummary): Promise<void> {
    ctx.clientLoad ??= (async () => {
      const found = await findCallClient(deps.popPool ?? deps.pool, summary.linkedid, normalise(summary.clientNumber), deps.cardUrlTemplate);
      ctx.client = found && { clientId: found.clientId, ownerId: found.ownerId };
      ctx.card = found?.card ?? null;
    })().catch((err: unknown) => {
      ctx.clientLoad = null; // a failed lookup is tried again by the next step
      throw err;
    });
    return ctx.clientLoad;
  }

  async function parties(ctx: CallContext, summary: CallSummary): Promise<CallParties> {
    await loadClient(ctx, summary);
    const userId = async (ext: string | null) => (ext ? (await deps.users.byExtension(ext))?.id ?? null : null);
    const clicked = summary.clickToCall?.userId;
    return {
      did: normalise(summary.did),
      clientId: ctx.client?.clientId ?? null,
      ownerId: ctx.client?.ownerId ?? null,
      initiatedById: clicked && /^\d+$/.test(clicked) ? Number(clicked) : null,
      answeredById: await userId(summary.answeredByExtension),
      finalUserId: await userId(summary.finalExtension),
      externalNumber: normalise(summary.clientNumber),
      rang: await Promise.all(summary.rang.map(async (r) => ({ extension: r.extension, userId: await userId(r.extension), at: r.at.toISOString() }))),
    };
  }

  async function persist(ctx: CallContext, linkedid: string): Promise<StoredCall | null> {
    ctx.persistQueued = false;
    const state = tracker.get(linkedid);
    if (!state || !state.relevant) return null;
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
          await loadClient(ctx, summary);
          const frame = { type: 'call.ringing', ...frameBase(ctx, summary), at: now.toISOString(), client: ctx.card, newClient: ctx.card === null };
          ctx.popped.add(user.id);
          deps.bus.publish({ userIds: [user.id] }, frame);
          deps.onPop?.((Date.now() - now.getTime()) / 1000);
          await deps.activePops.remember([user.id], effect.linkedid, JSON.stringify(frame));
        });
      case 'ringing_stopped':
        return void enqueue(effect.linkedid, async (ctx) => {
          const user = await deps.users.byExtension(effect.extension);
          const state = tracker.get(effect.linkedid);
          if (!user || !state || !ctx.popped.has(user.id)) return;
          // The one who answered keeps the call; the others' cards close.
          if (effect.reason === 'answered_elsewhere' || !ctx.answered) {
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
          const frame = { type: 'call.answered', ...frameBase(ctx, summary), at: now.toISOString(), answeredBy: user ? { id: user.id, name: user.name } : { extension: effect.extension }, client: ctx.card };
          const audience = [...ctx.popped, ...(user ? [user.id] : [])];
          if (user) ctx.popped.add(user.id);
          deps.bus.publish({ userIds: [...new Set(audience)] }, frame);
          await deps.activePops.remember([...ctx.popped], effect.linkedid, JSON.stringify(frame));
          const stored = await store(ctx, effect.linkedid);
          if (stored) await runHooks('onAnswered', stored);
        });
      case 'ended':
        return void enqueue(effect.linkedid, async (ctx) => {
          const stored = await store(ctx, effect.linkedid);
          if (!stored) return;
          const { summary } = stored;
          const frame = { type: 'call.ended', ...frameBase(ctx, summary), disposition: summary.disposition, talkSeconds: summary.talkSeconds, endedAt: summary.endedAt?.toISOString() ?? null };
          if (ctx.popped.size > 0) deps.bus.publish({ userIds: [...ctx.popped] }, frame);
          await deps.activePops.forget([...ctx.popped], effect.linkedid);
          if (stored.parties.clientId && summary.endedAt) await touchClient(deps.pool, stored.parties.clientId, summary.endedAt);
          await runHooks('onEnded', stored);
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
      let pending: Array<Promise<unknown>> = chains();
      while (pending.length > 0) {
        await Promise.all(pending);
        pending = chains().filter((q) => !pending.includes(q));
      }
    },
  };
}

export type CallPipeline = ReturnType<typeof createCallPipeline>;
