// How a routing answer's plan is kept in the trace (route_decisions, migration 0025), and how a
// trace row is read back whatever its age.
//
// Why text and not json: a trace row is written on every answer, at the route's rate, and read
// back only when someone opens a call. As json, the answer and the plan were most of a row's
// bytes; `JSON.stringify` on the ring path and PostgreSQL's json parse on the way in cost the
// route benchmark ~7 µs of service and ~4 µs of PostgreSQL CPU an answer (BENCHMARKS.md, route
// webhook). The answer is stored as the hash body the dialplan received (answer-format.ts, made
// for the reply anyway); the plan in the short form below. Rows from before 0025 keep their json.
import { decodeHashBody } from './answer-format.js';
import type { RouteCandidate, SkipReason, TargetKind } from './types.js';

// One candidate: `target`, then `;key=value` for what it has, `;chosen` if rung; candidates
// joined by `,`. E.g. `owner;u=17;skipped=device:inuse,owner_mobile;u=17;chosen,department;d=3`.
// `u`/`d` hold a numeric id, `U`/`D` a string one (EntityId is either). Only `%` `,` `;` `=` are
// escaped (as %XX), so a value decodes with decodeURIComponent.
const SPECIAL = /[%,;=]/g;
const escape = (value: string): string => value.replace(SPECIAL, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function id(numeric: string, textual: string, value: number | string): string {
  return typeof value === 'number' ? `;${numeric}=${value}` : `;${textual}=${escape(value)}`;
}

export function encodeCandidates(candidates: readonly RouteCandidate[]): string {
  let out = '';
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    if (i > 0) out += ',';
    out += escape(c.target);
    if (c.userId !== undefined) out += id('u', 'U', c.userId);
    if (c.departmentId !== undefined) out += id('d', 'D', c.departmentId);
    if (c.skipped !== undefined) out += `;skipped=${escape(c.skipped)}`;
    if (c.chosen) out += ';chosen';
  }
  return out;
}

export function decodeCandidates(list: string): RouteCandidate[] {
  if (list === '') return [];
  return list.split(',').map((item) => {
    const [target, ...fields] = item.split(';');
    const candidate: RouteCandidate = { target: decodeURIComponent(target!) as TargetKind };
    for (const field of fields) {
      const eq = field.indexOf('=');
      const key = eq < 0 ? field : field.slice(0, eq);
      const value = eq < 0 ? '' : decodeURIComponent(field.slice(eq + 1));
      if (key === 'u') candidate.userId = Number(value);
      else if (key === 'U') candidate.userId = value;
      else if (key === 'd') candidate.departmentId = Number(value);
      else if (key === 'D') candidate.departmentId = value;
      else if (key === 'skipped') candidate.skipped = value as SkipReason;
      else if (key === 'chosen') candidate.chosen = true;
    }
    return candidate;
  });
}

/** A stored trace row's answer and plan: the text columns since migration 0025, json before. */
export function tracedPlan(row: {
  answer: Record<string, string> | null;
  candidates: unknown[] | null;
  answerBody: string | null;
  candidateList: string | null;
}): { answer: Record<string, string>; candidates: unknown[] } {
  return {
    answer: row.answerBody !== null ? decodeHashBody(row.answerBody) : (row.answer ?? {}),
    candidates: row.candidateList !== null ? decodeCandidates(row.candidateList) : (row.candidates ?? []),
  };
}

