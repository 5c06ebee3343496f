// The life of one benchmark run: a progress log on stderr, a registry of everything started so
// it is stopped in reverse order (also on failure and on SIGINT/SIGTERM), and a watchdog so a hung
// run gives its machine back.

export type Log = (message: string) => void;
export interface Cleanup {
  name: string;
  run: () => Promise<unknown>;
}
export interface Cleanups {
  push(cleanup: Cleanup): void;
  /** Runs every cleanup once, newest first; later calls get the same promise. */
  run(): Promise<void>;
}

/** `[bench:<name>   12.3 s] message`: seconds since the run started. */
export function benchLog(name: string): Log {
  const t0 = performance.now();
  return (message) => process.stderr.write(`[${name} ${((performance.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${message}\n`);
}

export function cleanupRegistry(log: Log): Cleanups {
  const entries: Cleanup[] = [];
  let cleaning: Promise<void> | null = null;
  const run = () =>
    (cleaning ??= (async () => {
      for (const { name, run: stop } of entries.reverse()) {
        try {
          await stop();
        } catch (error) {
          log(`cleanup of ${name} failed: ${String(error)}`);
        }
      }
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping everything`);
      void run().finally(() => process.exit(130));
    });
  }
  return { push: (cleanup) => void entries.push(cleanup), run };
}

/**
 * Runs `main` under a watchdog, then the cleanups; exit code 0, 1 on failure, 124 when the
 * watchdog fired, 130 on a signal. `main` calls the returned `done()` once its results are
 * written, so a slow cleanup is not mistaken for a hung run.
 */
export function runBenchmark(main: (done: () => void) => Promise<void>, o: { log: Log; cleanups: Cleanups; watchdogMs: number }): void {
  const watchdog = setTimeout(() => {
    o.log(`watchdog: over ${o.watchdogMs / 60_000} minutes, giving up`);
    void o.cleanups.run().finally(() => process.exit(124));
  }, o.watchdogMs);
  watchdog.unref();
  main(() => clearTimeout(watchdog))
    .then(() => o.cleanups.run())
    .then(() => process.exit(0))
    .catch(async (error: unknown) => {
      o.log(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      await o.cleanups.run();
      process.exit(1);
    });
}
