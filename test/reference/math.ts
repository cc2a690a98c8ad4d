/**
 * Float64 scalar math and small array helpers for the plain-loop reference.
 * Nothing here uses tfjs.
 */

export type F64 = Float64Array;

/** erfc(x) for x ≥ 2.5 in float64, by its continued fraction (no cancellation). */
function erfcTail(ax: number): number {
  // erfc(x) = e^{−x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …)))))
  let f = ax;
  for (let n = 80; n >= 1; n--) f = ax + n / 2 / f;
  return Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
}

/** erf in float64: Taylor series for |x| < 2.5, continued fraction of erfc beyond. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf(x) = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 100; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - erfcTail(ax));
}

/**
 * Φ(x) = ½(1 + erf(x/√2)) in float64, to full relative precision for x < 0
 * too (½·erfc(|x|/√2) by the continued fraction: 1 + erf cancels there).
 */
export function normalCdf(x: number): number {
  const z = -x / Math.SQRT2;
  return z >= 2.5 ? 0.5 * erfcTail(z) : 0.5 * (1 + erf(x / Math.SQRT2));
}

export const gelu = (x: number): number => x * normalCdf(x);
/** d/dx of exact GELU: Φ(x) + x·φ(x). */
export const geluGrad = (x: number): number =>
  normalCdf(x) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);

/**
 * The worst errors of GELU values `y` and gradients `g` (for upstream
 * gradients dy(i)) at `xs` against the float64 GELU, each relative to
 * max(1, |x|) (and to dy).
 */
export function geluErrors(
  xs: number[],
  y: ArrayLike<number>,
  g: ArrayLike<number>,
  dy: (i: number) => number,
): { worstY: number; worstG: number } {
  let worstY = 0;
  let worstG = 0;
  xs.forEach((v, i) => {
    const s = Math.max(1, Math.abs(v));
    worstY = Math.max(worstY, Math.abs(y[i] - gelu(v)) / s);
    worstG = Math.max(worstG, Math.abs(g[i] - dy(i) * geluGrad(v)) / (dy(i) * s));
  });
  return { worstY, worstG };
}

/** Deterministic RNG (mulberry32) with normal draws by Box–Muller. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  uniform(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    const u = Math.max(this.uniform(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
  /** n normal values × std, rounded to float32 so tfjs sees exactly the same numbers. */
  array(n: number, std = 1, mean = 0): F64 {
    const a = new Float64Array(n);
    for (let i = 0; i < n; i++) a[i] = Math.fround(mean + std * this.normal());
    return a;
  }
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** max |a − b| / max |b| (b is the reference). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  const s = maxAbs(b);
  return s === 0 ? m : m / s;
}

/** y[n, out] = x[n, in] · W[in, out] + b[out]. */
export function matmulBias(x: F64, n: number, inF: number, W: F64, outF: number, b?: F64): F64 {
  const y = new Float64Array(n * outF);
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outF; o++) {
      let acc = b ? b[o] : 0;
      for (let i = 0; i < inF; i++) acc += x[r * inF + i] * W[i * outF + o];
      y[r * outF + o] = acc;
    }
  }
  return y;
}

/** Row-wise LayerNorm of x[n, C] (biased variance), eps 1e-5. */
export function layerNormRows(x: F64, n: number, C: number, g: F64, b: F64, eps = 1e-5): F64 {
  const y = new Float64Array(n * C);
  for (let r = 0; r < n; r++) {
    let mu = 0;
    for (let c = 0; c < C; c++) mu += x[r * C + c];
    mu /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[r * C + c] - mu) ** 2;
    v /= C;
    const inv = 1 / Math.sqrt(v + eps);
    for (let c = 0; c < C; c++) y[r * C + c] = (x[r * C + c] - mu) * inv * g[c] + b[c];
  }
  return y;
}
