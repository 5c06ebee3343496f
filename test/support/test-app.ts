import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { inject } from 'vitest';
import { buildApp, type AppDeps } from '../../src/app.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/logger.js';
import { createDirectorySync, heartbeatMsFor, type DirectorySync } from '../../src/routing/directory/directory-sync.js';
import { users, type Role } from '../../src/users/users.table.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';

export const TEST_PBX_TOKEN = 'test-pbx-token-0123456789';

export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  redis: Redis;
  config: Config;
  /** The app's routing directory. After writing to the database directly (not through the API),
   *  `await t.directory.barrier()` before asking /pbx/route: it reads memory only. */
  directory: DirectorySync;
  close(): Promise<void>;
}

/** The real app on a fresh database and the shared test Redis. */
export async function createTestApp(env: Record<string, string> = {}, extra: Partial<AppDeps> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  // A key space of its own: test files share one Redis, and sign-in failures are counted there.
  const REDIS_PREFIX = `sbtest-${randomBytes(4).toString('hex')}`;
  const config = loadConfig({ NODE_ENV: 'test', PBX_TOKEN: TEST_PBX_TOKEN, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', REDIS_PREFIX, ...env });
  const redis = createRedis(inject('redisUrl'), 'command');
  const logger = createLogger(config.LOG_LEVEL);
  const directory = extra.directory ?? createDirectorySync({ connection: database.pool.options, logger, heartbeatMs: heartbeatMsFor(config) });
  if (!extra.directory) await directory.start();
  const app = await buildApp({ config, logger, database, redis, directory, ...extra });
  await app.ready();
  return {
    app,
    database,
    redis,
    config,
    directory,
    async close() {
      await app.close();
      if (!extra.directory) await directory.stop();
      redis.disconnect();
      await database.drop();
    },
  };
}

let seq = 0;
// Cheap argon2 parameters are not worth a test-only code path: hash once and reuse.
let sharedHash: Promise<string> | undefined;
export const TEST_PASSWORD = 'correct horse battery';

/** Inserts a user directly and signs them in through the real login route. */
export async function createUser(
  t: TestApp,
  fields: { role: Role; login?: string; name?: string; departmentId?: number | null; managerId?: number | null; extension?: string | null; mobile?: string | null; presence?: 'available' | 'away' | 'dnd' | 'offline'; absentRule?: 'mobile' | 'department' | 'voicemail' },
): Promise<{ id: number; token: string; login: string }> {
  sharedHash ??= hashPassword(TEST_PASSWORD);
  const login = fields.login ?? `${fields.role}${++seq}`;
  const [row] = await t.database.db
    .insert(users)
    .values({ ...fields, login, name: fields.name ?? login, passwordHash: await sharedHash })
    .returning({ id: users.id });
  const res = await t.app.inject({ method: 'POST', url: '/api/auth/login', payload: { login, password: TEST_PASSWORD } });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`);
  return { id: row!.id, token: res.json().token, login };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
