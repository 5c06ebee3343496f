import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { and, eq, inArray } from 'drizzle-orm';
import { recordAudit, type Actor } from '../audit/audit.js';
import { seesWorkOf } from '../auth/access.js';
import type { Viewer } from '../auth/viewer.js';
import { calls, recordings } from '../calls/calls.table.js';
import { clients } from '../clients/clients.table.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import { AppError } from '../errors.js';
import { asDbId } from '../http/schemas.js';
import { users } from '../users/users.table.js';
import { AUDIO_FORMATS, contentTypeForKey, type AudioExtension, type RecordingStorage } from './storage.js';

export interface RecordingDeps {
  db: Db;
  config: Pick<Config, 'PBX_SYSTEM_NAME' | 'RECORDINGS_DIR' | 'RECORDINGS_MAX_BYTES'>;
  storage: RecordingStorage;
}

export type RecordingRow = typeof recordings.$inferSelect;
type CallRow = typeof calls.$inferSelect;

// `<epoch>.<seq>`, optionally `systemname-` prefixed (DESIGN.md); never parsed as a number.
export const UNIQUEID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$';
const UNIQUEID = new RegExp(UNIQUEID_PATTERN);
export const isValidUniqueid = (value: string) => UNIQUEID.test(value) && !value.includes('..');

// Media types a PBX may declare, by the file extension they are stored under.
const UPLOAD_TYPES = new Map<string, AudioExtension>([
  ['audio/wav', 'wav'], ['audio/wave', 'wav'], ['audio/x-wav', 'wav'], ['audio/vnd.wave', 'wav'],
  ['audio/mpeg', 'mp3'], ['audio/mp3', 'mp3'],
  ['audio/ogg', 'ogg'],
  ['audio/gsm', 'gsm'], ['audio/x-gsm', 'gsm'],
]);
export const mediaTypeOf = (header: string | undefined) => (header ?? '').split(';')[0]!.trim().toLowerCase();
/** Whether an upload may start at all; `application/octet-stream` is decided by its first bytes. */
export const isAcceptedUploadType = (mediaType: string) => UPLOAD_TYPES.has(mediaType) || mediaType === 'application/octet-stream';

