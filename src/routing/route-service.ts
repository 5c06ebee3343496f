import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Database } from '../db/client.js';
import { normalizePhone } from '../phones/normalize.js';
import { type RouteAnswer, toAnswer } from './answer-format.js';
import { createBudget, OVER_BUDGET } from './budget.js';
import { decideRoute, fallbackDecision } from './decide-route.js';
import type { DirectorySync } from './directory/directory-sync.js';
import { createEarlierStepsLoader } from './earlier-steps.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TraceWriter } from './trace-writer.js';
import type { DeviceState, RouteConfig, RouteDecision, RouteOwner, TriedStep } from './types.js';

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
  /** The decision as the dialplan reads it (sanitised); also what the trace stores. */
  answer: RouteAnswer;
}

export interface RouteServiceDeps {
  database: Pick<Database, 'pool'>;
  /** The routing facts, in memory and proven current by `barrier()`. */
  directory: DirectorySync;
  config: Config;
  traceWriter: TraceWriter;
  logger: Logger;
  /** Device state of an extension from the PBX (a later issue); unknown when absent. */
  deviceState?: (extension: string) => DeviceState | undefined;
  now?: () => Date;
  /** A counter and a histogram per answer: the whole cost of metrics on the ring path. */
  metrics?: Pick<Metrics, 'routeDecisions' | 'routeDuration' | 'routeFallbacks'>;
}

const E164_SHAPED = /^\+[1-9]\d{6,14}$/;
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
 * The decision itself is the pure `decideRoute`; this module gathers its inputs (the in-memory
 * directory once its barrier shows it current, the call's earlier steps from step 2 on), races
 * them against the budget, and falls back to the department line of the last known directory
 * when PostgreSQL is slow, down or failing.
 */
export function createRouteService(deps: RouteServiceDeps) {
  const { config, logger, traceWriter } = deps;
  const sync = deps.directory;
  const routeConfig = routeConfigFrom(config);
  const now = deps.now ?? (() => new Date());
  const region = config.DEFAULT_REGION as Parameters<typeof normalizePhone>[1];
  const loadEarlierSteps = createEarlierStepsLoader(deps.database.pool);
  const withinBudget = createBudget(Math.max(1, config.ROUTE_BUDGET_MS - BUDGET_MARGIN_MS));

  // A caller ID sent in E.164 that is a number on some client's card needs no parsing (the
  // parse of a new caller ID is the dearest step of an answer, 10-30 µs): the numbers on cards
  // are libphonenumber's own E.164 output, and E.164 reads back as itself. Any other caller ID,
  // or one on no card, is parsed as before. The directory may lag here (the barrier comes
  // later); that only decides whether to parse, not what the number is.
  const storedNumber = (raw: string): string | null => (E164_SHAPED.test(raw) && sync.directory.hasNumber(raw) ? raw : null);

  const fallbackDepartment = (did: string) => sync.directory.departmentFor(did, config.DEFAULT_DEPARTMENT);

  async function decide(query: RouteQuery, caller: string | null, did: string): Promise<RouteDecision> {
    let tried: TriedStep[] = [];
    if (query.step > 1) [, tried] = await Promise.all([sync.barrier(), loadEarlierSteps(query.linkedid)]);
    else await sync.barrier();
    const facts = sync.directory.factsFor(caller, did, config.DEFAULT_DEPARTMENT);
    const pending = query.step > 1 ? traceWriter.pending(query.linkedid) : [];
    return decideRoute({
      step: query.step,
      lastStatus: query.lastStatus,
      caller,
      did,
      now: now(),
      clients: facts.clients,
      owners: withDeviceStates(facts.owners),
      didDepartment: facts.didDepartment,
      ownerDepartments: facts.ownerDepartments,
      alreadyTried: mergeTried(tried, pending),
      config: routeConfig,
    });
  }

  /** The owners with their phones' state from the PBX; a copy only of those whose state is known. */
  function withDeviceStates(owners: RouteOwner[]): RouteOwner[] {
    const stateOf = deps.deviceState;
    if (stateOf === undefined) return owners;
    let result = owners;
    for (let i = 0; i < owners.length; i++) {
      const owner = owners[i]!;
      const deviceState = owner.extension ? stateOf(owner.extension) : undefined;
      if (deviceState === undefined) continue;
      if (result === owners) result = owners.slice();
      result[i] = { ...owner, deviceState };
    }
    return result;
  }

  async function route(query: RouteQuery): Promise<RouteResult> {
    const started = performance.now();
    const caller = storedNumber(query.caller) ?? normalizePhone(query.caller, region);
    const did = normalizePhone(query.did, region) ?? query.did;
    const callId = query.linkedid || query.uniqueid;

    let decision: RouteDecision;
    try {
      const outcome = await withinBudget(decide(query, caller, did));
      if (outcome === OVER_BUDGET) {
        logger.error({ linkedid: query.linkedid, budgetMs: config.ROUTE_BUDGET_MS }, 'route decision over budget; answering with the department line');
        decision = fallbackDecision(fallbackDepartment(did), routeConfig, query.step, { lastStatus: query.lastStatus, now: now() });
        deps.metrics?.routeFallbacks.inc({ cause: 'over_budget' });
      } else {
        decision = outcome;
      }
    } catch (err) {
      logger.error({ err, linkedid: query.linkedid }, 'route decision failed; answering with the department line');
      decision = fallbackDecision(fallbackDepartment(did), routeConfig, query.step, { lastStatus: query.lastStatus, now: now() });
      deps.metrics?.routeFallbacks.inc({ cause: 'error' });
    }

    const answer = toAnswer(decision, { callId });
    const latencyMs = performance.now() - started;
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
      answer,
      candidates: decision.candidates,
      clientId: typeof decision.clientId === 'number' ? decision.clientId : null,
      managerId: typeof decision.managerId === 'number' ? decision.managerId : null,
      tie: decision.tie,
      tieClients: decision.tieClients ?? null,
      latencyMs,
    });
    if (deps.metrics) {
      deps.metrics.routeDecisions.inc({ reason: decision.reason, action: decision.action });
      deps.metrics.routeDuration.observe(latencyMs / 1000);
    }
    return { decision, callId, answer };
  }

  return { route };
}

export type RouteService = ReturnType<typeof createRouteService>;

function mergeTried<T extends { step: number }>(stored: T[], pending: T[]): T[] {
  if (pending.length === 0) return stored;
  const steps = new Set(stored.map((t) => t.step));
  return [...stored, ...pending.filter((p) => !steps.has(p.step))].sort((a, b) => a.step - b.step);
}
