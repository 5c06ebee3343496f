import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { normalizePhone } from '../phones/normalize.js';
import { toAnswer } from './answer-format.js';
import { decideRoute, fallbackDecision } from './decide-route.js';
import { createRouteFactsLoader, loadDepartmentDirectory } from './load-route-input.js';
import type { TraceWriter } from './trace-writer.js';
import type { DeviceState, RouteConfig, RouteDecision, RouteDepartment } from './types.js';

/** What the dialplan sends, already made safe by the HTTP layer (strings, step ≥ 1). */
export interface RouteQuery {
  caller: string;
  did: string;
  uniqueid: string;
  linkedid: string;
  step: number;
  lastStatus: string;
}

export interface RouteResult {
  decision: RouteDecision;
  callId: string;
}

export interface RouteServiceDeps {
  database: Pick<Database, 'pool'>;
  config: Config;
  traceWriter: TraceWriter;
  logger: Logger;
  /** Device state of an extension from the PBX (a later issue); unknown when absent. */
  deviceState?: (extension: string) => DeviceState | undefined;
  now?: () => Date;
}

const DIRECTORY_REFRESH_MS = 30_000;
// Time kept back from the budget for encoding, the trace and the socket write.
const BUDGET_MARGIN_MS = 15;

export function routeConfigFrom(config: Config): RouteConfig {
  return {
    deviceDialTemplate: config.DEVICE_DIAL_TEMPLATE,
    mobileDialTemplate: config.MOBILE_DIAL_TEMPLATE,
    userMailboxTemplate: config.USER_MAILBOX_TEMPLATE,
    ringTimeouts: { owner: config.RING_TIMEOUT_OWNER, mobile: config.RING_TIMEOUT_MOBILE, department: config.RING_TIMEOUT_DEPARTMENT },
    maxSteps: config.ROUTE_MAX_STEPS,
    defaultLine: config.FALLBACK_DIAL ? { kind: 'dial', dial: config.FALLBACK_DIAL } : null,
  };
}

/**
 * Answers "who takes this call now?" within ROUTE_BUDGET_MS, whatever the database does.
 * The decision itself is the pure `decideRoute`; this module loads its inputs, races them
 * against the budget, and falls back to the department line from an in-memory directory
 * (refreshed every 30 s) when PostgreSQL is slow, down or failing.
 */
export function createRouteService(deps: RouteServiceDeps) {
  const { config, logger, traceWriter } = deps;
  const pool = deps.database.pool;
  const routeConfig = routeConfigFrom(config);
  const now = deps.now ?? (() => new Date());
  const region = config.DEFAULT_REGION as Parameters<typeof normalizePhone>[1];
  const loadFacts = createRouteFactsLoader(pool, config.DEFAULT_DEPARTMENT);

  let directory: Awaited<ReturnType<typeof loadDepartmentDirectory>> = { byDid: new Map(), byName: new Map() };
  const refreshDirectory = async () => {
    try {
      directory = await loadDepartmentDirectory(pool);
    } catch (err) {
      logger.warn({ err }, 'could not refresh the department directory; keeping the previous one');
    }
  };
  const refreshTimer = setInterval(() => void refreshDirectory(), DIRECTORY_REFRESH_MS);
  refreshTimer.unref();

  const fallbackDepartment = (did: string): RouteDepartment | null =>
    directory.byDid.get(did) ?? directory.byName.get(config.DEFAULT_DEPARTMENT) ?? null;

  async function decide(query: RouteQuery, caller: string | null, did: string): Promise<RouteDecision> {
    const facts = await loadFacts({ caller, did, linkedid: query.linkedid, step: query.step });
    const pending = traceWriter.pending(query.linkedid);
    const owners = deps.deviceState
      ? facts.owners.map((o) => (o.extension ? { ...o, deviceState: deps.deviceState!(o.extension) } : o))
      : facts.owners;
    return decideRoute({
      step: query.step,
      lastStatus: query.lastStatus,
      caller,
      did,
      now: now(),
      ...facts,
      owners,
      alreadyTried: mergeTried(facts.alreadyTried, pending),
      config: routeConfig,
    });
  }

  async function route(query: RouteQuery): Promise<RouteResult> {
    const started = performance.now();
    const caller = normalizePhone(query.caller, region);
    const did = normalizePhone(query.did, region) ?? query.did;
    const callId = query.linkedid || query.uniqueid;

    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(1, config.ROUTE_BUDGET_MS - BUDGET_MARGIN_MS));
    });
    let decision: RouteDecision;
    try {
      const outcome = await Promise.race([decide(query, caller, did), budget]);
      if (outcome === 'timeout') {
        logger.error({ linkedid: query.linkedid, budgetMs: config.ROUTE_BUDGET_MS }, 'route decision over budget; answering with the department line');
        decision = fallbackDecision(fallbackDepartment(did), routeConfig, query.step, { lastStatus: query.lastStatus, now: now() });
      } else {
        decision = outcome;
      }
    } catch (err) {
      logger.error({ err, linkedid: query.linkedid }, 'route decision failed; answering with the department line');
      decision = fallbackDecision(fallbackDepartment(did), routeConfig, query.step, { lastStatus: query.lastStatus, now: now() });
    } finally {
      clearTimeout(timer);
    }

    traceWriter.write({
      linkedid: callId,
      uniqueid: query.uniqueid,
      step: decision.step,
      lastStatus: query.lastStatus,
      callerRaw: query.caller,
      caller,
      did,
      action: decision.action,
      reason: decision.reason,
      answer: toAnswer(decision, { callId }),
      candidates: decision.candidates,
      clientId: typeof decision.clientId === 'number' ? decision.clientId : null,
      managerId: typeof decision.managerId === 'number' ? decision.managerId : null,
      latencyMs: performance.now() - started,
    });
    return { decision, callId };
  }

  return {
    route,
    refreshDirectory,
    close: () => clearInterval(refreshTimer),
  };
}

export type RouteService = ReturnType<typeof createRouteService>;

function mergeTried<T extends { step: number }>(stored: T[], pending: T[]): T[] {
  if (pending.length === 0) return stored;
  const steps = new Set(stored.map((t) => t.step));
  return [...stored, ...pending.filter((p) => !steps.has(p.step))].sort((a, b) => a.step - b.step);
}
