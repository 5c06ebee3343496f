import { rm } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { Queue, Worker, type Job } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Audience } from '../events/event-bus.js';
import { createRedis } from '../infra/redis.js';
import { importJobs } from './import-jobs.table.js';
import type { ImportEnv } from './import-run.js';
import { realRun } from './real-run.js';
import { filePath, fileRef, loadJob, progressOf, viewerById, type ImportFiles, type ImportJob } from './import.service.js';
import { importRoutes } from './import.routes.js';

// The real run as a BullMQ job: BullMQ hands the job to a live worker (a stalled one's job is
// taken over by another instance or after a restart); the job's row in import_jobs is the record
// of how far it got (import-run.ts), so the new worker resumes after the last committed batch.

export interface ImportModuleDeps {
  env: ImportEnv;
  files: ImportFiles;
  redisUrl: string;
  prefix?: string;
  logger: Logger;
  bus?: { publish(to: Audience, frame: object): void };
  /** How long a dead worker keeps its job (BullMQ lock); tests shorten it to test a restart. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Test hook: after every committed batch (may block, to stop a worker mid-file). */
  onBatch?: (importId: number, lastRow: number) => Promise<void> | void;
}

type RunJob = Job<{ importId: number }, string, 'run'>;

const READY_WAIT_MS = 2_000;

export function createImportModule(deps: ImportModuleDeps) {
  const { env, logger } = deps;
  const log = logger.child({ feature: 'import' });
  const prefix = deps.prefix ?? 'switchboard';
  const producer = createRedis(deps.redisUrl, 'command');
  const queue = new Queue<{ importId: number }, string, 'run'>('imports', { connection: producer, prefix });
  queue.on('error', (err) => log.warn({ err }, 'import queue error'));
  let worker: Worker<{ importId: number }, string, 'run'> | null = null;
  let workerReady: Promise<void> = Promise.resolve();

  // A worker closed while its connection is still being set up (a stop right after start) leaves
  // BullMQ's set-up command to fail with "Connection is closed" and nobody to catch it (an
  // unhandled rejection, seen in test/import/real-run.test.ts). Let the set-up finish first, for
  // at most READY_WAIT_MS: with Redis down it never does, and shutdown must not wait for it.
  const closeWorker = async (force: boolean) => {
    await Promise.race([workerReady, delay(READY_WAIT_MS, undefined, { ref: false })]);
    await worker?.close(force);
    worker = null;
  };

  const frame = (job: ImportJob) => ({ type: 'import.progress', importId: job.id, status: job.status, ...progressOf(job), created: job.createdCount, updated: job.updatedCount, unchanged: job.unchangedCount, rejected: job.rejectedCount });
  const publish = async (id: number) => {
    const [job] = await env.db.select().from(importJobs).where(eq(importJobs.id, id));
    if (job && deps.bus) deps.bus.publish({ userIds: [job.createdBy] }, frame(job));
    return job;
  };

  // The upload is the company's client base in one file: once its run is over (done, cancelled,
  // failed for good) it is deleted. The rejected rows, which the user downloads to fix, stay.
  const dropUpload = (job: Pick<ImportJob, 'id' | 'format'>) =>
    rm(filePath(deps.files, job), { force: true }).catch((err: unknown) => log.warn({ err, importId: job.id }, 'could not delete the uploaded file of a finished import'));

  async function processRun(bullJob: RunJob): Promise<string> {
    const id = bullJob.data.importId;
    const [job] = await env.db
      .update(importJobs)
      .set({ status: 'running', startedAt: sql`coalesce(${importJobs.startedAt}, now())` })
      .where(eq(importJobs.id, id))
      .returning();
    if (!job || job.status === 'done') return 'gone';
    if (job.cancelRequested) {
      await env.db.update(importJobs).set({ status: 'cancelled', finishedAt: new Date() }).where(eq(importJobs.id, id));
      await dropUpload(job);
      await publish(id);
      return 'cancelled';
    }
    const viewer = await viewerById(env, job.createdBy);
    try {
      const outcome = await realRun(env, viewer, job, fileRef(deps.files, job), {
        afterBatch: async ({ lastRow }) => {
          await deps.onBatch?.(id, lastRow);
          await bullJob.updateProgress({ lastRow }).catch(() => {});
          const now = await publish(id);
          return now?.cancelRequested === true;
        },
      });
      await env.db.update(importJobs).set({ status: outcome, finishedAt: new Date() }).where(eq(importJobs.id, id));
      await dropUpload(job);
      await publish(id);
      return outcome;
    } catch (err) {
      log.error({ err, importId: id }, 'import failed');
      // Retried by BullMQ from the last committed batch; the last attempt marks the import failed.
      if (bullJob.attemptsMade + 1 >= (bullJob.opts.attempts ?? 1)) {
        await env.db.update(importJobs).set({ status: 'failed', error: err instanceof Error ? err.message.slice(0, 500) : String(err), finishedAt: new Date() }).where(eq(importJobs.id, id));
        await dropUpload(job);
        await publish(id);
      }
      throw err;
    }
  }

  const enqueue = async (id: number) => {
    await queue.add('run', { importId: id }, { jobId: `import-${id}`, attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: true, removeOnFail: 100 });
  };

  const routes: FastifyPluginAsyncTypebox = async (app) => {
    await app.register(importRoutes, { env, files: deps.files, enqueue });
  };

  return {
    routes,
    queue,
    /** Reads a job's state (tests, the console through GET /api/import/jobs/:id). */
    load: (viewer: Parameters<typeof loadJob>[1], id: number) => loadJob(env, viewer, id),
    async start() {
      worker = new Worker<{ importId: number }, string, 'run'>('imports', processRun, {
        connection: createRedis(deps.redisUrl, 'blocking'),
        prefix,
        // One file at a time per instance: an import is a long run of database writes.
        concurrency: 1,
        ...(deps.lockDurationMs !== undefined && { lockDuration: deps.lockDurationMs }),
        ...(deps.stalledIntervalMs !== undefined && { stalledInterval: deps.stalledIntervalMs }),
      });
      worker.on('error', (err) => log.warn({ err }, 'import worker error'));
      // Not awaited: the service starts with Redis down too; stop() waits for it, briefly.
      workerReady = worker.waitUntilReady().then(() => {}, () => {});
    },
    /** `force`: drop the running job as a crash would (tests of the restart). */
    async stop(force = false) {
      await closeWorker(force);
    },
    async close(force = false) {
      await closeWorker(force);
      await queue.close();
      producer.disconnect();
    },
  };
}
export type ImportModule = ReturnType<typeof createImportModule>;
