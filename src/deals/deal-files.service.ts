import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { and, asc, eq } from 'drizzle-orm';
import type { Viewer } from '../auth/viewer.js';
import { recordAudit, type Actor } from '../audit/audit.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import type { RecordingStorage } from '../recordings/storage.js';
import { cleanFileName } from './deal-file-rules.js';
import { dealFiles } from './deals.table.js';
import { loadVisibleDeal } from './deals.service.js';
import { withActor } from '../history/with-actor.js';

export interface DealFileDeps {
  db: Db;
  storage: RecordingStorage;
  maxBytes: number;
  allowedTypes: ReadonlySet<string>;
}

export type DealFileView = { id: number; dealId: number; fileName: string; contentType: string; size: number; uploadedById: number | null; createdAt: Date };
const columns = {
  id: dealFiles.id,
  dealId: dealFiles.dealId,
  fileName: dealFiles.fileName,
  contentType: dealFiles.contentType,
  size: dealFiles.size,
  uploadedById: dealFiles.uploadedById,
  createdAt: dealFiles.createdAt,
};

/**
 * Streams an upload into storage, then records it. The deal is checked before a byte is stored;
 * the key is ours (deal id + random), never the user's file name, so names cannot collide or
 * point anywhere. A row that fails to insert takes its object with it.
 */
export async function uploadDealFile(
  deps: DealFileDeps,
  actor: Actor,
  viewer: Viewer,
  dealId: number,
  upload: { fileName: string | undefined; contentType: string; body: Readable },
): Promise<DealFileView> {
  await loadVisibleDeal(deps.db, viewer, dealId);
  if (!deps.allowedTypes.has(upload.contentType)) {
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `files of type "${upload.contentType.slice(0, 100)}" are not accepted; allowed: ${[...deps.allowedTypes].join(', ')}`);
  }
  const key = `deal-${dealId}-${randomUUID()}`;
  // pipe(), not the request itself: the storage's pipeline destroys its source when the limiter
  // trips, and a destroyed request takes the socket along before the 413 could be sent.
  const { size } = await deps.storage.put(key, upload.body.pipe(new PassThrough()), { contentType: upload.contentType, maxBytes: deps.maxBytes });
  try {
    return await withActor(deps.db, { id: actor.actorId }, 'api', async (tx) => {
      const [row] = await tx
        .insert(dealFiles)
        .values({ dealId, storageKey: key, fileName: cleanFileName(upload.fileName), contentType: upload.contentType, size, uploadedById: viewer.id })
        .returning(columns);
      await recordAudit(tx, { ...actor, action: 'deal.file.upload', entity: 'deal', entityId: dealId, details: { fileId: row!.id, size, contentType: upload.contentType } });
      return row!;
    });
  } catch (error) {
    await deps.storage.delete(key);
    throw error;
  }
}

export async function listDealFiles(db: Db, viewer: Viewer, dealId: number): Promise<DealFileView[]> {
  await loadVisibleDeal(db, viewer, dealId);
  return db.select(columns).from(dealFiles).where(eq(dealFiles.dealId, dealId)).orderBy(asc(dealFiles.id));
}

async function loadFile(db: Db, viewer: Viewer, dealId: number, fileId: number) {
  await loadVisibleDeal(db, viewer, dealId);
  const [row] = await db.select().from(dealFiles).where(and(eq(dealFiles.id, fileId), eq(dealFiles.dealId, dealId)));
  if (!row) throw new AppError('NOT_FOUND', `file ${fileId} of deal ${dealId} does not exist`);
  return row;
}

/** The file's stream, opened before the audit row (a vanished file is no download). */
export async function openDealFile(deps: DealFileDeps, actor: Actor, viewer: Viewer, dealId: number, fileId: number): Promise<{ file: DealFileView; body: Readable }> {
  const row = await loadFile(deps.db, viewer, dealId, fileId);
  const body = await deps.storage.get(row.storageKey);
  try {
    // A contract or an invoice is the client's personal data: every download is in the audit log.
    await recordAudit(deps.db, { ...actor, action: 'deal.file.download', entity: 'deal', entityId: dealId, details: { fileId } });
  } catch (error) {
    body.destroy();
    throw error;
  }
  const { storageKey: _key, ...file } = row;
  return { file, body };
}

/** The row goes first: a failed object delete leaves an unreachable object, never a dead link. */
export async function deleteDealFile(deps: DealFileDeps, actor: Actor, viewer: Viewer, dealId: number, fileId: number): Promise<void> {
  const row = await loadFile(deps.db, viewer, dealId, fileId);
  await withActor(deps.db, { id: actor.actorId }, 'api', async (tx) => {
    await tx.delete(dealFiles).where(eq(dealFiles.id, fileId));
    await recordAudit(tx, { ...actor, action: 'deal.file.delete', entity: 'deal', entityId: dealId, details: { fileId, fileName: row.fileName } });
  });
  await deps.storage.delete(row.storageKey);
}
