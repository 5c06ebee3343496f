// Inputs and output of the routing decision. Plain data: the route handler fills the input
// from PostgreSQL (and the PBX device state), `decideRoute` answers, the answer is encoded for
// Asterisk by answer-format.ts and stored as the call's trace.
import type { WeeklySchedule } from './business-hours.js';

/** Database ids as the driver returns them: serials as numbers, bigints/uuids as strings. */
export type EntityId = number | string;

export type Presence = 'available' | 'away' | 'dnd' | 'offline';
export type AbsentRule = 'mobile' | 'department' | 'voicemail';
export type DeviceState = 'idle' | 'ringing' | 'inuse' | 'busy' | 'unavailable' | 'unknown';

/** Asterisk DIALSTATUS / QUEUESTATUS of the previous step; anything else is treated alike. */
export type LastStatus =
  | ''
  | 'ANSWER' | 'NOANSWER' | 'BUSY' | 'CHANUNAVAIL' | 'CONGESTION' | 'CANCEL' | 'DONTCALL'
  | 'TORTURE' | 'INVALIDARGS'
  | 'TIMEOUT' | 'FULL' | 'JOINEMPTY' | 'LEAVEEMPTY' | 'JOINUNAVAIL' | 'LEAVEUNAVAIL' | 'CONTINUE';

export interface RouteClient {
  id: EntityId;
  name: string;
  /** null: the client has no owner (left the company, not yet reassigned). */
  ownerId: EntityId | null;
  lastActivityAt: Date | null;
}

export interface RouteOwner {
  id: EntityId;
  name: string;
  extension: string | null;
  /** E.164. */
  mobile: string | null;
  presence: Presence;
  absentRule: AbsentRule;
  /** false: deactivated; such an owner is never rung and never wins a tie. Absent: active. */
  active?: boolean;
  /** From the PBX; absent or 'unknown' when not known, which does not skip the owner. */
  deviceState?: DeviceState;
  departmentId: EntityId | null;
}

export type DepartmentLine = { kind: 'queue'; queue: string } | { kind: 'dial'; dial: string };

export interface RouteDepartment {
  id: EntityId;
  name: string;
  /** null: no common line configured; the department can still take voicemail. */
  line: DepartmentLine | null;
  /** Asterisk mailbox, `box@context`. */
  voicemailBox: string | null;
  /** null: always open. */
  businessHours: WeeklySchedule | null;
  /** IANA zone the schedule is written in, e.g. `Europe/Moscow`. */
  timeZone: string;
}

/** One earlier decision of this call, read back from its stored trace. */
export interface TriedStep {
  step: number;
  reason: string;
  action: string;
}

export interface RouteConfig {
  /** `{extension}`; e.g. `PJSIP/{extension}`. */
  deviceDialTemplate: string;
  /** `{number}` = E.164 digits without `+`, `{e164}` = with `+`; e.g. `PJSIP/{number}@trunk`. */
  mobileDialTemplate: string;
  /** `{extension}`; e.g. `{extension}@default`. */
  userMailboxTemplate: string;
  /** Seconds. */
  ringTimeouts: { owner: number; mobile: number; department: number };
  maxSteps: number;
  /** The line of last resort when the call has no department at all (unknown DID, no default). */
  defaultLine?: DepartmentLine | null;
  /** The mailbox of last resort, same case. */
  defaultMailbox?: string | null;
  /** Ring an owner's mobile outside the department's business hours. Default false. */
  mobileAfterHours?: boolean;
}

export interface RouteInput {
  /** 1 for the first question of a call; the dialplan adds 1 per step. */
  step: number;
  /** `''` on step 1. A string, not LastStatus: it comes straight from the dialplan. */
  lastStatus: string;
  /** E.164, or null when the caller ID did not parse (then the caller is unknown). */
  caller: string | null;
  /** The dialled number, for the trace only. */
  did: string;
  now: Date;
  /** Clients whose phone equals the caller; several means a tie. */
  clients: readonly RouteClient[];
  /** The owners of those clients. */
  owners: readonly RouteOwner[];
  /** Department of the dialled number, or the default department; null when neither exists. */
  didDepartment: RouteDepartment | null;
  /** Departments of the owners (looked up by `RouteOwner.departmentId`); may be empty. */
  ownerDepartments: readonly RouteDepartment[];
  /** Earlier decisions of this call; may be empty even on step > 1 (trace not found). */
  alreadyTried: readonly TriedStep[];
  config: RouteConfig;
}

/**
 * `fallback`: the service has nobody to offer (no department, no default line or mailbox) and
 * hands the call to the dialplan's own fallback (SWITCHBOARD_FALLBACK_DIAL, then
 * SWITCHBOARD_FALLBACK_MAILBOX). A dialplan that does not know the word does the same: any
 * unknown action goes to its fallback (dialplan/switchboard.conf).
 */
export type RouteAction = 'dial' | 'queue' | 'voicemail' | 'hangup' | 'fallback';

export type RouteReason =
  | 'owner'
  | 'owner_mobile'
  | 'department'
  | 'voicemail'
  | 'unknown_caller'
  | 'after_hours'
  /** The call has been through its steps: past maxSteps, answered, or every target tried. */
  | 'steps_exhausted'
  | 'fallback_error'
  /** Nothing to offer and no department for the call: the dialplan's fallback takes it. */
  | 'no_department'
  /** Nothing to offer from the start (a department without a usable line or mailbox): the same. */
  | 'no_target';

export type TargetKind = 'owner' | 'owner_mobile' | 'department' | 'voicemail';

export type SkipReason =
  /** away and dnd only: `offline` (no screen connected) leaves the decision to the device state. */
  | `presence:${Exclude<Presence, 'available' | 'offline'>}`
  | 'device:inuse'
  | 'device:busy'
  | 'device:unavailable'
  | 'no_owner'
  | 'no_extension'
  | 'no_mobile'
  | 'no_line'
  | 'no_mailbox'
  /** A template or dial string that would break Dial() (comma, control character, unknown placeholder). */
  | 'bad_target'
  | 'after_hours'
  /** Named in the trace of an earlier step. */
  | 'already_tried'
  /** No trace for an earlier step: assumed to have been this target, by step count. */
  | 'step_passed';

/** One target of the plan, for the trace: what was considered and why it was not rung. */
export interface RouteCandidate {
  target: TargetKind;
  userId?: EntityId;
  departmentId?: EntityId;
  skipped?: SkipReason;
  chosen?: true;
}

/** One client of a tie (several clients with the caller's number), for the trace. */
export interface TieClient {
  clientId: EntityId;
  ownerId: EntityId | null;
  /** The owner is an active user; false: deactivated, deleted or none, and the client loses the tie. */
  ownerActive: boolean;
  /** ISO time, or null: never. */
  lastActivityAt: string | null;
  chosen?: true;
}

export interface RouteDecision {
  action: RouteAction;
  dial?: string;
  /** Seconds, whole. For `dial` and `queue`. */
  timeout?: number;
  queue?: string;
  mailbox?: string;
  step: number;
  reason: RouteReason;
  clientId?: EntityId;
  clientName?: string;
  /** The client's owner, whoever is rung at this step (screen-pop, statistics). */
  managerId?: EntityId;
  /** The department of the plan (whose line and hours apply); absent for the config defaults. */
  departmentId?: EntityId;
  tie: boolean;
  /** The clients of the tie in the order they ranked; absent without a tie. */
  tieClients?: TieClient[];
  candidates: RouteCandidate[];
}
