/**
 * The Train panel's run state (editor/train-run-state.ts): a step's event is
 * O(1) work whatever the history's length. Counted, not timed: the array
 * elements a thousand steps write, early and late in a long run, and the
 * points the chart is handed after each step.
 */
import { describe, expect, it } from 'vitest';
import { RunState } from '../../editor/train-run-state.ts';
import type { SessionEvent } from '../../editor/worker/api.ts';

const step = (n: number): SessionEvent => ({
  type: 'step',
  step: n,
  runStep: n,
  totalSteps: 1e6,
  epoch: 0,
  loss: 1 / n,
  lr: 0.01,
  imagesPerSec: 10,
  etaSec: 1,
  numTensors: 42,
});

/** Counts every element written to an array (set traps), as a copy or an append would. */
function countingArray<T>(target: T[]): { array: T[]; writes: () => number } {
  let writes = 0;
  const array = new Proxy(target, {
    set(t, key, value) {
      if (typeof key === 'string' && /^\d+$/.test(key)) writes++;
      return Reflect.set(t, key, value);
    },
  });
  return { array, writes: () => writes };
}

describe('RunState', () => {
  it('writes as many elements in 1,000 steps after 200,000 as after 1,000; the chart gets at most 2×cap+1 points', () => {
    const s = new RunState();
    const series = s.losses;
    const inner = s.losses as unknown as { full: [number, number, number][] };
    const full = countingArray(inner.full);
    (s.losses as unknown as { full: unknown }).full = full.array;
    const tensors = countingArray<number>([]);
    (s as unknown as { tensorCounts: number[] }).tensorCounts = tensors.array;

    const writesOver = (from: number, to: number) => {
      const [f0, t0] = [full.writes(), tensors.writes()];
      for (let n = from; n < to; n++) s.apply(step(n));
      return full.writes() - f0 + (tensors.writes() - t0);
    };
    writesOver(1, 1_000);
    // Buckets double in size as the run grows, so count over a whole doubling cycle of 400 (cap) buckets.
    const early = writesOver(1_000, 2_000);
    writesOver(2_000, 200_000);
    const late = writesOver(200_000, 201_000);
    // Early on every step fills a bucket of 1 (1000 writes, plus a halving of 400); late, a bucket
    // holds 512 steps, so 1000 steps write 1000 tensor counts and ~2 buckets: never more than early.
    expect(early).toBeLessThanOrEqual(1_000 + 1_000 + 400);
    expect(late).toBeLessThanOrEqual(early);
    expect(late).toBeGreaterThanOrEqual(1_000); // the tensor count of each step is kept
    expect(s.losses).toBe(series); // appended in place, never replaced by a copy
    expect(s.losses.count).toBe(200_999);
    expect(s.losses.points.length).toBeLessThanOrEqual(2 * s.losses.cap + 1);
    expect(s.progress).toMatchObject({ step: 200_999, runStep: 200_999 });
  });

  it('validations and saves are appended; a restore rebuilds the series from the stored history', () => {
    const s = new RunState();
    s.apply({
      type: 'validation',
      point: { step: 3, meanDice: 0.5, convention: 'synapse' },
      perClass: {},
    });
    s.apply({ type: 'persisted', step: 3, bytes: 10, ms: 1 });
    expect(s.validations).toEqual([[3, 0.5]]);
    expect(s.saves).toBe(1);
    expect(s.saved).toEqual({ step: 3, bytes: 10, ms: 1 });
    s.restore({
      status: 'restored',
      weights: {} as never,
      step: 2,
      history: [
        { step: 1, loss: 2, lr: 0.1 },
        { step: 2, loss: 1, lr: 0.1 },
      ],
      validations: [],
      canResume: true,
      savedAt: 0,
    });
    expect(s.losses.points).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(s.xMax).toBe(2);
  });
});
