// Waiting helpers: resolve on the awaited change, fail with a clear message after a deadline.
import type { AmiClient, AmiStatus } from '../../src/pbx/ami-client.js';

/** Re-checks `probe` every few ms until it returns a truthy value. */
export async function waitFor<T>(probe: () => T, what: string, timeoutMs = 2_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves when the client reports `status` (at once if it already does). */
export function waitForStatus(client: AmiClient, status: AmiStatus, timeoutMs = 2_000): Promise<void> {
  if (client.status() === status) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`AMI client still ${client.status()} after ${timeoutMs} ms, wanted ${status}`));
    }, timeoutMs);
    const off = client.onStatusChange((s) => {
      if (s !== status) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** 'rejected' | 'resolved' if `p` settles within the current macrotask, else 'pending'. */
export function settledBeforeNextTick(p: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  return Promise.race([
    p.then(() => 'resolved' as const, () => 'rejected' as const),
    new Promise<'pending'>((r) => setImmediate(() => r('pending'))),
  ]);
}

/** Counts the global setTimeout timers created from now on that have neither fired nor been
 *  cleared: a precise leak probe, unlike process-wide handle counts. */
export function trackTimers(): { live(): number; restore(): void } {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<unknown>();
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const t = realSet((...a: unknown[]) => { live.delete(t); fn(...a); }, ms, ...args);
    live.add(t);
    return t;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((t: Parameters<typeof clearTimeout>[0]) => {
    live.delete(t);
    realClear(t);
  }) as typeof clearTimeout;
  return {
    live: () => live.size,
    restore() {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}
