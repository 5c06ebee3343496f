import { Writable } from 'node:stream';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazyChildLoggerFactory } from '../../src/lazy-request-logger.js';
import { createLogger } from '../../src/logger.js';

// /pbx/route's request logger is made only when a line is logged: it must log exactly what
// Fastify's own per-request child would (the reqId binding, redaction, levels).

async function appLoggingAt(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  // Fastify's own request lines are off (as the top-level disableRequestLogging did, deprecated in
  // Fastify 5.12): only the lines the handlers write are compared.
  const app = Fastify({
    loggerInstance: createLogger(level, sink) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.get('/quiet', { childLoggerFactory: lazyChildLoggerFactory }, async (request) => {
    request.log.info('info line');
    request.log.debug('debug line');
    return { enabledInfo: (request.log as unknown as { isLevelEnabled(l: string): boolean }).isLevelEnabled('info') };
  });
  app.get('/loud', { childLoggerFactory: lazyChildLoggerFactory }, async (request) => {
    request.log.warn({ token: 'secret-token', detail: 1 }, 'warn line');
    request.log.child({ step: 2 }).error('child line');
    return { level: request.log.level };
  });
  await app.ready();
  return { app, lines };
}

describe('lazyChildLoggerFactory', () => {
  it('logs nothing below the level and says so', async () => {
    const { app, lines } = await appLoggingAt('warn');
    const response = await app.inject('/quiet');
    expect(response.json()).toEqual({ enabledInfo: false });
    expect(lines).toEqual([]);
    await app.close();
  });

  it('logs enabled lines with the request id, redaction and child bindings, like a real child', async () => {
    const { app, lines } = await appLoggingAt('warn');
    const response = await app.inject('/loud');
    expect(response.json()).toEqual({ level: 'warn' });
    expect(lines).toEqual([
      expect.objectContaining({ level: 40, msg: 'warn line', reqId: 'req-1', token: '[REDACTED]', detail: 1 }),
      expect.objectContaining({ level: 50, msg: 'child line', reqId: 'req-1', step: 2 }),
    ]);
    await app.close();
  });

  it('follows the parent level when it is lower', async () => {
    const { app, lines } = await appLoggingAt('debug');
    await app.inject('/quiet');
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([
      ['info line', 'req-1'],
      ['debug line', 'req-1'],
    ]);
    await app.close();
  });
});
