import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** What the scrape reads at the moment it runs (gauges cost nothing between scrapes). */
export interface MetricSources {
  amiStatus?: () => string;
  liveCalls?: () => number;
  wsConnections?: () => number;
  pool?: { totalCount: number; idleCount: number; waitingCount: number };
  /** BullMQ queues by name: `getJobCounts` is one Redis round trip per queue and scrape. */
  queues?: Record<string, { getJobCounts(...types: string[]): Promise<Record<string, number>> }>;
}

const AMI_STATES = ['connected', 'connecting', 'down', 'disabled'] as const;
const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * One registry per instance (tests run several in one process). Counters and histograms are
 * bumped where things happen; gauges are read from `sources` when Prometheus scrapes.
 */
export function createMetrics() {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: 'switchboard_' });
  const sources: MetricSources = {};

  const metrics = {
    registry,
    routeDecisions: new Counter({ name: 'switchboard_route_decisions_total', help: 'Answers to /pbx/route by decision reason and action', labelNames: ['reason', 'action'] as const, registers }),
    // Buckets around the 250 ms budget: the interesting part is how close to it we get.
    routeDuration: new Histogram({ name: 'switchboard_route_duration_seconds', help: 'Time to decide a /pbx/route answer', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers }),
    routeFallbacks: new Counter({ name: 'switchboard_route_fallbacks_total', help: 'Department-line answers given because the routing directory was too old (stale) or the decision failed (error)', labelNames: ['cause'] as const, registers }),
    amiReconnects: new Counter({ name: 'switchboard_ami_reconnects_total', help: 'AMI logins after the first one of this instance', registers }),
    popsSent: new Counter({ name: 'switchboard_screen_pops_total', help: 'call.ringing frames published to a user', registers }),
    popLatency: new Histogram({ name: 'switchboard_screen_pop_latency_seconds', help: 'From the ringing AMI event to the published pop', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers }),
    webhookDeliveries: new Counter({ name: 'switchboard_webhook_deliveries_total', help: 'Webhook delivery attempts by outcome', labelNames: ['outcome'] as const, registers }),
    /** Sets what gauges read at scrape time; later calls add to earlier ones. */
    observe(more: MetricSources) {
      Object.assign(sources, more, { queues: { ...sources.queues, ...more.queues } });
    },
  };

  // Series that exist from the start, so a rate() over them is 0, not "no data".
  for (const cause of ['stale', 'error']) metrics.routeFallbacks.inc({ cause }, 0);
  for (const outcome of ['delivered', 'failed']) metrics.webhookDeliveries.inc({ outcome }, 0);

  new Gauge({
    name: 'switchboard_ami_connection_state',
    help: 'AMI connection: 1 for the current state',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const now = sources.amiStatus?.() ?? 'disabled';
      for (const state of AMI_STATES) this.set({ state }, state === now ? 1 : 0);
    },
  });
  new Gauge({ name: 'switchboard_live_calls', help: 'Calls the tracker holds now', registers, collect() { this.set(sources.liveCalls?.() ?? 0); } });
  new Gauge({ name: 'switchboard_websocket_connections', help: 'Open screen WebSockets on this instance', registers, collect() { this.set(sources.wsConnections?.() ?? 0); } });
  new Gauge({
    name: 'switchboard_db_pool_connections',
    help: 'PostgreSQL pool: total, idle, and requests waiting for a connection',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const pool = sources.pool;
      if (!pool) return;
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  new Gauge({
    name: 'switchboard_queue_jobs',
    help: 'BullMQ jobs by queue and state (failed: kept failed jobs)',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect() {
      await Promise.all(
        Object.entries(sources.queues ?? {}).map(async ([queue, q]) => {
          const counts = await q.getJobCounts(...JOB_STATES).catch(() => null);
          if (counts) for (const state of JOB_STATES) this.set({ queue, state }, counts[state] ?? 0);
        }),
      );
    },
  });

  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
