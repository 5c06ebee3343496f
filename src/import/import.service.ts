import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { eq } from 'drizzle-orm';
import { clientOwnerFor } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import { AppError } from '../errors.js';
import { assertAssignableOwner } from '../users/assignable-owner.js';
import { users } from '../users/users.table.js';
import { mappingError, type ColumnMapping } from './import-fields.js';
import { importJobs } from './import-jobs.table.js';
import { dryRun, MappingError, type FileRef, type ImportEnv } from './import-run.js';
import { FileUnreadable, SheetNotFound, sniffFile } from './read-rows.js';

export interface ImportFiles {
  /** Where uploads live while their import runs: `<DATA_DIR>/imports` (survives a restart). */
  dir: string;
  maxBytes: number;
}

export type ImportJob = typeof importJobs.$inferSelect;
export const filePath = (files: ImportFiles, job: Pick<ImportJob, 'id' | 'format'>) => join(files.dir, `${job.id}.${job.format}`);
export const rejectedPath = (files: ImportFiles, id: number) => join(files.dir, `${id}.rejected.csv`);
export const fileRef = (files: ImportFiles, job: ImportJob): FileRef => ({
  path: filePath(files, job),
  shape: { format: job.format, encoding: job.encoding as FileRef['shape']['encoding'], delimiter: job.delimiter as FileRef['shape']['delimiter'] },
  sheet: job.sheet,
});

function limiter(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(new AppError('PAYLOAD_TOO_LARGE', `a file may be at most ${max} bytes`));
      else done(null, chunk);
    },
  });
}

const asBadInput = (err: unknown): never => {
  if (err instanceof MappingError || err instanceof SheetNotFound || err instanceof FileUnreadable) throw new AppError('VALIDATION', err.message);
  throw err;
};

/** Stores the upload, runs the dry run and records the import (status `checked`). */
export async function uploadAndCheck(
  env: ImportEnv,
  files: ImportFiles,
  actor: Actor,
  viewer: Viewer,
  input: { body: Readable; fileName: string; sheet: string | null; ownerId: number | undefined },
): Promise<ImportJob> {
  const decided = clientOwnerFor(viewer, input.ownerId);
  if ('error' in decided) throw new AppError('FORBIDDEN', decided.error);
  await env.db.transaction((tx) => assertAssignableOwner(tx, viewer, decided.ownerId));
  await mkdir(files.dir, { recursive: true });
  const tmp = join(files.dir, `upload-${randomBytes(8).toString('hex')}`);
  try {
    await pipeline(input.body, limiter(files.maxBytes), createWriteStream(tmp));
    if ((await stat(tmp)).size === 0) throw new AppError('VALIDATION', 'the file is empty');
    const shape = await sniffFile(tmp);
    const result = await dryRun(env, viewer, { path: tmp, shape, sheet: input.sheet }, null, `${tmp}.rejected`).catch(asBadInput);
    const [job] = await env.db
      .insert(importJobs)
      .values({
        createdBy: viewer.id, fileName: input.fileName, format: shape.format, encoding: shape.encoding, delimiter: shape.delimiter, sheet: input.sheet,
        mapping: result.mapping, defaultOwnerId: decided.ownerId, rowsTotal: result.report.rowsRead,
        report: { header: result.header, ...result.report },
      })
      .returning();
    await rename(tmp, filePath(files, job!));
    await rename(`${tmp}.rejected`, rejectedPath(files, job!.id));
    await recordAudit(env.db, { ...actor, action: 'client.import_check', entity: 'import', entityId: job!.id, details: { fileName: input.fileName, rows: result.report.rowsRead } });
    return job!;
  } finally {
    await rm(tmp, { force: true });
    await rm(`${tmp}.rejected`, { force: true });
  }
}

/** The import if the viewer started it (a director sees every import). */
export async function loadJob(env: ImportEnv, viewer: Viewer, id: number): Promise<ImportJob> {
  const [job] = await env.db.select().from(importJobs).where(eq(importJobs.id, id));
  if (!job || (viewer.role !== 'director' && job.createdBy !== viewer.id)) throw new AppError('NOT_FOUND', `import ${id} does not exist`);
  return job;
}

/** The dry run again with a mapping the user changed. */
export async function recheck(env: ImportEnv, files: ImportFiles, viewer: Viewer, id: number, mapping: ColumnMapping[]): Promise<ImportJob> {
  const job = await loadJob(env, viewer, id);
  if (job.status !== 'checked') throw new AppError('CONFLICT', `import ${id} is ${job.status}; only a checked import can be checked again`);
  const header = (job.report?.header as string[] | undefined) ?? [];
  const error = mappingError(mapping, header.length);
  if (error) throw new AppError('VALIDATION', error);
  const withHeaders = mapping.map((m) => ({ ...m, header: header[m.index] ?? m.header }));
  const result = await dryRun(env, viewer, fileRef(files, job), withHeaders, rejectedPath(files, id)).catch(asBadInput);
  const [row] = await env.db
    .update(importJobs)
    .set({ mapping: result.mapping, rowsTotal: result.report.rowsRead, report: { header: result.header, ...result.report } })
    .where(eq(importJobs.id, id))
    .returning();
  return row!;
}

/** The signed-in user as access rules see them, for the worker (which has no request). */
export async function viewerById(env: ImportEnv, id: number): Promise<Viewer> {
  const [u] = await env.db
    .select({ id: users.id, login: users.login, name: users.name, role: users.role, departmentId: users.departmentId, managerId: users.managerId })
    .from(users)
    .where(eq(users.id, id));
  if (!u) throw new Error(`user ${id} is gone`);
  return u;
}

/** Rows done, rate and ETA as the console shows them. */
export function progressOf(job: ImportJob, now = Date.now()) {
  const seconds = job.startedAt ? Math.max(0.001, ((job.finishedAt?.getTime() ?? now) - job.startedAt.getTime()) / 1000) : 0;
  const rate = seconds > 0 ? Math.round(job.rowsDone / seconds) : 0;
  const left = Math.max(0, job.rowsTotal - job.rowsDone);
  return { rowsDone: job.rowsDone, rowsTotal: job.rowsTotal, rowsPerSecond: rate, etaSeconds: job.status === 'running' && rate > 0 ? Math.ceil(left / rate) : null };
}
