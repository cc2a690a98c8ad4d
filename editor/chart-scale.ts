/** The numbers behind a line chart, without the DOM: ranges and tick values. */

export interface ChartSeries {
  label: string;
  color: string;
  points: readonly (readonly [number, number])[];
  /** Draw a dot at every point (sparse series such as validations). */
  dots?: boolean;
}

/** About `count` round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

/**
 * The x and (finite) y ranges of the series, in one pass without spreading
 * the points into arguments (which overflows the stack on long runs).
 */
export function extent(series: readonly ChartSeries[]) {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  let points = 0;
  for (const s of series) {
    for (const [x, y] of s.points) {
      points++;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (!Number.isFinite(y)) continue;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  if (!points) [x0, x1] = [0, 1];
  if (y0 > y1) [y0, y1] = [0, 1];
  return { x0, x1, y0, y1, points };
}

/**
 * A growing series (a run's loss per step) drawn with a bounded number of
 * points: consecutive points are averaged in buckets (non-finite values left
 * out) whose size doubles whenever 2 × `cap` buckets are full. Appending is
 * amortised O(1) and drawing is O(cap), so a long run costs no more per step
 * than a short one.
 */
export class BucketedSeries {
  /** Raw points appended. */
  count = 0;
  /** The x of the last point appended. */
  lastX = NaN;
  /** Raw points per full bucket. */
  bucketSize = 1;
  /** Full buckets: mean x, mean of the finite y (NaN when none), count of finite y. */
  private readonly full: [number, number, number][] = [];
  private part = { n: 0, sx: 0, sy: 0, finite: 0 };

  constructor(readonly cap = 400) {}

  static of(points: Iterable<readonly [number, number]>, cap?: number): BucketedSeries {
    const s = new BucketedSeries(cap);
    for (const [x, y] of points) s.push(x, y);
    return s;
  }

  push(x: number, y: number): void {
    this.count++;
    this.lastX = x;
    const p = this.part;
    p.n++;
    p.sx += x;
    if (Number.isFinite(y)) {
      p.sy += y;
      p.finite++;
    }
    if (p.n < this.bucketSize) return;
    this.full.push([p.sx / p.n, p.finite ? p.sy / p.finite : NaN, p.finite]);
    this.part = { n: 0, sx: 0, sy: 0, finite: 0 };
    if (this.full.length < 2 * this.cap) return;
    // Halve the resolution: pairs of equal-size buckets become one.
    for (let i = 0; i < this.cap; i++) {
      const [a, b] = [this.full[2 * i], this.full[2 * i + 1]];
      const finite = a[2] + b[2];
      const y = finite ? ((a[2] ? a[1] * a[2] : 0) + (b[2] ? b[1] * b[2] : 0)) / finite : NaN;
      this.full[i] = [(a[0] + b[0]) / 2, y, finite];
    }
    this.full.length = this.cap;
    this.bucketSize *= 2;
  }

  /** The points to draw: the full buckets, then the one filling up. */
  get points(): [number, number][] {
    const out = this.full.map(([x, y]) => [x, y] as [number, number]);
    const p = this.part;
    if (p.n) out.push([p.sx / p.n, p.finite ? p.sy / p.finite : NaN]);
    return out;
  }
}
