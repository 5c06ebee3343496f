import { describe, expect, it } from 'vitest';
import { parseSwitches, waitsOf } from '../../bench/screenpop/sched-waits.js';

// bench/screenpop/sched-waits.ts reads `perf script` output of sched:sched_switch events.
const sw = (cpu: number, at: number, prev: [string, number, string], next: [string, number]) =>
  `${prev[0].padStart(16)} ${prev[1]} [${String(cpu).padStart(3, '0')}] ${at.toFixed(6)}: sched:sched_switch: prev_comm=${prev[0]} prev_pid=${prev[1]} prev_prio=120 prev_state=${prev[2]} ==> next_comm=${next[0]} next_pid=${next[1]} next_prio=120`;

describe('sched-waits (bench diagnostics)', () => {
  it('counts the waits of a preempted thread and who ran on its CPU meanwhile; blocking is not waiting', () => {
    const trace = [
      sw(0, 10.0, ['swapper/0', 0, 'R'], ['node', 100]), // the service starts on CPU 0
      sw(0, 10.01, ['node', 100, 'R+'], ['screens', 200]), // preempted by the screens' thread
      sw(0, 10.013, ['screens', 200, 'S'], ['node', 100]), // back after 3 ms
      sw(0, 10.02, ['node', 100, 'R'], ['postgres', 300]), // preempted again
      sw(0, 10.021, ['postgres', 300, 'S'], ['screens', 200]),
      sw(0, 10.022, ['screens', 200, 'S'], ['node', 100]), // back after 2 ms: 1 postgres, 1 screens
      sw(0, 10.03, ['node', 100, 'S'], ['swapper/0', 0]), // blocks (epoll): not a wait
      sw(1, 10.031, ['swapper/1', 0, 'R'], ['node', 100]),
      'not a sched_switch line',
    ].join('\n');
    const switches = parseSwitches(trace);
    expect(switches).toHaveLength(8);
    const w = waitsOf(switches, 100);
    expect(w.preemptions).toBe(2);
    expect(w.waitedMs).toBeCloseTo(5, 6);
    expect(w.ranInstead).toEqual([
      { who: 'screens 200', ms: expect.closeTo(4, 6) },
      { who: 'postgres 300', ms: expect.closeTo(1, 6) },
    ]);
  });
});