/** The format of a file from its first bytes; raw GSM has no signature and must be declared. */
export function sniffAudio(head: Buffer): AudioExtension | null {
  if (head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WAVE') return 'wav';
  if (head.subarray(0, 4).toString('latin1') === 'OggS') return 'ogg';
  if (head.subarray(0, 3).toString('latin1') === 'ID3' || (head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0)) return 'mp3';
  return null;
}

/** Reads the first `n` bytes and hands back a stream that still yields everything. */
async function peek(source: Readable, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const iterator = source[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < n && !done) {
    const next = await iterator.next();
    if (next.done) done = true;
    else (chunks.push(next.value), (length += next.value.length));
  }
  const head = Buffer.concat(chunks);
  async function* all() {
    yield head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  }
  return { head, stream: Readable.from(all(), { objectMode: false }) };
}

async function upsertRecording(db: Db, row: Omit<typeof recordings.$inferInsert, 'id' | 'createdAt'>): Promise<RecordingRow> {
  const [saved] = await db
    .insert(recordings)
    .values(row)
    .onConflictDoUpdate({
      target: [recordings.systemName, recordings.uniqueid],
      set: { storageKey: row.storageKey, contentType: row.contentType, sizeBytes: row.sizeBytes, createdAt: new Date() },
    })
    .returning();
  return saved!;
}

async function recordingByUniqueid(db: Db, systemName: string, uniqueid: string): Promise<RecordingRow | null> {
  const [row] = await db
    .select()
    .from(recordings)
    .where(and(eq(recordings.systemName, systemName), eq(recordings.uniqueid, uniqueid)))
    .limit(1);
  return row ?? null;
}

/**
 * Stores a file the PBX pushes and registers it. A second upload of the same Uniqueid replaces
 * the first (the post-command may retry); the old object goes if its name changed.
 */
export async function storeUpload(
  deps: RecordingDeps,
  input: { uniqueid: string; contentType: string | undefined; body: Readable },
): Promise<{ uniqueid: string; size: number; contentType: string }> {
  if (!isValidUniqueid(input.uniqueid)) throw new AppError('VALIDATION', 'uniqueid: not an Asterisk Uniqueid');
  const mediaType = mediaTypeOf(input.contentType);
  const unsupported = () =>
    new AppError('UNSUPPORTED_MEDIA_TYPE', `send ${[...UPLOAD_TYPES.keys()].join(', ')}, or application/octet-stream with a WAV, Ogg or MP3 file`);
  if (!isAcceptedUploadType(mediaType)) throw unsupported();
  const { head, stream } = await peek(input.body, 12);
  if (head.length === 0) throw new AppError('VALIDATION', 'the recording is empty');
  const ext = UPLOAD_TYPES.get(mediaType) ?? sniffAudio(head);
  if (ext === null) throw unsupported();
  const storageKey = `${input.uniqueid}.${ext}`;
  const contentType = AUDIO_FORMATS[ext];
  const systemName = deps.config.PBX_SYSTEM_NAME;
  const previous = await recordingByUniqueid(deps.db, systemName, input.uniqueid);
  const { size } = await deps.storage.put(storageKey, stream, { contentType, maxBytes: deps.config.RECORDINGS_MAX_BYTES });
  await upsertRecording(deps.db, { systemName, uniqueid: input.uniqueid, storageKey, contentType, sizeBytes: size });
  if (previous && previous.storageKey !== storageKey) await deps.storage.delete(previous.storageKey);
  return { uniqueid: input.uniqueid, size, contentType };
}

// The name the dialplan gives (`${UNIQUEID}.wav`) first; wav49 is written as `.WAV`.
const DIR_EXTENSIONS: readonly AudioExtension[] = ['wav', 'WAV', 'ogg', 'mp3', 'gsm'];

/**
 * Finds `<uniqueid>.<ext>` in RECORDINGS_DIR and registers it; idempotent (one row per
 * system_name + uniqueid). When the storage is that same folder the file is served in place;
 * otherwise (S3) it is copied once. `settledMs`: skip a file changed more recently than that,
 * because MixMonitor is still writing it and fixes the WAV header only when it closes.
 */
export async function attachFromRecordingsDir(
  deps: RecordingDeps,
  uniqueid: string,
  options: { systemName?: string; settledMs?: number } = {},
): Promise<RecordingRow | null> {
  const dir = deps.config.RECORDINGS_DIR;
  if (dir === '' || !isValidUniqueid(uniqueid)) return null;
  for (const ext of DIR_EXTENSIONS) {
    const name = `${uniqueid}.${ext}`;
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) continue;
    if (options.settledMs && Date.now() - info.mtimeMs < options.settledMs) return null;
    const contentType = AUDIO_FORMATS[ext];
    const stored = await deps.storage.stat(name);
    if (stored?.size !== info.size) {
      // The PBX wrote it already; the upload limit is for what strangers send.
      await deps.storage.put(name, createReadStream(file), { contentType, maxBytes: Number.POSITIVE_INFINITY });
    }
    const systemName = options.systemName ?? deps.config.PBX_SYSTEM_NAME;
    return upsertRecording(deps.db, { systemName, uniqueid, storageKey: name, contentType, sizeBytes: info.size });
  }
  return null;
}

/** A still-running call's file is only taken once it has been left alone this long. */
const LIVE_CALL_SETTLE_MS = 60_000;

