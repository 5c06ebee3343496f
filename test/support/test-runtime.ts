import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import WebSocket from 'ws';
import { hashPassword } from '../../src/auth/passwords.js';
import { issueToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.js';
import { users, type Role } from '../../src/users/users.table.js';
import { TEST_PBX_TOKEN } from './test-app.js';
import type { TestDatabase } from './test-db.js';

/** The AMI account the tests' fake PBX (test/pbx/fake-ami-server.ts) is started with. */
export const FAKE_PBX_LOGIN = { username: 'switchboard', secret: 'ami-secret' } as const;

/** The settings that point an instance at a fake PBX; phones are dialled as `Local/<ext>@fake-phones`. */
export const fakePbxEnv = (fake: { port: number }) => ({
  AMI_HOST: '127.0.0.1',
  AMI_PORT: String(fake.port),
  AMI_USERNAME: FAKE_PBX_LOGIN.username,
  AMI_SECRET: FAKE_PBX_LOGIN.secret,
  DEVICE_DIAL_TEMPLATE: 'Local/{extension}@fake-phones',
});

export interface TestInstance {
  runtime: Runtime;
  baseUrl: string;
  wsUrl: string;
}

/**
 * A full Switchboard instance (HTTP + WebSocket + AMI consumer + workers) listening on a free
 * port, against the given database and the test Redis. Several may share one database: that is
 * how the multi-instance tests run. `queuePrefix` keeps one test file's BullMQ keys apart.
 */
export async function startInstance(
  database: TestDatabase,
  env: Record<string, string>,
  queuePrefix: string,
  extra: Pick<RuntimeOptions, 'traceFlushEveryMs' | 'amiBackoffMs'> = {},
): Promise<TestInstance> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PBX_TOKEN: TEST_PBX_TOKEN,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    REDIS_URL: inject('redisUrl'),
    // Test files run side by side on one Redis: each instance group gets its own key space.
    REDIS_PREFIX: queuePrefix,
    ...env,
  });
  const runtime = await createRuntime({ config, logger: createLogger(config.LOG_LEVEL), database, leaderTtlMs: 3_000, amiBackoffMs: 50, webhookBackoffMs: 100, ...extra });
  await runtime.app.listen({ host: '127.0.0.1', port: 0 });
  await runtime.start();
  const { port } = runtime.app.server.address() as { port: number };
  return { runtime, baseUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/ws` };
}

export const uniquePrefix = () => `sbtest-${randomBytes(4).toString('hex')}`;

let hash: Promise<string> | undefined;
export async function insertUser(
  database: TestDatabase,
  fields: { role: Role; name: string; extension?: string; departmentId?: number | null; managerId?: number | null; presence?: 'available' | 'away' | 'dnd' | 'offline' },
): Promise<{ id: number; token: string }> {
  hash ??= hashPassword('not used in these tests');
  const [row] = await database.db
    .insert(users)
    .values({ login: `${fields.name.toLowerCase().replace(/\W/g, '')}-${randomBytes(3).toString('hex')}`, passwordHash: await hash, ...fields })
    .returning({ id: users.id });
  const { token } = await issueToken(database.db, row!.id, 1);
  return { id: row!.id, token };
}

/** A browser's WebSocket: collects every frame and lets a test wait for one. */
export async function connectScreen(wsUrl: string, token: string) {
  const frames: Array<{ type: string; [k: string]: unknown }> = [];
  const waiters: Array<() => void> = [];
  const socket = new WebSocket(`${wsUrl}?token=${encodeURIComponent(token)}`);
  socket.on('message', (data) => {
    frames.push(JSON.parse(data.toString()));
    for (const w of waiters.splice(0)) w();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    frames,
    socket,
    /** Frames of one type (optionally for one call). */
    of: (type: string, linkedid?: string) => frames.filter((f) => f.type === type && (linkedid === undefined || f.linkedid === linkedid)),
    async waitFor(type: string, linkedid?: string, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = frames.find((f) => f.type === type && (linkedid === undefined || f.linkedid === linkedid));
        if (hit) return hit;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${type} frame${linkedid ? ` for ${linkedid}` : ''} within ${timeoutMs} ms; got ${frames.map((f) => f.type).join(', ')}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    },
    close: () => socket.close(),
  };
}

/** Re-runs an async probe until it returns something truthy, or fails naming what was awaited. */
export async function eventually<T>(probe: () => Promise<T>, what: string, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
