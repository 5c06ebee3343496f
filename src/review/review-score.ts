// A scorecard's total as plain data in, plain data out (STYLE.md, "Our own house").

/** One question of a scorecard: yes/no, or a scale 0..max; its weight is its share of the total. */
export interface Criterion {
  key: string;
  label: string;
  weight: number;
  kind: 'yes_no' | 'scale';
  /** For `scale`: the best mark (the worst is 0). */
  max?: number;
}

/** An answer per criterion key; null = not applicable to this call (left out of the total). */
export type Answers = Record<string, boolean | number | null>;

/** Why a list of criteria cannot be a scorecard, or null. */
export function criteriaProblem(criteria: readonly Criterion[]): string | null {
  if (criteria.length === 0) return 'criteria: a scorecard needs at least one criterion';
  const keys = new Set<string>();
  for (const c of criteria) {
    if (keys.has(c.key)) return `criteria: the key "${c.key}" appears twice`;
    keys.add(c.key);
    if (c.kind === 'scale' && (c.max === undefined || c.max < 1)) return `criteria.${c.key}: a scale needs max ≥ 1`;
    if (c.kind === 'yes_no' && c.max !== undefined) return `criteria.${c.key}: a yes/no criterion has no max`;
  }
  return null;
}

/**
 * The weighted total, 0..100 with two decimals: each answered criterion gives its weight times
 * the share of its points (yes = 1, no = 0, a mark = mark / max), divided by the weights of the
 * answered criteria. Every criterion must be answered (null counts as an answer: not applicable);
 * a review with nothing applicable has no total and is refused.
 */
export function scoreAnswers(criteria: readonly Criterion[], answers: Answers): { total: number } | { error: string } {
  const known = new Set(criteria.map((c) => c.key));
  const stray = Object.keys(answers).find((k) => !known.has(k));
  if (stray !== undefined) return { error: `answers.${stray}: not a criterion of this scorecard version` };
  let points = 0;
  let weights = 0;
  for (const c of criteria) {
    if (!(c.key in answers)) return { error: `answers.${c.key}: missing (send null when it does not apply)` };
    const a = answers[c.key];
    if (a === null || a === undefined) continue;
    let share: number;
    if (c.kind === 'yes_no') {
      if (typeof a !== 'boolean') return { error: `answers.${c.key}: true or false expected` };
      share = a ? 1 : 0;
    } else {
      const max = c.max ?? 1;
      if (typeof a !== 'number' || !Number.isInteger(a) || a < 0 || a > max) return { error: `answers.${c.key}: a whole number 0..${max} expected` };
      share = a / max;
    }
    points += c.weight * share;
    weights += c.weight;
  }
  if (weights === 0) return { error: 'answers: at least one criterion must apply' };
  return { total: Math.round((points / weights) * 10_000) / 100 };
}
