import { Worker, type WorkerOptions } from 'node:worker_threads';

/** A worker thread running a TypeScript module: tsx's loader is not inherited by worker threads,
 *  so the worker registers it first, then imports the script. */
export function tsWorker(script: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const source = `import(${JSON.stringify(api)}).then(({ register }) => { register(); return import(${JSON.stringify(script.href)}); })`;
  return new Worker(source, { ...options, eval: true });
}
