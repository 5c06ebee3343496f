import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TraceQueue, type RowBatch } from '../../src/routing/trace-queue.js';

// The trace's waiting rows live as bytes in one Buffer with offsets beside them; every way rows
// leave and come back (take, drop, put back a whole or a partly stored batch, compaction while
// growing) must keep exactly the rows, in order, with their bytes and facts. Checked against a
// plain array of rows doing the same operations.

interface Row {
  linkedid: string;
  step: number;
  reason: string;
  action: string;
  clientId: number | null;
  line: string;
}

const rowArb = fc.record({
  linkedid: fc.constantFrom('call-a', 'call-b', 'call-c'),
  step: fc.integer({ min: 1, max: 9 }),
  reason: fc.constantFrom('owner', 'department', 'voicemail'),
  action: fc.constantFrom('dial', 'voicemail'),
  clientId: fc.option(fc.integer({ min: 1, max: 1_000_000 }), { nil: null }),
  // Non-Latin and astral text: byte offsets differ from string lengths. Long lines force growth.
  line: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 3_000 })).map((s) => `${s}\n`),
});

type Op =
  | { kind: 'push'; row: Row }
  | { kind: 'take'; count: number }
  | { kind: 'drop'; count: number }
  | { kind: 'putBack'; fromRow: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: rowArb.map((row) => ({ kind: 'push' as const, row })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 8 }).map((count) => ({ kind: 'take' as const, count })) },
  { weight: 1, arbitrary: fc.integer({ min: -2, max: 5 }).map((count) => ({ kind: 'drop' as const, count })) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 8 }).map((fromRow) => ({ kind: 'putBack' as const, fromRow })) },
);

const batchRows = (batch: RowBatch): Array<Omit<Row, 'line'> & { line: string }> =>
  batch.ends.map((end, i) => ({
    linkedid: batch.linkedids[i]!,
    step: batch.steps[i]!,
    reason: batch.reasons[i]!,
    action: batch.actions[i]!,
    clientId: batch.clientIds[i]! < 0 ? null : batch.clientIds[i]!,
    line: batch.bytes.subarray(i === 0 ? 0 : batch.ends[i - 1], end).toString('utf8'),
  }));

describe('trace queue', () => {
  it('keeps exactly the waiting rows, in order, through takes, drops and batches put back', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const queue = new TraceQueue();
        let model: Row[] = [];
        let lastTaken: { batch: RowBatch; rows: Row[] } | null = null;
        for (const op of ops) {
          if (op.kind === 'push') {
            queue.push(op.row, op.row.line);
            model.push(op.row);
          } else if (op.kind === 'take') {
            const batch = queue.take(op.count);
            const rows = model.slice(0, Math.max(0, op.count));
            model = model.slice(rows.length);
            expect(batchRows(batch)).toEqual(rows);
            expect(batch.bytes.toString('utf8')).toBe(rows.map((r) => r.line).join(''));
            lastTaken = { batch, rows };
          } else if (op.kind === 'drop') {
            const gone = queue.dropOldest(op.count);
            expect(gone).toBe(Math.max(0, Math.min(op.count, model.length)));
            model = model.slice(gone);
          } else if (lastTaken !== null) {
            queue.putBack(lastTaken.batch, op.fromRow);
            model = lastTaken.rows.slice(op.fromRow).concat(model);
            lastTaken = null;
          }
          expect(queue.length).toBe(model.length);
        }
        for (const linkedid of ['call-a', 'call-b', 'call-c']) {
          const found: unknown[] = [];
          queue.pendingOf(linkedid, found as never);
          expect(found).toEqual(model.filter((r) => r.linkedid === linkedid).map(({ step, reason, action, clientId }) => ({ step, reason, action, clientId })));
        }
        expect(batchRows(queue.take(model.length + 1))).toEqual(model);
        expect(queue.length).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('reuses its Buffer once the rows that filled it are gone, instead of growing without end', () => {
    const queue = new TraceQueue();
    const line = `${'x'.repeat(599)}\n`;
    const meta = { linkedid: 'c', step: 1, reason: 'owner', action: 'dial', clientId: 1 };
    // An outage at the limit: every new row pushes the oldest out.
    for (let i = 0; i < 200_000; i++) {
      queue.push(meta, line);
      if (queue.length > 1_000) queue.dropOldest(1);
    }
    expect(queue.length).toBe(1_000);
    const held = (queue as unknown as { bytes: Buffer }).bytes.length;
    // 1,000 rows of 600 bytes: the Buffer stays within a few times that, not 200,000 rows' worth.
    expect(held).toBeLessThanOrEqual(8 * 600 * 1_000);
  });
});
