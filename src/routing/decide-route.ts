// Who gets the call at this step. Pure: everything, including the time, comes in the input.
//
// The dialplan asks once per step and executes the answer; the decision is a plan (an ordered
// list of targets, each either possible now or skipped with a reason) and a pointer into it.
//
// Known client (caller matched a client; ties go to a client whose owner is active, then the
// most recent activity, nulls last, then the lowest id: a deactivated owner never wins a tie,
// whatever their client's activity, since their client's call would only skip them):
//   owner's device     unless presence is away or dnd (explicit choices of the manager) or
//                      the device is inuse/busy/unavailable ('ringing' and 'unknown' do not
//                      skip: the owner is at the desk / we do not know). `offline` (no screen
//                      connected) is no reason to skip: the desk phone works without the
//                      console, and only the PBX knows whether it is reachable. Rung even after
//                      hours: a manager who answers late is working.
//   then by the owner's absence rule:
//   mobile      → owner's mobile (not on dnd, not without a mobile, not after hours unless
//                 config.mobileAfterHours: a personal phone at night needs an explicit yes)
//                 → department line → voicemail, owner's box first (the message is for the
//                 manager who owns the client)
//   department  → department line → voicemail, department's box first (the owner handed
//                 absences to the team)
//   voicemail   → voicemail, owner's box first
//   The rule applies also when the owner was available and did not answer.
//   The department is the OWNER's (the client belongs to that team), else the DID's.
//   A client without a loadable owner goes to the DID department's line and box.
// Unknown caller: the DID department's line (reason unknown_caller), then its box.
// No department at all: config.defaultLine and config.defaultMailbox, the same way. When the
//   plan runs out before any voicemail, the call goes to the dialplan's own fallback
//   (action `fallback`, reason no_department): an unknown dialled number never hangs up on a
//   caller. The same for a department that has nothing usable at all (no_target); a closed
//   department with no mailbox hangs up (after_hours), as its schedule says.
// Hangup with steps_exhausted only when the steps really ran out: answered, past maxSteps, or
//   every target of the plan tried (voicemail included when there is one).
// Closed department: its line is skipped and the voicemail step says after_hours.
// The owner's box is `userMailboxTemplate` with the owner's extension; any missing box falls
// through to the next one in the order above, then to config.defaultMailbox.
import { isOpen } from './business-hours.js';
import { dialStringProblem, fillTemplate } from './dial-templates.js';
import type {
  DepartmentLine, EntityId, RouteCandidate, RouteClient, RouteConfig, RouteDecision,
  RouteDepartment, RouteInput, RouteOwner, RouteReason, TargetKind, TieClient, TriedStep,
} from './types.js';

const DEFAULT_MAX_STEPS = 5;
const DEFAULT_RING_SECONDS = 30;

type Answer = Pick<RouteDecision, 'action' | 'dial' | 'queue' | 'mailbox' | 'timeout'>;

interface PlanItem {
  candidate: RouteCandidate;
  reason: RouteReason;
  /** Present when the target can be rung now. */
  answer?: Answer;
}

/** Steps below 1 or not a number are step 1; fractions are cut. */
export function sanitizeStep(step: number): number {
  return Number.isFinite(step) && step >= 1 ? Math.floor(step) : 1;
}

function maxSteps(config: RouteConfig): number {
  return Number.isFinite(config.maxSteps) && config.maxSteps >= 1
    ? Math.floor(config.maxSteps)
    : DEFAULT_MAX_STEPS;
}

function seconds(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.max(1, Math.round(value)) : DEFAULT_RING_SECONDS;
}

function sameId(a: EntityId | null | undefined, b: EntityId | null | undefined): boolean {
  if (a === b) return a !== null && a !== undefined;
  return a !== null && a !== undefined && b !== null && b !== undefined && String(a) === String(b);
}

