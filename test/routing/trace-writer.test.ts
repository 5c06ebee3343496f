import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTraceWriter, type RouteDecisionRow } from '../../src/routing/trace-writer.js';
import { createDatabase } from '../../src/db/client.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { createTestDatabase, type TestDatabase } from '../support/test-db.js';

// The routing trace goes into PostgreSQL with COPY's text format, where a tab, a newline or a
// backslash inside a value would shift or break the row. Every value must come back as written.

let database: TestDatabase;
const logged: Array<Record<string, unknown>> = [];
const logger = pino(
  { level: 'warn' },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  }),
);

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

const row = (linkedid: string, overrides: Partial<RouteDecisionRow> = {}): RouteDecisionRow => ({
  linkedid,
  uniqueid: `${linkedid}-u`,
  step: 1,
  lastStatus: '',
  callerRaw: '79161234567',
  caller: '+79161234567',
  did: '+74951110001',
  action: 'dial',
  reason: 'owner',
  answerBody: 'action=dial&dial=PJSIP%2F101&client_name=%D0%9E%D0%9E%D0%9E',
  candidateList: 'owner;u=7;chosen',
  clientId: 1,
  managerId: 7,
  latencyMs: 0.25,
  ...overrides,
});

const stored = async (linkedid: string) =>
  (
    await database.pool.query(
      `select linkedid, uniqueid, step, last_status, caller_raw, caller, did, action, reason, answer_body, candidate_list,
              client_id, manager_id, latency_ms from route_decisions where linkedid = $1`,
      [linkedid],
    )
  ).rows;

describe('trace writer', () => {
  it('stores tabs, newlines, carriage returns, backslashes, quotes and non-Latin text exactly', async () => {
    const writer = createTraceWriter(database.pool, logger);
    const tricky = 'a\tb\nc\rd\\e "f" \\N \\t ё 📞';
    writer.write(
      row('tricky-1', {
        callerRaw: tricky,
        lastStatus: '\\',
        answerBody: tricky,
        candidateList: `owner;skipped=${tricky}`,
      }),
    );
    writer.write(row('tricky-2', { caller: null, clientId: null, managerId: null, callerRaw: '' }));
    await writer.flush();

    expect(await stored('tricky-1')).toEqual([
      {
        linkedid: 'tricky-1',
        uniqueid: 'tricky-1-u',
        step: 1,
        last_status: '\\',
        caller_raw: tricky,
        caller: '+79161234567',
        did: '+74951110001',
        action: 'dial',
        reason: 'owner',
        answer_body: tricky,
        candidate_list: `owner;skipped=${tricky}`,
        client_id: 1,
        manager_id: 7,
        latency_ms: 0.25,
      },
    ]);
    // Nulls stay nulls, and an empty string stays an empty string (not \N).
    expect(await stored('tricky-2')).toMatchObject([{ caller: null, client_id: null, manager_id: null, caller_raw: '' }]);
  });

  it('stores a NUL, which text columns cannot hold, as U+FFFD instead of losing the batch', async () => {
    const writer = createTraceWriter(database.pool, logger);
    writer.write(row('nul-1', { callerRaw: '7916\u00001234567' }));
    writer.write(row('nul-2'));
    await writer.flush();
    expect((await stored('nul-1'))[0]?.caller_raw).toBe('7916\ufffd1234567');
    expect(await stored('nul-2')).toHaveLength(1);
  });

  it('logs a batch the database refuses, and the next batches still go in on a healthy pool', async () => {
    const writer = createTraceWriter(database.pool, logger);
    logged.length = 0;
    // smallint overflow: PostgreSQL rejects the COPY mid-stream.
    writer.write(row('refused-1', { step: 70_000 }));
    await writer.flush();
    expect(logged).toEqual([expect.objectContaining({ msg: 'could not store routing trace', rows: 1 })]);
    expect(await stored('refused-1')).toEqual([]);

    for (let i = 0; i < 3; i++) {
      writer.write(row(`after-${i}`));
      await writer.flush();
    }
    const { rows } = await database.pool.query(`select count(*)::int as n from route_decisions where linkedid like 'after-%'`);
    expect(rows[0].n).toBe(3);
  });

  it('keeps queued decisions visible to a quick next step until they are stored', async () => {
    const writer = createTraceWriter(database.pool, logger);
    writer.write(row('pending-1', { step: 1, reason: 'owner' }));
    writer.write(row('pending-1', { step: 2, reason: 'owner_mobile', action: 'dial', clientId: null }));
    writer.write(row('pending-other'));
    // With the client each decision named: the call pipeline settles a call's client on it.
    expect(writer.pending('pending-1')).toEqual([
      { step: 1, reason: 'owner', action: 'dial', clientId: 1 },
      { step: 2, reason: 'owner_mobile', action: 'dial', clientId: null },
    ]);
    await writer.flush();
    expect(writer.pending('pending-1')).toEqual([]);
    expect(await stored('pending-1')).toHaveLength(2);
  });

  it('keeps a batch visible to a next step while it is being written, not only while queued', async () => {
    const writer = createTraceWriter(database.pool, logger);
    // Another session holds the table: the COPY waits until it lets go.
    const locker = await database.pool.connect();
    await locker.query('begin; lock table route_decisions in access exclusive mode');
    try {
      writer.write(row('storing-1', { step: 1, reason: 'owner' }));
      const flushed = writer.flush();
      await expect.poll(async () => (await database.pool.query(`select count(*)::int as n from pg_locks where not granted`)).rows[0].n).toBeGreaterThan(0);
      expect(writer.pending('storing-1')).toEqual([{ step: 1, reason: 'owner', action: 'dial', clientId: 1 }]);
      await locker.query('commit');
      await flushed;
    } finally {
      await locker.query('rollback').catch(() => {});
      locker.release();
    }
    expect(writer.pending('storing-1')).toEqual([]);
    expect(await stored('storing-1')).toHaveLength(1);
  });

  it('keeps what it could not write while the database is down, writes it when it is back, and counts what it had to drop', async () => {
    const url = new URL(database.url);
    const proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    url.port = String(proxy.port);
    const proxied = createDatabase(url.toString(), { max: 2 });
    const writer = createTraceWriter(proxied.pool, logger, { maxQueued: 4, retryMinMs: 20, copyTimeoutMs: 1_000 });
    try {
      proxy.setMode('refuse');
      for (let i = 0; i < 3; i++) writer.write(row(`down-${i}`, { step: 1 }));
      await writer.flush();
      expect(writer.stats()).toEqual({ queued: 3, dropped: 0 });
      expect(writer.pending('down-0')).toHaveLength(1);
      // Two more than fit: the oldest goes, and is counted.
      writer.write(row('down-3'));
      writer.write(row('down-4'));
      expect(writer.stats()).toEqual({ queued: 4, dropped: 1 });

      proxy.setMode('forward');
      // No flush() from here on: the writer's own retry brings the rows in.
      await expect.poll(async () => (await database.pool.query(`select count(*)::int as n from route_decisions where linkedid like 'down-%'`)).rows[0].n, { timeout: 10_000 }).toBe(4);
      expect(await stored('down-0')).toEqual([]);
      expect(await stored('down-4')).toHaveLength(1);
      expect(writer.stats()).toEqual({ queued: 0, dropped: 1 });
    } finally {
      await writer.close().catch(() => {});
      await proxied.close().catch(() => {});
      await proxy.close();
    }
  });
});
