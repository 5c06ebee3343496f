import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { createBudget, OVER_BUDGET } from '../../src/routing/budget.js';

// The route's budget: every request in flight shares one timer, so what must hold is that each
// one still gets its own answer at its own deadline, whatever the others do.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const never = () => new Promise<string>(() => {});

describe('createBudget', () => {
  it('gives the work its outcome when it is in time, and OVER_BUDGET when it is not', async () => {
    const withinBudget = createBudget(40);
    const started = performance.now();
    const [quick, hung] = await Promise.all([withinBudget(sleep(5).then(() => 'quick')), withinBudget(never())]);
    expect(quick).toBe('quick');
    expect(hung).toBe(OVER_BUDGET);
    expect(performance.now() - started).toBeGreaterThanOrEqual(39);
  });

  it('expires each request at its own deadline, in order, while settled ones in between are skipped', async () => {
    const withinBudget = createBudget(60);
    const started = performance.now();
    const expiredAt: number[] = [];
    const hung = async (i: number) => {
      expect(await withinBudget(never())).toBe(OVER_BUDGET);
      expiredAt[i] = performance.now() - started;
    };
    const first = hung(0);
    const inTime = withinBudget(sleep(10).then(() => 'answered'));
    await sleep(30);
    const second = hung(1);
    await Promise.all([first, second]);
    expect(await inTime).toBe('answered');
    expect(expiredAt[0]).toBeGreaterThanOrEqual(59);
    expect(expiredAt[0]).toBeLessThan(85);
    // Started 30 ms later: expires 30 ms later, not together with the first.
    expect(expiredAt[1]).toBeGreaterThanOrEqual(89);
  });

  it('passes a failure through, and ignores the work once the budget has answered', async () => {
    const withinBudget = createBudget(20);
    await expect(withinBudget(Promise.reject(new Error('database down')))).rejects.toThrow('database down');
    let settleLate!: (v: string) => void;
    const late = withinBudget(new Promise<string>((resolve) => (settleLate = resolve)));
    expect(await late).toBe(OVER_BUDGET);
    settleLate('too late');
    // Still usable afterwards.
    expect(await withinBudget(Promise.resolve('next'))).toBe('next');
  });

  it('keeps serving after thousands of requests have come and gone', async () => {
    const withinBudget = createBudget(30);
    const answers = await Promise.all(Array.from({ length: 5_000 }, (_, i) => withinBudget(Promise.resolve(i))));
    expect(answers[4_999]).toBe(4_999);
    expect(await withinBudget(never())).toBe(OVER_BUDGET);
  });
});
