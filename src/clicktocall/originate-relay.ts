// Click-to-call from any instance. Every instance serves HTTP, but only the one holding the AMI
// leader lock is connected to the PBX (runtime.ts). A click on another instance is forwarded to
// the leader over Redis pub/sub and the leader sends the Originate on its own connection.
//
// Why forward rather than give every instance its own action-only AMI session: the leader's
// call tracker must know about the Originate (ActionID, ChannelId, who clicked) *before* the
// PBX's first event of the call arrives, or `originate.failed` has nobody to go to. Forwarding
// makes that a synchronous call on the leader, right before the action is written; a second
// session would race its expectation (sent through Redis) against Asterisk's events (sent to
// the leader directly). It also keeps the PBX at one AMI login per system.
//
// Wire: requests on `switchboard:c2c:<system>:requests`, subscribed only by the leader (so a
// PUBLISH that reaches nobody means "no instance is connected to the PBX": 503 at once);
// answers on `…:replies:<instance>`. A request is claimed with SET NX before it is executed, so
// two instances that both believe they lead (for at most the lock's TTL) cannot dial twice.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ExpectedOriginate } from '../calls/call-state.js';
import { createRedis } from '../infra/redis.js';
import { AmiError, newActionId, type AmiErrorReason, type AmiFields, type AmiResponse } from '../pbx/actions.js';

export interface OriginateJob {
  /** The Originate's headers (originate-call.ts); validated again when sent. */
  fields: AmiFields;
  /** For the leader's call tracker. */
  expect: Omit<ExpectedOriginate, 'actionId'>;
}

export type ExecuteOriginate = (job: OriginateJob) => Promise<{ actionId: string }>;

/** What runs on the leader: tell the tracker, then send. */
export function createOriginateExecutor(deps: {
  ami: { action(name: string, fields?: AmiFields, opts?: { actionId?: string }): Promise<AmiResponse> };
  expectOriginate: (originate: ExpectedOriginate) => void;
}): ExecuteOriginate {
  return async (job) => {
    const actionId = newActionId('c2c');
    // Before the write: the call's first events can overtake the action's own Response.
    deps.expectOriginate({ ...job.expect, actionId });
    await deps.ami.action('Originate', job.fields, { actionId });
    return { actionId };
  };
}

interface Reply {
  id: string;
  ok: boolean;
  actionId?: string;
  reason?: AmiErrorReason;
  message?: string;
}

interface Pending {
  resolve: (r: { actionId: string }) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export interface OriginateRelayDeps {
  /** Command connection (fail-fast) for PUBLISH and the claim. */
  redis: Redis;
  /** For this relay's own subscriber connection. */
  redisUrl: string;
  systemName: string;
  /** REDIS_PREFIX. */
  keyPrefix: string;
  execute: ExecuteOriginate;
  logger: Logger;
  /** Longer than the AMI action timeout (5 s), so the leader's own answer normally wins. */
  replyTimeoutMs?: number;
}

export function createOriginateRelay(deps: OriginateRelayDeps) {
  const log = deps.logger.child({ component: 'originate-relay' });
  const instanceId = randomUUID();
  const base = `${deps.keyPrefix}:c2c:${deps.systemName}`;
  const requests = `${base}:requests`;
  const replies = `${base}:replies:${instanceId}`;
  const replyTimeoutMs = deps.replyTimeoutMs ?? 8_000;
  const subscriber = createRedis(deps.redisUrl, 'blocking');
  const pending = new Map<string, Pending>();
  let leading = false;
  const ready: Promise<boolean> = subscriber.subscribe(replies).then(
    () => true,
    (err: unknown) => (log.error({ err }, 'could not subscribe to originate replies'), false),
  );

  async function serve(raw: string): Promise<void> {
    let request: { id: string; replyTo: string; job: OriginateJob };
    try {
      request = JSON.parse(raw);
    } catch {
      return;
    }
    const claimed = await deps.redis.set(`${base}:claim:${request.id}`, instanceId, 'PX', 60_000, 'NX').catch(() => null);
    if (claimed !== 'OK') return;
    let reply: Reply;
    try {
      const { actionId } = await deps.execute(request.job);
      reply = { id: request.id, ok: true, actionId };
    } catch (err) {
      if (!(err instanceof AmiError)) log.error({ err }, 'forwarded originate failed');
      reply = err instanceof AmiError
        ? { id: request.id, ok: false, reason: err.reason, message: err.message }
        : { id: request.id, ok: false, reason: 'down', message: 'the PBX connection failed' };
    }
    await deps.redis.publish(request.replyTo, JSON.stringify(reply)).catch((err: unknown) => log.warn({ err }, 'could not answer a forwarded originate'));
  }

  function settle(raw: string): void {
    let reply: Reply;
    try {
      reply = JSON.parse(raw);
    } catch {
      return;
    }
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.ok && reply.actionId) p.resolve({ actionId: reply.actionId });
    else p.reject(new AmiError(reply.reason ?? 'down', reply.message ?? 'the PBX did not take the call'));
  }

  subscriber.on('message', (channel: string, raw: string) => {
    if (channel === replies) settle(raw);
    else if (channel === requests && leading) void serve(raw);
  });

  return {
    /** Send the Originate here when leading, else through the leader. Rejects with AmiError. */
    async send(job: OriginateJob): Promise<{ actionId: string }> {
      if (leading) return deps.execute(job);
      // Without the reply subscription the leader's answer would be lost after the call was
      // placed; with Redis down that subscription may never come: refuse before publishing.
      const subscribed = await Promise.race([ready, new Promise<false>((resolve) => setTimeout(resolve, 1_000, false).unref())]);
      if (!subscribed) throw new AmiError('down', 'the instance connected to the PBX cannot be reached (Redis)');
      const id = randomUUID();
      const answer = new Promise<{ actionId: string }>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new AmiError('timeout', `the PBX did not confirm the call within ${replyTimeoutMs} ms`));
        }, replyTimeoutMs);
        pending.set(id, { resolve, reject, timer });
      });
      let problem: string | null = null;
      try {
        const receivers = await deps.redis.publish(requests, JSON.stringify({ id, replyTo: replies, job }));
        if (receivers === 0) problem = 'no Switchboard instance is connected to the PBX';
      } catch (err) {
        log.warn({ err }, 'could not forward an originate');
        problem = 'the instance connected to the PBX cannot be reached (Redis)';
      }
      if (problem !== null) {
        const p = pending.get(id);
        pending.delete(id);
        if (p) clearTimeout(p.timer);
        void answer.catch(() => {});
        throw new AmiError('down', problem);
      }
      return answer;
    },

    /** Follows the AMI leader lock: only the leader takes forwarded requests. */
    async setLeader(value: boolean): Promise<void> {
      leading = value;
      await (value ? subscriber.subscribe(requests) : subscriber.unsubscribe(requests)).catch((err: unknown) =>
        log.error({ err, leading: value }, 'could not (un)subscribe to forwarded originates'),
      );
    },

    async close(): Promise<void> {
      leading = false;
      for (const [id, p] of pending) {
        clearTimeout(p.timer);
        p.reject(new AmiError('down', 'shutting down'));
        pending.delete(id);
      }
      subscriber.disconnect();
    },
  };
}

export type OriginateRelay = ReturnType<typeof createOriginateRelay>;
