import { randomBytes } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Queue } from 'bullmq';
import { eq } from 'drizzle-orm';
import Fastify from 'fastify';
import { inject, vi } from 'vitest';
import { authPlugin } from '../../src/auth/auth.plugin.js';
import { issueToken } from '../../src/auth/tokens.js';
import type { Viewer } from '../../src/auth/viewer.js';
import { clientPhones, clients } from '../../src/clients/clients.table.js';
import { loadConfig } from '../../src/config.js';
import { departments } from '../../src/departments/departments.table.js';
import { installErrorHandler } from '../../src/errors.js';
import type { Audience } from '../../src/events/event-bus.js';
import { createRedis } from '../../src/infra/redis.js';
import { createLogger } from '../../src/logger.js';
import type { EndedCall } from '../../src/reminders/missed-calls.js';
import { createReminderModule, type ReminderModule, type ReminderModuleDeps } from '../../src/reminders/reminders.module.js';
import { reminders } from '../../src/reminders/reminders.table.js';
import { users, type Role } from '../../src/users/users.table.js';
import { TEST_PBX_TOKEN } from '../support/test-app.js';
import { createTestDatabase } from '../support/test-db.js';

export interface Captured {
  to: Audience;
  frame: { type: string; id?: number; reminder?: { id: number; [k: string]: unknown }; [k: string]: unknown };
}

/**
 * A real database, the real test Redis under a BullMQ prefix of this file's own, the reminder
 * routes behind the real auth plugin (app.ts is not involved, so this suite does not depend on
 * other features being wired), and a bus that only records what was published.
 */
export async function createReminderHarness(timing: Partial<ReminderModuleDeps['config']> = {}, opts: { redisUrl?: string } = {}) {
  const database = await createTestDatabase();
  const config = { ...loadConfig({ NODE_ENV: 'test', PBX_TOKEN: TEST_PBX_TOKEN, LOG_LEVEL: 'silent' }), ...timing };
  // A fault test passes a redis-server of its own, to kill it without touching the other files.
  const redisUrl = opts.redisUrl ?? inject('redisUrl');
  const prefix = `test-reminders-${randomBytes(4).toString('hex')}`;
  const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const captured: Captured[] = [];
  const bus = { publish: (to: Audience, frame: object) => void captured.push({ to, frame: JSON.parse(JSON.stringify(frame)) }) };
  const dialled: Array<[number, number | null, string | null]> = [];
  const modules: ReminderModule[] = [];

  const newModule = (extra: Partial<ReminderModuleDeps> = {}) => {
    const m = createReminderModule({ db: database.db, redisUrl, bus, logger, config, prefix, originate: async (...args) => void dialled.push(args), ...extra });
    modules.push(m);
    return m;
  };
  const module = newModule();

  const app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } } }).withTypeProvider<TypeBoxTypeProvider>();
  installErrorHandler(app);
  await app.register(authPlugin, { db: database.db });
  await app.register(module.routes, { prefix: '/api/reminders' });
  await app.ready();

  const redis = createRedis(redisUrl, 'blocking');
  const queue = new Queue('reminders', { connection: redis, prefix });
  let depSeq = 0;
  let userSeq = 0;

  return {
    app,
    db: database.db,
    config,
    prefix,
    captured,
    dialled,
    module,
    newModule,
    queue,
    framesOf: (type: string, id?: number) => captured.filter((c) => c.frame.type === type && (id === undefined || (c.frame.reminder?.id ?? c.frame.id) === id)),

    async department(): Promise<number> {
      const [row] = await database.db.insert(departments).values({ name: `${prefix}-dep-${++depSeq}`, lineKind: 'queue', lineTarget: 'sales' }).returning();
      return row!.id;
    },

    /** A signed-in user and the Viewer the WebSocket hooks receive. Tokens are issued directly: argon2 per login costs seconds. */
    async user(role: Role, fields: { departmentId?: number | null; managerId?: number | null } = {}) {
      const login = `${role}${++userSeq}`;
      const [row] = await database.db.insert(users).values({ role, login, name: login, passwordHash: 'not-used', ...fields }).returning();
      const { token } = await issueToken(database.db, row!.id, 1);
      const viewer: Viewer = { id: row!.id, login, name: login, role, departmentId: row!.departmentId, managerId: row!.managerId };
      return { id: row!.id, token, viewer, headers: { authorization: `Bearer ${token}` } };
    },

    async client(ownerId: number, phone = `+7916${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`) {
      const [row] = await database.db.insert(clients).values({ name: `Client of ${ownerId}`, ownerId }).returning();
      await database.db.insert(clientPhones).values({ clientId: row!.id, phone, raw: phone });
      return { id: row!.id, phone };
    },

    async row(id: number) {
      const [row] = await database.db.select().from(reminders).where(eq(reminders.id, id));
      return row!;
    },

    /** What a Redis FLUSHDB does to this queue: every key under the prefix is gone. (FLUSHDB itself would wipe the other test files' Redis state.) */
    async flushRedis() {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    },

    async close() {
      for (const m of modules) await m.stop();
      await queue.close();
      redis.disconnect();
      await app.close();
      await database.drop();
    },
  };
}

export type ReminderHarness = Awaited<ReturnType<typeof createReminderHarness>>;

let callSeq = 1000;
/** A `calls` row as the call tracker hands it over when a call ends. */
export function endedCall(fields: Partial<EndedCall> & Pick<EndedCall, 'direction' | 'disposition'>): EndedCall {
  const now = new Date();
  return {
    id: ++callSeq,
    systemName: 'test',
    linkedid: `test-${callSeq}`,
    did: '+74950000000',
    callerNumber: null,
    externalNumber: null,
    clientId: null,
    ownerId: null,
    initiatedById: null,
    answeredById: null,
    finalUserId: null,
    startedAt: new Date(now.getTime() - 30_000),
    ringingAt: null,
    answeredAt: null,
    endedAt: now,
    talkSeconds: null,
    hangupCause: null,
    failureReason: null,
    rang: [],
    legs: [],
    transfers: [],
    recordingUniqueid: null,
    recordingFile: null,
    updatedAt: now,
    departmentId: null,
    ...fields,
  };
}

/** Polls until `check` passes (real time: BullMQ's delays are Redis timestamps, not fake timers). */
export const eventually = (check: () => unknown | Promise<unknown>, timeout = 5_000) => vi.waitFor(check, { timeout, interval: 20 });
export const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
