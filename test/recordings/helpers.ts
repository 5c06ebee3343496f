import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { issueToken } from '../../src/auth/tokens.js';
import { calls } from '../../src/calls/calls.table.js';
import { clients } from '../../src/clients/clients.table.js';
import { loadConfig, type Config } from '../../src/config.js';
import { departments } from '../../src/departments/departments.table.js';
import { createStorage } from '../../src/recordings/create-storage.js';
import type { RecordingStorage } from '../../src/recordings/storage.js';
import { users, type Role } from '../../src/users/users.table.js';
import { createTestApp, TEST_PBX_TOKEN } from '../support/test-app.js';
import type { TestDatabase } from '../support/test-db.js';

export { TEST_PBX_TOKEN };

export interface RecordingsTestApp {
  app: FastifyInstance;
  database: TestDatabase;
  config: Config;
  storage: RecordingStorage;
  /** DATA_DIR of this app: recordings land in `<dataDir>/recordings` unless RECORDINGS_DIR is set. */
  dataDir: string;
  close(): Promise<void>;
}

/**
 * The real app (createTestApp) on a fresh database with the recording plugins wired to a storage
 * built from the same environment, the way server.ts passes `createStorage(config)` to buildApp.
 * Recordings land in a fresh DATA_DIR unless RECORDINGS_DIR or S3_* say otherwise.
 */
export async function createRecordingsApp(env: Record<string, string> = {}): Promise<RecordingsTestApp> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'sb-rec-'));
  const fullEnv = { DATA_DIR: dataDir, ...env };
  const storage = createStorage(loadConfig({ NODE_ENV: 'test', PBX_TOKEN: TEST_PBX_TOKEN, ...fullEnv }));
  const t = await createTestApp(fullEnv, { storage });
  return {
    app: t.app,
    database: t.database,
    config: t.config,
    storage,
    dataDir,
    async close() {
      await t.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

let seq = 0;

export async function addUser(
  t: RecordingsTestApp,
  fields: { role: Role; departmentId?: number | null; managerId?: number | null },
): Promise<{ id: number; token: string }> {
  const login = `${fields.role}${++seq}`;
  const [row] = await t.database.db
    .insert(users)
    .values({ ...fields, login, name: login, passwordHash: 'not-used' })
    .returning({ id: users.id });
  const { token } = await issueToken(t.database.db, row!.id, 1);
  return { id: row!.id, token };
}

export async function addDepartment(t: RecordingsTestApp, name: string): Promise<number> {
  const [row] = await t.database.db.insert(departments).values({ name, lineKind: 'dial', lineTarget: 'PJSIP/200' }).returning({ id: departments.id });
  return row!.id;
}

export async function addClient(t: RecordingsTestApp, ownerId: number): Promise<number> {
  const [row] = await t.database.db.insert(clients).values({ name: `client ${++seq}`, ownerId }).returning({ id: clients.id });
  return row!.id;
}

let linkedSeq = 1_700_000_000;

export async function addCall(
  t: RecordingsTestApp,
  fields: Partial<typeof calls.$inferInsert> = {},
): Promise<{ id: number; linkedid: string }> {
  const linkedid = fields.linkedid ?? `${++linkedSeq}.${seq++}`;
  const [row] = await t.database.db
    .insert(calls)
    .values({
      systemName: t.config.PBX_SYSTEM_NAME,
      direction: 'inbound',
      startedAt: new Date(Date.now() - 60_000),
      endedAt: new Date(),
      disposition: 'answered',
      recordingUniqueid: linkedid,
      ...fields,
      linkedid,
    })
    .returning({ id: calls.id, linkedid: calls.linkedid });
  return row!;
}

/** A valid 8 kHz / 16-bit / mono PCM WAV, as MixMonitor writes: 44-byte header + samples. */
export function wavFile(dataBytes: number): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + dataBytes, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(8000, 24); // sample rate
  header.writeUInt32LE(16000, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(dataBytes, 40);
  const samples = Buffer.alloc(dataBytes);
  for (let i = 0; i < dataBytes; i++) samples[i] = (i * 7 + 3) % 256;
  return Buffer.concat([header, samples]);
}

export const pbxHeaders = (contentType = 'audio/wav') => ({ 'x-switchboard-token': TEST_PBX_TOKEN, 'content-type': contentType });
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
