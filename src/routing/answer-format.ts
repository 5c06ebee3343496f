// The route answer as the dialplan reads it.
//
// Asterisk: `Set(CURLOPT(hashcompat)=yes)` then `Set(HASH(r${step})=${CURL(url)})`. func_curl
// trims trailing blanks, splits the body on `&`, each piece on its first `=`, and URI-decodes
// `%XX` in both halves. It does NOT turn `+` into a space (only hashcompat=legacy does), so
// values are encoded with encodeURIComponent, never URLSearchParams (spaces as `+`).
//
// Every key is always present, in a fixed order: a later failed CURL() on the same channel
// blanks the keys it knew (see DESIGN.md), and a fixed set keeps that behaviour predictable.
//
// Sanitising, because the decoded bytes land in C strings and dialplan arguments:
// - control characters (CR/LF, NUL which would cut the value, C1) become one space, then trim;
// - lone UTF-16 surrogates (a broken import) become U+FFFD: encodeURIComponent throws on them;
// - `dial`, `queue`, `mailbox` lose commas: they are used as `Dial(${HASH(r,dial)},…)`, and
//   Asterisk splits arguments after substituting, so a comma would shift the arguments.
//   decideRoute never produces one; this is the second lock. Commas in `client_name` are
//   harmless: `Dial(${HASH(r,dial)},${HASH(r,timeout)})` reads only dial and timeout, and HASH
//   stores values with commas escaped. A dialplan that passes client_name to an application
//   argument (e.g. `Set(CALLERID(name)=…)` is fine, `Dial(…,${HASH(r,client_name)})` is not)
//   must quote it itself.
import type { RouteDecision } from './types.js';

export const ANSWER_KEYS = [
  'action', 'dial', 'timeout', 'queue', 'mailbox', 'step', 'reason',
  'client_id', 'client_name', 'manager_id', 'call_id', 'tried',
] as const;

export type AnswerKey = (typeof ANSWER_KEYS)[number];
/** Every key, string values, `''` when absent: the same for the hash body and for JSON. */
export type RouteAnswer = Record<AnswerKey, string>;

export interface AnswerIds {
  /** Linkedid of the call (or the Uniqueid when there is none). */
  callId: string;
  /** The call's steps so far, this one included (call-steps.ts `encodeTried`); the dialplan
   *  sends it back with the next question. */
  tried?: string;
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f]+/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
// Any character one of the two replacements could touch (a surrogate, paired or not). Nearly
// every value has none, and one test is a fraction of the two replaces on every answer.
const SUSPECT = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/;

function text(value: string | number | undefined | null): string {
  if (value === undefined || value === null) return '';
  const s = String(value);
  if (!SUSPECT.test(s)) return s.trim();
  return s.replace(LONE_SURROGATE, '\ufffd').replace(CONTROL, ' ').trim();
}

function argument(value: string | undefined): string {
  const s = text(value);
  return s.includes(',') ? s.replace(/,/g, '') : s;
}

/** The answer's fields, sanitised; also what the trace should store. */
export function toAnswer(decision: RouteDecision, ids: AnswerIds): RouteAnswer {
  return {
    action: text(decision.action),
    dial: argument(decision.dial),
    timeout: decision.timeout !== undefined && Number.isFinite(decision.timeout) ? String(decision.timeout) : '',
    queue: argument(decision.queue),
    mailbox: argument(decision.mailbox),
    step: text(decision.step),
    reason: text(decision.reason),
    client_id: text(decision.clientId),
    client_name: text(decision.clientName),
    manager_id: text(decision.managerId),
    call_id: text(ids.callId),
    tried: ids.tried ?? '',
  };
}

/** `action=dial&dial=PJSIP%2F101&…`, for CURL() with hashcompat=yes. */
export function toHashBody(decision: RouteDecision, ids: AnswerIds): string {
  return encodeHashBody(toAnswer(decision, ids));
}

/** The hash body of an answer already sanitised by `toAnswer`. */
export function encodeHashBody(answer: RouteAnswer): string {
  let body = '';
  for (const key of ANSWER_KEYS) body += `${body === '' ? '' : '&'}${key}=${encodeURIComponent(answer[key])}`;
  return body;
}

/**
 * The answer back from its hash body, as the trace stores it (migration 0025). Only what
 * `encodeHashBody` wrote is expected; a key it does not know is ignored, a missing one is ''.
 */
export function decodeHashBody(body: string): RouteAnswer {
  const answer = Object.fromEntries(ANSWER_KEYS.map((key) => [key, ''])) as RouteAnswer;
  for (const pair of body.split('&')) {
    const eq = pair.indexOf('=');
    const key = (eq < 0 ? pair : pair.slice(0, eq)) as AnswerKey;
    if (Object.hasOwn(answer, key)) answer[key] = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1));
  }
  return answer;
}

/** The same keys and values as the hash body, for callers that speak JSON. */
export function toJsonAnswer(decision: RouteDecision, ids: AnswerIds): RouteAnswer {
  return toAnswer(decision, ids);
}
