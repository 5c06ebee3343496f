import { performance } from 'node:perf_hooks';

export interface Sample {
  at: number;
  path: string;
  status: number; // 0: no answer (connection error or client timeout)
  ms: number;
}

/**
 * A bounded load on loopback: `workers` loops, each asking the next of `requests` in turn, until
 * `stop()` is called or `maxMs` passes (so a failing test cannot leave it running). Each request
 * has a client-side timeout: a request the service never answers counts as status 0.
 */
export function startLoad(opts: {
  baseUrl: string;
  workers: number;
  requests: Array<{ path: string; headers?: Record<string, string> }>;
  maxMs: number;
  timeoutMs?: number;
  pauseMs?: number;
}) {
  const samples: Sample[] = [];
  const started = performance.now();
  let stopped = false;
  const worker = async (offset: number) => {
    for (let i = offset; !stopped && performance.now() - started < opts.maxMs; i++) {
      const request = opts.requests[i % opts.requests.length]!;
      const t0 = performance.now();
      let status = 0;
      try {
        const res = await fetch(opts.baseUrl + request.path, { headers: request.headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 20_000) });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = 0;
      }
      samples.push({ at: t0 - started, path: request.path.split('?')[0]!, status, ms: performance.now() - t0 });
      if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
    }
  };
  const done = Promise.all(Array.from({ length: opts.workers }, (_, i) => worker(i)));
  return {
    samples,
    elapsed: () => performance.now() - started,
    async stop() {
      stopped = true;
      await done;
      return samples;
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function summary(samples: Sample[], path: string) {
  const mine = samples.filter((s) => s.path === path);
  const byStatus: Record<string, number> = {};
  for (const s of mine) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  const ms = mine.map((s) => s.ms);
  return { path, count: mine.length, byStatus, p50: Math.round(percentile(ms, 50)), p99: Math.round(percentile(ms, 99)), max: Math.round(Math.max(0, ...ms)) };
}
