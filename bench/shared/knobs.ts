// Benchmark settings read from the environment: a bad or missing value falls back to the default
// instead of turning into NaN somewhere in the middle of a run.

/** A positive number from `process.env[name]`, else `fallback`. */
export function envNumber(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

/** Space-separated words, e.g. BENCH_SERVICE_NODE_ARGS="--trace-gc --max-semi-space-size=32". */
export function envWords(name: string): string[] {
  return (process.env[name] ?? '').split(' ').filter(Boolean);
}
