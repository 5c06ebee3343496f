import { Worker, type WorkerOptions } from 'node:worker_threads';

/** A worker thread running a TypeScript module: tsx's loader is not inherited by worker threads,
 *  so the worker registers it first, then imports the script. */
export function tsWorker(script: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const source = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(script.href)}); })`;
  return new Worker(source, { ...options, eval: true });
}

/**
 * Waits for a worker's answers by kind: `next('opened')` resolves with the next message whose
 * `cmd` is 'opened' (a worker answers each request in order). The owner's 'message' listener
 * hands messages to `answer`, after taking out those it handles itself. The worker's error or
 * exit, or `fail`, rejects every wait, present and future.
 */
export function workerAnswers<M extends { cmd: string }>(worker: Worker, name: string) {
  let failure: Error | null = null;
  type Waiter = { resolve: (m: M) => void; reject: (err: Error) => void };
  const waiting = new Map<M['cmd'], Waiter[]>();
  const fail = (err: Error) => {
    failure ??= err;
    for (const list of waiting.values()) for (const w of list.splice(0)) w.reject(err);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`${name} exited with code ${code}`)));
  return {
    answer: (m: M) => waiting.get(m.cmd)?.shift()?.resolve(m),
    fail,
    get failed() {
      return failure !== null;
    },
    /** The next answer of kind `cmd`; with `timeoutMs`, a rejection if none comes in time. */
    next<C extends M['cmd']>(cmd: C, timeoutMs?: number): Promise<Extract<M, { cmd: C }>> {
      return new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        const list = waiting.get(cmd) ?? [];
        waiting.set(cmd, list);
        const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
          list.splice(list.indexOf(waiter), 1);
          reject(new Error(`${name}: no "${cmd}" within ${timeoutMs} ms`));
        }, timeoutMs);
        const waiter: Waiter = {
          resolve: (m) => (clearTimeout(timer), resolve(m as Extract<M, { cmd: C }>)),
          reject: (err) => (clearTimeout(timer), reject(err)),
        };
        list.push(waiter);
      });
    },
  };
}
