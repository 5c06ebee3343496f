import http from 'node:http';
import { performance } from 'node:perf_hooks';

// An open-loop load at a truly fixed rate: request i is due at t0 + i/rate, and is sent then
// whether or not earlier answers are back (over a keep-alive pool of `connections` sockets, one
// request per socket at a time). Latency is measured from the DUE time, so a stall of the server
// or of the pool counts in full (no coordinated omission); the time from the actual write is
// reported as well.
//
// Why not autocannon's `overallRate` alone: autocannon 8 limits the rate per connection per
// one-second window (lib/httpClient.js: `reqsMadeThisSecond++ < rate`, reset by a 1 s
// setInterval). Every connection fires its whole quota back to back at the start of each
// second, so "1,000 rps over 32 connections" is a burst of 1,000 requests at concurrency 32,
// then silence; its latency is that of a saturated server at that concurrency. Its
// coordinated-omission correction also uses an expected interval of ceil(1/rate) = 1 ms.

export interface PacedResult {
  rate: number;
  durationS: number;
  connections: number;
  sent: number;
  completed: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Still unanswered `graceS` after the last one was due; counted in `latency` at their age then. */
  unfinished: number;
  /** Achieved completions per second over the run. */
  achievedRps: number;
  /** From the due time (what the caller waits), ms. */
  latency: Percentiles;
  /** From the write on the socket, ms. */
  serviceTime: Percentiles;
  /** How late the generator itself sent (its own event-loop lag), ms. */
  sendLag: Percentiles;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export function percentiles(values: Float64Array | number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { p50: NaN, p90: NaN, p99: NaN, p999: NaN, max: NaN, mean: NaN };
  // Nearest-rank.
  const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), max: sorted[n - 1]!, mean: sum / n };
}

export async function pacedLoad(opts: {
  host: string;
  port: number;
  rate: number;
  durationS: number;
  connections: number;
  nextPath: () => string;
  timeoutMs?: number;
  /** How long to wait for stragglers after the last request was due (default 5 s). */
  graceS?: number;
  /** Each answered request's body and latency from its due time (ms); bodies are kept only when given. */
  onAnswer?: (body: string, latencyMs: number) => void;
}): Promise<PacedResult> {
  const { rate, durationS, connections } = opts;
  const total = Math.round(rate * durationS);
  const intervalMs = 1000 / rate;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });

  const graceMs = (opts.graceS ?? 5) * 1000;
  const latency = new Float64Array(total);
  const dueOf = (i: number) => t0 + i * intervalMs;
  const finishedFlags = new Uint8Array(total);
  const serviceTime = new Float64Array(total);
  const sendLag = new Float64Array(total);
  let completed = 0;
  let non2xx = 0;
  let errors = 0;
  let timeouts = 0;
  let sent = 0;
  let settled = 0;

  const t0 = performance.now() + 20;
  let finish!: () => void;
  const allSettled = new Promise<void>((resolve) => (finish = resolve));
  const settle = () => {
    settled += 1;
    if (settled === total) finish();
  };

  const fire = (i: number) => {
    const due = dueOf(i);
    const req = http.request({ agent, host: opts.host, port: opts.port, method: 'GET', path: opts.nextPath(), timeout: timeoutMs });
    let writtenAt = performance.now();
    sendLag[i] = writtenAt - due;
    // With all sockets busy the agent queues the request; it is written when a socket frees.
    req.once('socket', (socket) => {
      if (socket.connecting) socket.once('connect', () => (writtenAt = performance.now()));
      else writtenAt = performance.now();
    });
    let finished = false;
    const done = (outcome: 'ok' | 'non2xx' | 'error') => {
      if (finished) return;
      finished = true;
      finishedFlags[i] = 1;
      const end = performance.now();
      if (outcome === 'ok') {
        latency[completed] = end - due;
        serviceTime[completed] = end - writtenAt;
        completed += 1;
      } else if (outcome === 'non2xx') {
        non2xx += 1;
      } else {
        errors += 1;
      }
      settle();
    };
    let response: http.IncomingMessage | undefined;
    const outcome = (res: http.IncomingMessage): 'ok' | 'non2xx' =>
      res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300 ? 'ok' : 'non2xx';
    req.once('response', (res) => {
      response = res;
      const onAnswer = opts.onAnswer;
      let body = '';
      if (onAnswer) {
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
      } else {
        res.on('data', () => {});
      }
      res.once('end', () => {
        done(outcome(res));
        onAnswer?.(body, performance.now() - due);
      });
    });
    req.once('timeout', () => {
      timeouts += 1;
      req.destroy(new Error('timeout'));
    });
    req.once('error', () => done('error'));
    // An answer cut off half-way ends here without 'end'.
    req.once('close', () => done(response?.complete ? outcome(response) : 'error'));
    req.end();
  };

  let stopped = false;
  const tick = () => {
    if (stopped) return;
    const now = performance.now();
    while (sent < total && t0 + sent * intervalMs <= now) {
      fire(sent);
      sent += 1;
    }
    if (sent < total) {
      const wait = t0 + sent * intervalMs - performance.now();
      if (wait <= 0) setImmediate(tick);
      else setTimeout(tick, wait);
    }
  };
  setTimeout(tick, 20);
  let cutoffTimer: NodeJS.Timeout | undefined;
  const cutoff = new Promise<void>((resolve) => {
    cutoffTimer = setTimeout(resolve, t0 + total * intervalMs + graceMs - performance.now());
  });
  await Promise.race([allSettled, cutoff]);
  clearTimeout(cutoffTimer);
  stopped = true;
  const end = performance.now();
  const elapsedS = (end - t0) / 1000;
  const answered = completed;
  // Stragglers (and requests never sent) count at their age now: a lower bound of their latency.
  let unfinished = 0;
  for (let i = 0; i < total; i++) {
    if (finishedFlags[i] === 0) {
      latency[completed + unfinished] = end - dueOf(i);
      unfinished += 1;
    }
  }
  agent.destroy();

  return {
    rate,
    durationS,
    connections,
    sent,
    completed,
    non2xx,
    errors: errors - timeouts,
    timeouts,
    unfinished,
    achievedRps: answered / elapsedS,
    latency: percentiles(latency.subarray(0, answered + unfinished)),
    serviceTime: percentiles(serviceTime.subarray(0, answered)),
    sendLag: percentiles(sendLag.subarray(0, sent)),
  };
}
