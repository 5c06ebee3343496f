import { performance } from 'node:perf_hooks';

export const OVER_BUDGET = Symbol('over budget');

interface Waiting {
  at: number;
  settled: boolean;
  // The promise's own resolve, not a closure around it: under tsx every named closure made
  // per request also costs a defineProperty (esbuild's keepNames).
  resolve: (outcome: typeof OVER_BUDGET) => void;
}

/**
 * Races work against one fixed budget, with a single timer for everything in flight.
 * Every request gets the same budget and they arrive in order, so their deadlines expire in the
 * order they were set: one timer for the oldest deadline not yet settled replaces a
 * setTimeout/clearTimeout pair (and a Promise.race) per ring.
 */
export function createBudget(budgetMs: number) {
  const waiting: Waiting[] = [];
  let head = 0;
  let timer: NodeJS.Timeout | null = null;

  function arm(): void {
    while (head < waiting.length && waiting[head]!.settled) head += 1;
    if (head === waiting.length) {
      waiting.length = 0;
      head = 0;
      return;
    }
    if (head > 1024) {
      waiting.splice(0, head);
      head = 0;
    }
    timer = setTimeout(expireDue, Math.max(0, waiting[head]!.at - performance.now()));
    // A request in flight keeps its socket, and so the process, alive; this timer need not.
    timer.unref();
  }

  function expireDue(): void {
    timer = null;
    const now = performance.now();
    for (; head < waiting.length; head += 1) {
      const entry = waiting[head]!;
      if (entry.settled) continue;
      if (entry.at > now) break;
      entry.settled = true;
      entry.resolve(OVER_BUDGET);
    }
    arm();
  }

  /** `work`'s outcome, or OVER_BUDGET when `budgetMs` passes first (`work` is then ignored). */
  return function withinBudget<T>(work: Promise<T>): Promise<T | typeof OVER_BUDGET> {
    return new Promise((resolve, reject) => {
      const entry: Waiting = { at: performance.now() + budgetMs, settled: false, resolve };
      waiting.push(entry);
      if (timer === null) arm();
      work.then(
        (value) => {
          if (entry.settled) return;
          entry.settled = true;
          resolve(value);
        },
        (err: unknown) => {
          if (entry.settled) return;
          entry.settled = true;
          reject(err);
        },
      );
    });
  };
}