// Numeric ids (also bigints delivered as strings) by value, anything else as plain strings.
function compareIds(a: EntityId, b: EntityId): number {
  const sa = String(a);
  const sb = String(b);
  if (/^\d+$/.test(sa) && /^\d+$/.test(sb) && sa.length !== sb.length) return sa.length - sb.length;
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function activity(client: RouteClient): number {
  const t = client.lastActivityAt?.getTime();
  return t === undefined || Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

function ownerOf(client: RouteClient, owners: readonly RouteOwner[]): RouteOwner | null {
  if (client.ownerId === null) return null;
  return owners.find((o) => sameId(o.id, client.ownerId) && o.active !== false) ?? null;
}

// Negative when `a` wins the tie over `b`.
function tieOrder(a: RouteClient, b: RouteClient, owners: readonly RouteOwner[] | undefined): number {
  if (owners !== undefined) {
    const activeA = ownerOf(a, owners) !== null;
    if (activeA !== (ownerOf(b, owners) !== null)) return activeA ? -1 : 1;
  }
  const ta = activity(a);
  const tb = activity(b);
  if (ta !== tb) return ta > tb ? -1 : 1;
  return compareIds(a.id, b.id);
}

/**
 * The client a call belongs to when several match: with `owners` given (the loaded owners,
 * inactive ones absent or marked), a client whose owner is active first; then the most recent
 * activity, then the lowest id.
 */
export function pickClient(clients: readonly RouteClient[], owners?: readonly RouteOwner[]): RouteClient | null {
  let best: RouteClient | null = null;
  for (const c of clients) {
    if (best === null || tieOrder(c, best, owners) < 0) best = c;
  }
  return best;
}

/** The clients of a tie in the order they ranked, for the trace; undefined without a tie. */
function tieClients(clients: readonly RouteClient[], owners: readonly RouteOwner[], chosen: RouteClient | null): TieClient[] | undefined {
  if (clients.length < 2) return undefined;
  return [...clients].sort((a, b) => tieOrder(a, b, owners)).map((c) => {
    const at = activity(c);
    const entry: TieClient = {
      clientId: c.id,
      ownerId: c.ownerId,
      ownerActive: ownerOf(c, owners) !== null,
      lastActivityAt: Number.isFinite(at) ? new Date(at).toISOString() : null,
    };
    if (c === chosen) entry.chosen = true;
    return entry;
  });
}

// A schedule in an unknown zone must not silence a department: treat it as open.
function openAt(department: RouteDepartment | null, now: Date): boolean {
  if (department === null || department.businessHours === null) return true;
  try {
    return isOpen(department.businessHours, department.timeZone, now);
  } catch {
    return true;
  }
}

function lineItem(
  department: RouteDepartment | null,
  config: RouteConfig,
  open: boolean,
  reason: RouteReason,
): PlanItem {
  const line: DepartmentLine | null = department !== null ? department.line : (config.defaultLine ?? null);
  const candidate: RouteCandidate = { target: 'department' };
  if (department !== null) candidate.departmentId = department.id;
  const item: PlanItem = { candidate, reason };
  const target = line === null ? null : line.kind === 'queue' ? line.queue : line.dial;
  if (line === null || target === null) candidate.skipped = 'no_line';
  else if (!open) candidate.skipped = 'after_hours';
  else if (dialStringProblem(target) !== null) candidate.skipped = 'bad_target';
  else {
    const timeout = seconds(config.ringTimeouts.department);
    item.answer = line.kind === 'queue'
      ? { action: 'queue', queue: target, timeout }
      : { action: 'dial', dial: target, timeout };
  }
  return item;
}

function voicemailItem(
  boxes: readonly (string | null | undefined)[],
  open: boolean,
  department: RouteDepartment | null,
): PlanItem {
  const candidate: RouteCandidate = { target: 'voicemail' };
  if (department !== null) candidate.departmentId = department.id;
  const item: PlanItem = { candidate, reason: open ? 'voicemail' : 'after_hours' };
  const mailbox = boxes.find((b): b is string => typeof b === 'string' && dialStringProblem(b) === null);
  if (mailbox === undefined) candidate.skipped = 'no_mailbox';
  else item.answer = { action: 'voicemail', mailbox };
  return item;
}

function ownerItem(owner: RouteOwner, config: RouteConfig): PlanItem {
  const candidate: RouteCandidate = { target: 'owner', userId: owner.id };
  const item: PlanItem = { candidate, reason: 'owner' };
  const device = owner.deviceState;
  if (owner.presence === 'away' || owner.presence === 'dnd') candidate.skipped = `presence:${owner.presence}`;
  else if (device === 'inuse' || device === 'busy' || device === 'unavailable') {
    candidate.skipped = `device:${device}`;
  } else if (owner.extension === null || owner.extension === '') candidate.skipped = 'no_extension';
  else {
    const dial = fillTemplate(config.deviceDialTemplate, { extension: owner.extension });
    if (dial === null) candidate.skipped = 'bad_target';
    else item.answer = { action: 'dial', dial, timeout: seconds(config.ringTimeouts.owner) };
  }
  return item;
}

function mobileItem(owner: RouteOwner, config: RouteConfig, open: boolean): PlanItem {
  const candidate: RouteCandidate = { target: 'owner_mobile', userId: owner.id };
  const item: PlanItem = { candidate, reason: 'owner_mobile' };
  // Do-not-disturb means do not disturb: not even on the mobile.
  if (owner.presence === 'dnd') candidate.skipped = 'presence:dnd';
  else if (owner.mobile === null || !/^\+[1-9]\d{5,14}$/.test(owner.mobile)) candidate.skipped = 'no_mobile';
  else if (!open && config.mobileAfterHours !== true) candidate.skipped = 'after_hours';
  else {
    const vars = { number: owner.mobile.slice(1), e164: owner.mobile };
    const dial = fillTemplate(config.mobileDialTemplate, vars);
    if (dial === null) candidate.skipped = 'bad_target';
    else item.answer = { action: 'dial', dial, timeout: seconds(config.ringTimeouts.mobile) };
  }
  return item;
}

interface Plan {
  items: PlanItem[];
  client: RouteClient | null;
  owner: RouteOwner | null;
  /** Whose line and hours apply; null: no department at all (the config defaults). */
  department: RouteDepartment | null;
  open: boolean;
}

function buildPlan(input: RouteInput): Plan {
  const { config, now } = input;
  // A caller that did not parse cannot be anybody's client, whatever was loaded.
  const client = input.caller === null ? null : pickClient(input.clients, input.owners);
  if (client === null) {
    const dept = input.didDepartment;
    const open = openAt(dept, now);
    return {
      client,
      owner: null,
      department: dept,
      open,
      items: [
        lineItem(dept, config, open, 'unknown_caller'),
        voicemailItem([dept?.voicemailBox, config.defaultMailbox], open, dept),
      ],
    };
  }

  const owner = ownerOf(client, input.owners);
  if (owner === null) {
    const dept = input.didDepartment;
    const open = openAt(dept, now);
    return {
      client,
      owner,
      department: dept,
      open,
      items: [
        { candidate: { target: 'owner', skipped: 'no_owner' }, reason: 'owner' },
        lineItem(dept, config, open, 'department'),
        voicemailItem([dept?.voicemailBox, config.defaultMailbox], open, dept),
      ],
    };
  }

  const dept = input.ownerDepartments.find((d) => sameId(d.id, owner.departmentId)) ?? input.didDepartment;
  const open = openAt(dept, now);
  const ownerBox = owner.extension ? fillTemplate(config.userMailboxTemplate, { extension: owner.extension }) : null;
  const items = [ownerItem(owner, config)];
  switch (owner.absentRule) {
    case 'mobile':
      items.push(
        mobileItem(owner, config, open),
        lineItem(dept, config, open, 'department'),
        voicemailItem([ownerBox, dept?.voicemailBox, config.defaultMailbox], open, dept),
      );
      break;
    case 'voicemail':
      items.push(voicemailItem([ownerBox, dept?.voicemailBox, config.defaultMailbox], open, dept));
      break;
    default: // 'department', and any rule this code does not know yet
      items.push(
        lineItem(dept, config, open, 'department'),
        voicemailItem([dept?.voicemailBox, ownerBox, config.defaultMailbox], open, dept),
      );
  }
  return { client, owner, department: dept, open, items };
}

/** Which target an earlier decision rang, read from its trace entry. */
function triedKind(t: TriedStep): TargetKind | null {
  if (t.action === 'voicemail') return 'voicemail';
  if (t.action !== 'dial' && t.action !== 'queue') return null;
  if (t.reason === 'owner') return 'owner';
  if (t.reason === 'owner_mobile') return 'owner_mobile';
  // fallback_error dials or queues only the department line.
  if (t.reason === 'department' || t.reason === 'unknown_caller' || t.reason === 'fallback_error') return 'department';
  return null;
}

// The dialplan stops asking once a step is answered; if it asks anyway there is nothing left to
// try. The contract's reasons have no 'answered', so this is reported as steps_exhausted.
function isAnswered(step: number, lastStatus: string): boolean {
  return step > 1 && lastStatus.trim().toUpperCase() === 'ANSWER';
}

/**
 * The answer for this step. Target choice: the first possible target that the trace of earlier
 * steps does not name; steps the trace does not cover are assumed to have used the next
 * possible targets in order (so with no trace at all, step N takes the N-th possible target).
 * Trace entries of this or later steps are ignored, so asking twice for a step answers the same.
 * Voicemail ends the plan: once it was tried, or when nothing is left, or past maxSteps, hangup.
 */
export function decideRoute(input: RouteInput): RouteDecision {
  const step = sanitizeStep(input.step);
  const plan = buildPlan(input);
  const { items, client, owner } = plan;
  const candidates = items.map((i) => i.candidate);
  const tie = input.caller !== null && input.clients.length > 1;
  const base: DecisionBase = {
    step,
    tie,
    tieClients: tie ? tieClients(input.clients, input.owners, client) : undefined,
    candidates,
    clientId: client?.id,
    clientName: client?.name,
    managerId: owner?.id,
  };
  if (isAnswered(step, input.lastStatus)) return decision(base, 'steps_exhausted');
  if (step > maxSteps(input.config)) return decision(base, 'steps_exhausted');

  const prior = step === 1 ? [] : input.alreadyTried.filter((t) => Number.isFinite(t.step) && t.step < step);
  const tried = new Set(prior.map(triedKind));
  let unaccounted = Math.max(0, step - 1 - new Set(prior.map((t) => t.step)).size);
  if (!tried.has('voicemail')) {
    for (const item of items) {
      if (item.answer === undefined || item.candidate.skipped !== undefined) continue;
      if (tried.has(item.candidate.target)) {
        item.candidate.skipped = 'already_tried';
      } else if (unaccounted > 0) {
        item.candidate.skipped = 'step_passed';
        unaccounted -= 1;
      } else {
        item.candidate.chosen = true;
        return decision(base, item.reason, item.answer, item.candidate.departmentId);
      }
    }
  }
  if (tried.has('voicemail')) return decision(base, 'steps_exhausted');
  return nothingLeft(base, plan);
}

const TO_DIALPLAN: Answer = { action: 'fallback' };

/**
 * The plan ran out before any voicemail. Without a department the service knows nobody else,
 * but the dialplan has its own line and mailbox: hand the call over rather than hang up. A
 * department with nothing usable at all is a configuration gap, treated the same; a closed
 * department without a mailbox is closed. Otherwise the targets were tried: the steps ran out.
 */
function nothingLeft(base: DecisionBase, plan: Plan): RouteDecision {
  if (plan.department === null) return decision(base, 'no_department', TO_DIALPLAN);
  if (plan.items.some((i) => i.answer !== undefined)) return decision(base, 'steps_exhausted');
  return plan.open ? decision(base, 'no_target', TO_DIALPLAN) : decision(base, 'after_hours');
}

type DecisionBase = Pick<RouteDecision, 'step' | 'tie' | 'tieClients' | 'candidates' | 'clientId' | 'clientName' | 'managerId'>;

/**
 * The decision object, always with every key in one order: built with spreads of the plan's
 * answers (whose shapes differ by action) it cost 60 % of decideRoute's time, ~7 µs an answer.
 * No answer: hang up.
 */
function decision(base: DecisionBase, reason: RouteReason, answer?: Answer, departmentId?: EntityId): RouteDecision {
  return {
    action: answer?.action ?? 'hangup',
    dial: answer?.dial,
    timeout: answer?.timeout,
    queue: answer?.queue,
    mailbox: answer?.mailbox,
    step: base.step,
    reason,
    clientId: base.clientId,
    clientName: base.clientName,
    managerId: base.managerId,
    departmentId,
    tie: base.tie,
    tieClients: base.tieClients,
    candidates: base.candidates,
  };
}

/**
 * The answer when the decision cannot be made (database slow or down): no client, no trace.
 * Steps 1 and 2 ring the department line (or config.defaultLine): step 2 is often the first
 * step that failed, after a normal step 1 that rang the owner, so the team was not rung yet.
 * Step 3 takes the voicemail; later steps hang up. Without a line, step 1 takes the voicemail.
 * With neither line nor mailbox the dialplan's own fallback takes the call (after hours: hang
 * up). Non-hangup answers say fallback_error; hangups keep their cause.
 */
export function fallbackDecision(
  department: RouteDepartment | null,
  config: RouteConfig,
  step: number,
  options: { lastStatus?: string; now?: Date } = {},
): RouteDecision {
  const s = sanitizeStep(step);
  const open = options.now === undefined ? true : openAt(department, options.now);
  const line = lineItem(department, config, open, 'fallback_error');
  const mail = voicemailItem([department?.voicemailBox, config.defaultMailbox], open, department);
  const base: DecisionBase = { step: s, tie: false, candidates: [line.candidate, mail.candidate] };
  if (isAnswered(s, options.lastStatus ?? '')) return decision(base, 'steps_exhausted');
  if (s > maxSteps(config)) return decision(base, 'steps_exhausted');
  if (line.answer === undefined && mail.answer === undefined) {
    return open ? decision(base, 'fallback_error', TO_DIALPLAN) : decision(base, 'after_hours');
  }
  const plan = line.answer !== undefined ? [line, line, mail] : [mail];
  const pick = plan[s - 1];
  if (pick?.answer === undefined) return decision(base, 'steps_exhausted');
  pick.candidate.chosen = true;
  return decision(base, 'fallback_error', pick.answer, pick.candidate.departmentId);
}
