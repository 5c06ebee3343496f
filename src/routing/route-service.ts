import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { normalizePhone } from '../phones/normalize.js';
import { encodeHashBody, type RouteAnswer, toAnswer } from './answer-format.js';
import { createCallSteps, encodeTried, mergeTried, parseTried, type CallSteps } from './call-steps.js';
import { decideRoute, fallbackDecision } from './decide-route.js';
import type { DirectorySync } from './directory/directory-sync.js';
import type { Metrics } from '../metrics/metrics.js';
import type { TraceWriter } from './trace-writer.js';
import { encodeCandidates } from './trace-encoding.js';
import type { DeviceState, RouteConfig, RouteDecision, RouteOwner, TriedStep } from './types.js';

/** What the dialplan sends, already made safe by the HTTP layer (strings, step ≥ 1). */
export interface RouteQuery {
  caller: string;
  did: string;
  uniqueid: string;
  linkedid: string;
  step: number;
  lastStatus: string;
  /** The previous answer's `tried` (call-steps.ts); '' from a dialplan that does not send it. */
  tried?: string;
}

export interface RouteResult {
  decision: RouteDecision;
  callId: string;
  /** The decision as the dialplan reads it (sanitised). */
  answer: RouteAnswer;
  /** The answer as a hash body (`format=hash`, answer-format.ts); also what the trace stores. */
  hashBody: string;
  /** The directory was not shown current within ROUTE_FRESH_MS. */
  stale: boolean;
  /** Age of the directory's last proof of being current, ms; null when it was never loaded. */
  directoryAgeMs: number | null;
}

export interface RouteServiceDeps {
  /** The routing facts in memory, with the time they were last shown current (`asOf`). */
  directory: Pick<DirectorySync, 'directory' | 'asOf' | 'loaded'>;
  config: Config;
  traceWriter: Pick<TraceWriter, 'write'>;
  logger: Logger;
  /** Device state of an extension from the PBX (a later issue); unknown when absent. */
  deviceState?: (extension: string) => DeviceState | undefined;
  /** This instance's memory of recent calls' steps; its own when absent. */
  callSteps?: CallSteps;
  /** Epoch ms, on the directory's clock. */
  clock?: () => number;
  /** A counter and a histogram per answer: the whole cost of metrics on the ring path. */
  metrics?: Pick<Metrics, 'routeDecisions' | 'routeDuration' | 'routeFallbacks'>;
}

const E164_SHAPED = /^\+[1-9]\d{6,14}$/;

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
 * Answers "who takes this call now?" from memory only: no PostgreSQL round trip, nothing to
 * wait for, so the answer is synchronous and the old per-request budget has nothing to race.
 *
 * Freshness is a bound (directory-sync.ts): a directory shown current within ROUTE_FRESH_MS
 * answers as it is; an older one (PostgreSQL slow or down) still answers, so a known client
 * still reaches the owner, and the trace marks it `stale` with its age; past ROUTE_STALE_MAX_MS,
 * or before any directory was loaded, the call goes to the department line (`fallback_error`).
 */
