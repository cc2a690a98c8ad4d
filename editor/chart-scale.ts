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
