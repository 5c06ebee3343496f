// The earlier steps of a call, for the decision of its next step, without asking PostgreSQL.
//
// Two sources, in this order:
// - the question itself: every answer carries `tried`, the call's steps so far including its
//   own, and the dialplan sends it back with the next question. A step that lands on another
//   instance sees them with no shared state and no round trip.
// - this instance's memory of the calls it answered lately, for a dialplan that does not send
//   `tried` (an older switchboard.conf), or a question whose previous CURL() failed.
// A step neither knows is assumed to have used the next possible target (decide-route.ts,
// `step_passed`), as before when the trace had no row for it.
import type { TriedStep } from './types.js';

// `1.owner.dial-2.owner_mobile.dial`: only characters that CURL()'s URL and a dialplan HASH
// take as they are (no comma, which would split CURL()'s arguments; no `&`, `=`, `+`, `%`).
const STEP = /^(\d{1,2})\.([a-z_]{1,24})\.([a-z]{1,12})$/;
const MAX_STEPS = 20;

export function encodeTried(steps: readonly TriedStep[]): string {
  let text = '';
  for (const t of steps) text += `${text === '' ? '' : '-'}${t.step}.${t.reason}.${t.action}`;
  return text;
}

/** The steps before `step` named in a `tried` parameter; anything malformed is left out. */
export function parseTried(text: string, step: number): TriedStep[] {
  if (text === '') return [];
  const steps: TriedStep[] = [];
  for (const part of text.split('-', MAX_STEPS)) {
    const m = STEP.exec(part);
    if (m === null) continue;
    const n = Number(m[1]);
    if (n >= 1 && n < step) steps.push({ step: n, reason: m[2]!, action: m[3]! });
  }
  return steps;
}

/**
 * This instance's recent calls and their steps, in two generations: when the young one holds
 * `maxCalls / 2` calls, it becomes the old one and the previous old one is dropped. So the last
 * maxCalls / 2 calls at least are remembered (at 10 new calls a second and the default 50,000,
 * the last 40 minutes), memory stays bounded under any load, and nothing is trimmed entry by
 * entry (V8 walks the holes of deleted Map entries; see the phone memo).
 */
export function createCallSteps(opts: { maxCalls?: number } = {}) {
  const half = Math.max(1, Math.floor((opts.maxCalls ?? 50_000) / 2));
  let young = new Map<string, TriedStep[]>();
  let old = new Map<string, TriedStep[]>();

  return {
    add(linkedid: string, step: TriedStep): void {
      let steps = young.get(linkedid);
      if (steps === undefined) {
        steps = old.get(linkedid) ?? [];
        if (young.size >= half) {
          old = young;
          young = new Map();
        }
        young.set(linkedid, steps);
      }
      steps.push(step);
    },
    get(linkedid: string): readonly TriedStep[] {
      return young.get(linkedid) ?? old.get(linkedid) ?? [];
    },
  };
}

export type CallSteps = ReturnType<typeof createCallSteps>;

/** The request's steps, with those only this instance remembers added; ordered by step. */
export function mergeTried(fromRequest: readonly TriedStep[], remembered: readonly TriedStep[], step: number): TriedStep[] {
  if (remembered.length === 0) return fromRequest as TriedStep[];
  const known = new Set(fromRequest.map((t) => t.step));
  const merged = fromRequest.slice();
  for (const t of remembered) {
    if (t.step < step && !known.has(t.step)) {
      known.add(t.step);
      merged.push(t);
    }
  }
  return merged.sort((a, b) => a.step - b.step);
}
