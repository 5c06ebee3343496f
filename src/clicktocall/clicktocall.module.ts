import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ExpectedOriginate } from '../calls/call-state.js';
import type { Config } from '../config.js';
import type { Db } from '../db/client.js';
import type { AmiClient } from '../pbx/ami-client.js';
import { clickToCallRoutes } from './clicktocall.routes.js';
import { createClickToCall, type ClickToCallResult } from './clicktocall.service.js';
import { createOriginateExecutor, createOriginateRelay } from './originate-relay.js';
import type { Settings } from '../settings/settings.service.js';

export interface ClickToCallModuleDeps {
  db: Db;
  /** Command connection. */
  redis: Redis;
  config: Config;
  logger: Logger;
  /** This instance's AMI client: used only while it holds the leader lock. */
  ami: Pick<AmiClient, 'action'>;
  /** The call pipeline's, so the tracker knows the Originate before its first event. */
  expectOriginate: (originate: ExpectedOriginate) => void;
  settings?: Pick<Settings, 'current'>;
}

/** Click-to-call as one instance runs it; see originate-relay.ts for the multi-instance path. */
export function createClickToCallModule(deps: ClickToCallModuleDeps) {
  const relay = createOriginateRelay({
    redis: deps.redis,
    redisUrl: deps.config.REDIS_URL,
    systemName: deps.config.PBX_SYSTEM_NAME,
    keyPrefix: deps.config.REDIS_PREFIX,
    logger: deps.logger,
    execute: createOriginateExecutor({ ami: deps.ami, expectOriginate: deps.expectOriginate }),
  });
  const service = createClickToCall({ db: deps.db, config: deps.config, redis: deps.redis, relay, logger: deps.logger, ...(deps.settings && { settings: deps.settings }) });
  const routes: FastifyPluginAsyncTypebox = clickToCallRoutes(service);

  return {
    /** Register at the root: POST /api/calls/originate, GET /c2c. */
    routes,
    start: service.start,
    /** The reminders' autoDial hook. */
    forReminder: (userId: number, clientId: number | null, phone: string | null): Promise<ClickToCallResult> =>
      service.forReminder(userId, clientId, phone),
    /** Follow the AMI leader lock. */
    setLeader: (leading: boolean) => relay.setLeader(leading),
    close: () => relay.close(),
  };
}

export type ClickToCallModule = ReturnType<typeof createClickToCallModule>;
