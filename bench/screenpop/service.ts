// `BENCH_BREAKDOWN=1`: the service for the screen-pop benchmark with a breakdown of where a pop's
// time goes. It starts exactly what src/server.ts starts against configured PostgreSQL and Redis
// — loadConfig, createDatabase, migrations, createRuntime, listen, start, graceful stop on
// SIGTERM — and times the runtime's own steps from outside, reported through probe.ts:
//   pipelineMs      AMI DialBegin handed to the pipeline → call.ringing handed to WsHub.deliver;
//   popDeliverMs    time inside WsHub.deliver for a pop (one socket);
//   fanoutDeliverMs time inside WsHub.deliver for a frame to supervisors (the fan-out);
//   queries         the service pool's queries by statement: count, total and longest ms (pool
//                   wait included), and the most callers seen waiting for a pooled connection.
// runtime.ts calls `pipeline.handle(event)` and `hub.deliver(message)` through the objects at
// call time, so wrapping those two methods here times the real calls without touching src/.
import 'dotenv/config';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/client.js';
import { runMigrations } from '../../src/db/migrate.js';
import type { BusMessage } from '../../src/events/event-bus.js';
import { createLogger } from '../../src/logger.js';
import type { AmiEvent } from '../../src/pbx/events.js';
import { createRuntime } from '../../src/runtime.js';
import { addProbeStats } from './probe.js';

/** What `stats` answers with this entry, besides probe.ts's loopDelay. */
export interface BreakdownStats {
  pipelineMs: number[];
  popDeliverMs: number[];
  fanoutDeliverMs: number[];
  hubSize: number;
  queries: Record<string, { count: number; totalMs: number; maxMs: number }>;
  poolWaitingMax: number;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  const database = createDatabase(config.DATABASE_URL ?? '');
  await runMigrations(database.db);
  const runtime = await createRuntime({ config, logger, database }); // REDIS_PREFIX (env) namespaces its keys

  const dialBeginAt = new Map<string, number>();
  const fresh = () => ({ pipelineMs: [] as number[], popDeliverMs: [] as number[], fanoutDeliverMs: [] as number[], queries: {} as BreakdownStats['queries'], poolWaitingMax: 0 });
  let stats = fresh();
  addProbeStats(
    () => ({ ...stats, hubSize: runtime.hub.size }),
    () => {
      stats = fresh();
      dialBeginAt.clear();
    },
  );
  // pg.Pool#query is what drizzle and the raw queries call (transactions go through connect()).
  const pool = database.pool;
  const query = pool.query.bind(pool) as (...args: unknown[]) => Promise<unknown>;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0] as string | { name?: string; text?: string };
    const key = typeof first === 'string' ? first : (first.name ?? first.text ?? '?');
    const label = key.replace(/\s+/g, ' ').trim().slice(0, 90);
    const start = performance.now();
    stats.poolWaitingMax = Math.max(stats.poolWaitingMax, pool.waitingCount);
    const done = () => {
      const entry = (stats.queries[label] ??= { count: 0, totalMs: 0, maxMs: 0 });
      const took = performance.now() - start;
      entry.count += 1;
      entry.totalMs += took;
      entry.maxMs = Math.max(entry.maxMs, took);
    };
    const result = query(...args);
    if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(done, done);
    return result;
  };
  const handle = runtime.pipeline.handle.bind(runtime.pipeline);
  runtime.pipeline.handle = (event: AmiEvent, now?: Date) => {
    if (event.event === 'DialBegin' && event.linkedid) dialBeginAt.set(event.linkedid, performance.now());
    handle(event, now);
  };
  const deliver = runtime.hub.deliver.bind(runtime.hub);
  runtime.hub.deliver = (message: BusMessage) => {
    const start = performance.now();
    deliver(message);
    const took = performance.now() - start;
    if (message.frame.startsWith('{"type":"call.ringing"')) {
      stats.popDeliverMs.push(took);
      const linkedid = (JSON.parse(message.frame) as { linkedid: string }).linkedid;
      const at = dialBeginAt.get(linkedid);
      if (at !== undefined) {
        stats.pipelineMs.push(start - at);
        dialBeginAt.delete(linkedid);
      }
    } else if (message.to.supervisorsOf?.length) {
      stats.fanoutDeliverMs.push(took);
    }
  };

  let stopping = false;
  async function stop(reason: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'bench service stopping');
    try {
      await runtime.stop();
    } catch (err) {
      logger.error({ err }, 'error while stopping the runtime');
    }
    await database.close().catch(() => {});
    process.exit(0);
  }
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  await runtime.app.listen({ host: config.HOST, port: config.PORT });
  await runtime.start();
}

main().catch((err: unknown) => {
  process.stderr.write(`bench service failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
