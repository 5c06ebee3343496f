/**
 * A small semaphore for argon2 verifications. Each costs ~0.28 s of CPU on the 2-core VM; a
 * 16-parallel flood of sign-ins pushed /pbx/route's p99 from 18 to 116 ms (issue 15). At most
 * `concurrent` run at once and `queued` wait; past that the sign-in is refused at once (503 with
 * Retry-After) rather than queued, so a flood costs a bounded share of the CPU and memory.
 */
export function createVerifyGate(concurrent: number, queued: number) {
  let running = 0;
  const waiting: Array<() => void> = [];
  return {
    /** Runs `task` within the bound; throws SignInBusyError when the gate is full. */
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (running >= concurrent) {
        if (waiting.length >= queued) throw new SignInBusyError();
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        running++;
      }
      try {
        return await task();
      } finally {
        // Hand the slot straight to the next waiter, so `running` never dips and lets a newcomer jump the queue.
        const next = waiting.shift();
        if (next) next();
        else running--;
      }
    },
    get running() {
      return running;
    },
  };
}

export type VerifyGate = ReturnType<typeof createVerifyGate>;

/** 503 with the stable code BUSY; the route adds Retry-After. */
export class SignInBusyError extends Error {
  readonly statusCode = 503;
  readonly code = 'BUSY';
  readonly retryAfterSeconds = 1;
  constructor() {
    super('too many sign-ins at once; try again in a second');
  }
}
