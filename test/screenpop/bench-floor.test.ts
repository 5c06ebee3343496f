import { describe, expect, it } from 'vitest';
import { loopbackFloor } from '../../bench/screenpop/floor.js';

// bench/screenpop/floor.ts: the bare socket loop that bench:screenpop reports next to its
// fan-out. A rep only completes when every receiver has read every socket's frame, so a sender
// that skipped sockets or a receiver that miscounted would time out here.
describe('loopback floor (bench:screenpop)', () => {
  it('writes the frame to every socket, split over the sender threads, and times each rep', async () => {
    const result = await loopbackFloor({ sockets: 101, senders: 2, frameBytes: 36, reps: 3, warmup: 1, gapMs: 10 });
    expect(result).toMatchObject({ senders: 2, sockets: 101, reps: 3 });
    expect(result.goToLast?.n).toBe(3);
    expect(result.writeLoop?.n).toBe(3);
    expect(result.writesPerRep).toEqual({ min: 101, max: 101 });
    expect(result.goToLast!.p50).toBeGreaterThan(0);
  }, 30_000);
});