export async function findRecordingForCall(
  deps: RecordingDeps,
  call: Pick<CallRow, 'systemName' | 'linkedid' | 'recordingUniqueid' | 'endedAt'>,
): Promise<RecordingRow | null> {
  // Without a MixMonitorStart seen (AMI was down), the Linkedid is the best guess: our dialplan
  // records on the call's first channel, whose Uniqueid is the Linkedid.
  const uniqueid = call.recordingUniqueid ?? call.linkedid;
  const row = await recordingByUniqueid(deps.db, call.systemName, uniqueid);
  if (row) return row;
  return attachFromRecordingsDir(deps, uniqueid, {
    systemName: call.systemName,
    settledMs: call.endedAt ? 0 : LIVE_CALL_SETTLE_MS,
  });
}

/** A user a call belongs to, with what the access rules look at. */
export interface CallPerson {
  id: number;
  departmentId: number | null;
  managerId: number | null;
}

/**
 * Who may listen to a call, given its people: the client's owner then and now, whoever answered,
 * finished or started it. Director: every call. Curator: calls with someone of their department.
 * Manager: calls with themselves or their assistants. Assistant: what their manager may. Anyone:
 * their own calls. The rule is access.ts `seesWorkOf`, shared with routing traces.
 */
export function canListen(viewer: Viewer, people: readonly CallPerson[]): boolean {
  return seesWorkOf(viewer, people);
}

/** A call by numeric id or by Linkedid (which is never all digits: it has a '.'). */
async function loadCall(db: Db, ref: string, systemName: string): Promise<CallRow | null> {
  if (/^\d+$/.test(ref)) {
    const id = asDbId(ref);
    if (id === null) return null;
    const [row] = await db.select().from(calls).where(eq(calls.id, id)).limit(1);
    return row ?? null;
  }
  const [row] = await db.select().from(calls).where(and(eq(calls.systemName, systemName), eq(calls.linkedid, ref))).limit(1);
  return row ?? null;
}

async function peopleOf(db: Db, call: CallRow): Promise<CallPerson[]> {
  const ids = new Set([call.ownerId, call.answeredById, call.finalUserId, call.initiatedById]);
  if (call.clientId !== null) {
    const [client] = await db.select({ ownerId: clients.ownerId }).from(clients).where(eq(clients.id, call.clientId)).limit(1);
    ids.add(client?.ownerId ?? null);
  }
  const wanted = [...ids].filter((id): id is number => id !== null);
  if (wanted.length === 0) return [];
  return db.select({ id: users.id, departmentId: users.departmentId, managerId: users.managerId }).from(users).where(inArray(users.id, wanted));
}

export interface Listenable {
  call: CallRow;
  recording: RecordingRow;
  size: number;
  contentType: string;
}

/**
 * The call's recording if the viewer may hear it. Every "no" is the same NOT_FOUND, so nobody
 * learns that a call they may not see exists.
 */
export async function findListenable(deps: RecordingDeps, viewer: Viewer, ref: string): Promise<Listenable> {
  const call = await loadCall(deps.db, ref, deps.config.PBX_SYSTEM_NAME);
  if (!call || !canListen(viewer, await peopleOf(deps.db, call))) throw new AppError('NOT_FOUND', `call ${ref} not found`);
  const recording = await findRecordingForCall(deps, call);
  const stored = recording && (await deps.storage.stat(recording.storageKey));
  if (!recording || !stored) throw new AppError('NOT_FOUND', `call ${ref} has no recording`);
  // The file name decides (a browser picks its decoder by it); the row's type is the fallback.
  const byName = contentTypeForKey(recording.storageKey);
  return { call, recording, size: stored.size, contentType: byName === 'application/octet-stream' ? recording.contentType : byName };
}

/** One history row per listen (each request that sends audio; seeks are requests too). */
export async function recordListen(db: Db, actor: Actor, found: Listenable, range: string | null): Promise<void> {
  await recordAudit(db, {
    actorId: actor.actorId,
    action: 'recording.listen',
    entity: 'call',
    entityId: found.call.id,
    details: { clientId: found.call.clientId, recordingId: found.recording.id, uniqueid: found.recording.uniqueid, range },
    ip: actor.ip,
  });
}
