import { Queue, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import { and, eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { CallHooks, StoredCall } from '../calls/call-pipeline.js';
import type { Db } from '../db/client.js';
import { postWebhook } from './post-webhook.js';
import { signPayload, SIGNATURE_HEADER } from './signing.js';
import { createTargetPolicy, WebhookTargetError, type TargetPolicy } from './webhook-target.js';
import { callPayload, type CallWebhookEvent, type WebhookEvent } from './webhook-payload.js';
import { webhookEndpoints } from './webhooks.table.js';

/** Queue payloads typed by queue name. */
interface DeliveryJob {
  endpointId: number;
  event: WebhookEvent;
  deliveryId: string;
  body: string;
}

export interface WebhookDispatcherOptions {
  db: Db;
  connection: ConnectionOptions;
  logger: Logger;
  /** The service's address for links (recordingUrl); asked per event. */
  publicUrl: () => string;
  prefix?: string;
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  /** Which addresses deliveries may reach (webhook-target.ts); public ones only by default. */
  targets?: TargetPolicy;
  /** Each delivery attempt's outcome (for /metrics). */
  onDelivery?: (outcome: 'delivered' | 'failed') => void;
}

const QUEUE = 'webhooks';
/** How stale the cached list of active endpoints may be on an instance that did not change it. */
const ENDPOINTS_MAX_AGE_MS = 1_000;

/**
 * Delivers call events to the configured endpoints through BullMQ: one job per (event, call,
 * endpoint) whose job id is also the idempotency key the receiver sees, so a duplicate event
 * never queues a second delivery and a retried delivery carries the same key. Retries use
 * exponential backoff; a 4xx other than 408/429 is final (the receiver refused the payload).
 */
export function createWebhookDispatcher(opts: WebhookDispatcherOptions) {
  const prefix = opts.prefix ?? 'switchboard';
  const targets = opts.targets ?? createTargetPolicy('');
  const queue = new Queue<DeliveryJob>(QUEUE, { connection: opts.connection, prefix });
  queue.on('error', (err) => opts.logger.warn({ err }, 'webhook queue error'));
  let worker: Worker<DeliveryJob> | null = null;

  // Every call needs the list three times (started, answered, ended), and it changes when a
  // director edits it, a few times a year: it is read at most once a second. A change through
  // this instance's API applies at once (`endpointsChanged`); one made through another
  // instance, within ENDPOINTS_MAX_AGE_MS. Prepared once: drizzle's query building cost more
  // CPU than the query (BENCHMARKS.md, "Screen-pop").
  const activeEndpointsQuery = opts.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.active, true)).prepare('switchboard-webhook-endpoints');
  type Endpoint = typeof webhookEndpoints.$inferSelect;
  let cached: { readAt: number; endpoints: Promise<Endpoint[]> } | null = null;
  const activeEndpoints = (): Promise<Endpoint[]> => {
    const now = Date.now();
    if (cached === null || now - cached.readAt > ENDPOINTS_MAX_AGE_MS) {
      const read = { readAt: now, endpoints: activeEndpointsQuery.execute() };
      cached = read;
      read.endpoints.catch(() => {
        if (cached === read) cached = null; // a failed read is not kept: the next call tries again
      });
    }
    return cached.endpoints;
  };

  async function enqueue(event: CallWebhookEvent, call: StoredCall): Promise<void> {
    await enqueueBody(event, String(call.id), () => JSON.stringify(callPayload(event, call, opts.publicUrl())));
  }

  /** `key` names the occurrence: with the event and endpoint it is the delivery's idempotency key. */
  async function enqueueBody(event: WebhookEvent, key: string, body: () => string): Promise<void> {
    const endpoints = await activeEndpoints();
    const targets = endpoints.filter((e) => e.events.includes(event));
    if (targets.length === 0) return;
    const text = body();
    await queue.addBulk(
      targets.map((endpoint) => {
        const deliveryId = `${event}-${key}-${endpoint.id}`;
        return {
          name: event,
          data: { endpointId: endpoint.id, event, deliveryId, body: text },
          opts: {
            jobId: deliveryId,
            attempts: opts.attempts ?? 8,
            backoff: { type: 'exponential', delay: opts.backoffMs ?? 2_000 },
            removeOnComplete: { age: 24 * 3600 },
            removeOnFail: { age: 7 * 24 * 3600 },
          },
        };
      }),
    );
  }

  async function deliver(job: DeliveryJob): Promise<void> {
    const [endpoint] = await opts.db
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, job.endpointId), eq(webhookEndpoints.active, true)));
    if (!endpoint) throw new UnrecoverableError(`webhook endpoint ${job.endpointId} is gone or disabled`);
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'Switchboard-Webhooks/1',
      'x-switchboard-event': job.event,
      'idempotency-key': job.deliveryId,
      [SIGNATURE_HEADER]: signPayload(endpoint.secret, timestamp, job.body),
    };
    let status: number;
    try {
      status = await postWebhook(endpoint.url, headers, job.body, targets, opts.timeoutMs ?? 10_000);
    } catch (err) {
      // The host now resolves to a refused address (DNS rebinding, or the allow-list shrank).
      if (err instanceof WebhookTargetError) throw new UnrecoverableError(err.message);
      throw err;
    }
    if (status >= 200 && status < 300) return;
    const final = status >= 400 && status < 500 && status !== 408 && status !== 429;
    const message = `webhook ${endpoint.url} answered ${status}`;
    throw final ? new UnrecoverableError(message) : new Error(message);
  }

  const safely = (event: CallWebhookEvent) => async (call: StoredCall) => {
    try {
      await enqueue(event, call);
    } catch (err) {
      opts.logger.error({ err, event, callId: call.id }, 'could not queue webhook deliveries');
    }
  };

  const hooks: CallHooks = {
    onStarted: safely('call.started'),
    onAnswered: safely('call.answered'),
    onEnded: safely('call.ended'),
  };

  return {
    hooks,
    queue,
    /** An event that is not about a call (security.scraping): its payload as the receiver reads it. */
    notify: (event: WebhookEvent, key: string, payload: object) => enqueueBody(event, key, () => JSON.stringify({ event, occurredAt: new Date().toISOString(), ...payload })),
    /** After this instance's API changed the endpoints: the next call reads them again. */
    endpointsChanged() {
      cached = null;
    },
    startWorker(concurrency = 10) {
      worker = new Worker<DeliveryJob>(QUEUE, (job) => deliver(job.data), { connection: opts.connection, prefix, concurrency });
      worker.on('completed', () => opts.onDelivery?.('delivered'));
      worker.on('failed', (job, err) => {
        opts.onDelivery?.('failed');
        opts.logger.warn({ err, deliveryId: job?.data.deliveryId, attempts: job?.attemptsMade }, 'webhook delivery failed');
      });
      worker.on('error', (err) => opts.logger.warn({ err }, 'webhook worker error'));
    },
    async close() {
      await worker?.close();
      await queue.close();
    },
  };
}

export type WebhookDispatcher = ReturnType<typeof createWebhookDispatcher>;