export function createRouteService(deps: RouteServiceDeps) {
  const { config, logger, traceWriter } = deps;
  const sync = deps.directory;
  const routeConfig = routeConfigFrom(config);
  const clock = deps.clock ?? Date.now;
  const callSteps = deps.callSteps ?? createCallSteps();
  const region = config.DEFAULT_REGION as Parameters<typeof normalizePhone>[1];
  const freshMs = config.ROUTE_FRESH_MS;
  const staleMaxMs = config.ROUTE_STALE_MAX_MS;
  let staleSince: number | null = null;

  // A caller ID sent in E.164 that is a number on some client's card needs no parsing (the
  // parse of a new caller ID is the dearest step of an answer, 10-30 µs): the numbers on cards
  // are libphonenumber's own E.164 output, and E.164 reads back as itself.
  const storedNumber = (raw: string): string | null => (E164_SHAPED.test(raw) && sync.directory.hasNumber(raw) ? raw : null);

  function decide(query: RouteQuery, caller: string | null, did: string, tried: TriedStep[], now: Date): RouteDecision {
    const facts = sync.directory.factsFor(caller, did, config.DEFAULT_DEPARTMENT);
    return decideRoute({
      step: query.step,
      lastStatus: query.lastStatus,
      caller,
      did,
      now,
      clients: facts.clients,
      owners: withDeviceStates(facts.owners),
      didDepartment: facts.didDepartment,
      ownerDepartments: facts.ownerDepartments,
      alreadyTried: tried,
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

  // Logged once when answers turn stale and once when they are current again, not per answer.
  function noteStaleness(stale: boolean, ageMs: number | null, nowMs: number): void {
    if (stale && staleSince === null) {
      staleSince = nowMs;
      logger.warn({ directoryAgeMs: ageMs, freshMs, staleMaxMs }, 'routing directory not shown current; answering from the last known directory, marked stale');
    } else if (!stale && staleSince !== null) {
      logger.info({ staleForMs: nowMs - staleSince }, 'routing directory current again');
      staleSince = null;
    }
  }

  function route(query: RouteQuery): RouteResult {
    const started = performance.now();
    const nowMs = clock();
    const now = new Date(nowMs);
    const caller = storedNumber(query.caller) ?? normalizePhone(query.caller, region);
    const did = normalizePhone(query.did, region) ?? query.did;
    const callId = query.linkedid || query.uniqueid;
    // null: no directory shown current yet (start-up, before its first ping came back).
    const ageMs = sync.loaded && Number.isFinite(sync.asOf) ? Math.max(0, Math.round(nowMs - sync.asOf)) : null;
    const stale = ageMs === null || ageMs > freshMs;
    if (stale || staleSince !== null) noteStaleness(stale, ageMs, nowMs);

    const tried = query.step > 1 ? mergeTried(parseTried(query.tried ?? '', query.step), callSteps.get(callId), query.step) : [];
    let decision: RouteDecision;
    if (ageMs === null || ageMs > staleMaxMs) {
      deps.metrics?.routeFallbacks.inc({ cause: 'stale' });
      decision = fallbackDecision(sync.directory.departmentFor(did, config.DEFAULT_DEPARTMENT), routeConfig, query.step, { lastStatus: query.lastStatus, now });
    } else {
      try {
        decision = decide(query, caller, did, tried, now);
      } catch (err) {
        logger.error({ err, linkedid: query.linkedid }, 'route decision failed; answering with the department line');
        deps.metrics?.routeFallbacks.inc({ cause: 'error' });
        decision = fallbackDecision(sync.directory.departmentFor(did, config.DEFAULT_DEPARTMENT), routeConfig, query.step, { lastStatus: query.lastStatus, now });
      }
    }

    const step: TriedStep = { step: decision.step, reason: decision.reason, action: decision.action };
    callSteps.add(callId, step);
    const previous = tried.length === 0 ? '' : encodeTried(tried.filter((t) => t.step < decision.step));
    const answer = toAnswer(decision, { callId, tried: previous === '' ? encodeTried([step]) : `${previous}-${encodeTried([step])}` });
    const hashBody = encodeHashBody(answer);
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
      answerBody: hashBody,
      candidateList: encodeCandidates(decision.candidates),
      clientId: typeof decision.clientId === 'number' ? decision.clientId : null,
      managerId: typeof decision.managerId === 'number' ? decision.managerId : null,
      tie: decision.tie,
      tieClients: decision.tieClients ?? null,
      stale,
      directoryAgeMs: ageMs,
      latencyMs,
    });
    if (deps.metrics) {
      deps.metrics.routeDecisions.inc({ reason: decision.reason, action: decision.action });
      deps.metrics.routeDuration.observe(latencyMs / 1000);
    }
    return { decision, callId, answer, hashBody, stale, directoryAgeMs: ageMs };
  }

  return { route };
}

export type RouteService = ReturnType<typeof createRouteService>;
