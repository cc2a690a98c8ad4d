/**
 * The loss chart's ranges over a long run: a million points (a long run's
 * loss history) in one pass, equal to plain loops, where spreading the points
 * into Math.min/Math.max overflows the call stack.
 */
import { describe, expect, it } from 'vitest';
import { BucketedSeries, extent, niceTicks } from '../../editor/chart-scale.ts';

describe('extent', () => {
  it('covers a million points with NaN losses skipped, as plain loops do', () => {
    const n = 1_000_000;
    const points: [number, number][] = [];
    let seed = 12345;
    for (let i = 0; i < n; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      points.push([i + 1, i % 997 === 0 ? NaN : 3 * Math.exp(-i / 2e5) + seed / 2 ** 32]);
    }
    let [lo, hi] = [Infinity, -Infinity];
    for (const [, y] of points) {
      if (Number.isNaN(y)) continue;
      if (y < lo) lo = y;
      if (y > hi) hi = y;
    }
    const e = extent([{ label: '', color: '', points }]);
    expect(e).toEqual({ x0: 1, x1: n, y0: lo, y1: hi, points: n });
  });

  it('falls back to [0, 1] without points or without finite values', () => {
    expect(extent([])).toEqual({ x0: 0, x1: 1, y0: 0, y1: 1, points: 0 });
    const nan = extent([{ label: '', color: '', points: [[4, NaN]] }]);
    expect(nan).toEqual({ x0: 4, x1: 4, y0: 0, y1: 1, points: 1 });
  });
});

describe('niceTicks', () => {
  it('gives round steps of 1, 2, 2.5 or 5 times a power of ten', () => {
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(niceTicks(0, 1000, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
  });
});

describe('BucketedSeries', () => {
  it('draws a long run with a bounded number of points, each the mean of its steps’ finite losses', () => {
    const cap = 16;
    const raw: [number, number][] = [];
    const s = new BucketedSeries(cap);
    for (let i = 1; i <= 5000; i++) {
      const y = i % 37 === 0 ? NaN : Math.sin(i / 50) + i / 1000;
      raw.push([i, y]);
      s.push(i, y);
      const drawn = s.points;
      expect(drawn.length).toBeLessThanOrEqual(2 * cap + 1);
      if (i % 613 !== 0 && i !== 5000) continue;
      // Every drawn point against plain loops over its bucket of raw points.
      const size = s.bucketSize;
      expect(drawn).toHaveLength(Math.ceil(i / size));
      drawn.forEach(([x, y], b) => {
        const bucket = raw.slice(b * size, Math.min(i, (b + 1) * size));
        let [sx, sy, n] = [0, 0, 0];
        for (const [bx, by] of bucket) {
          sx += bx;
          if (Number.isFinite(by)) [sy, n] = [sy + by, n + 1];
        }
        expect(x).toBeCloseTo(sx / bucket.length, 9);
        expect(y).toBeCloseTo(sy / n, 9);
      });
    }
    expect(s.count).toBe(5000);
    expect(s.lastX).toBe(5000);
    expect(s.bucketSize).toBe(256); // 5000 points in at most 32 buckets: 2⁸ per bucket
  });

  it('keeps every point while the run is short, and NaN where a bucket has no finite value', () => {
    const s = BucketedSeries.of([
      [1, 2],
      [2, NaN],
      [3, 0.5],
    ]);
    expect(s.points).toEqual([
      [1, 2],
      [2, NaN],
      [3, 0.5],
    ]);
  });
});
