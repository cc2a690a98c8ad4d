/**
 * Surface extraction and an exact Euclidean distance transform, the pieces of
 * medpy's hd95: surface = A xor erode(A) with the cross-shaped (face-connected)
 * structuring element and background outside the array; distances by the
 * Felzenszwalb–Huttenlocher separable squared EDT with per-axis spacing.
 *
 * Arrays are in C order with NumPy-style `shape` (slowest axis first).
 */

export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    s[k] = acc;
    acc *= shape[k];
  }
  return s;
}

/** Voxels of `mask` with a face neighbour outside the mask or outside the array. */
export function surfaceOf(mask: Uint8Array, shape: readonly number[]): Uint8Array {
  const nd = shape.length;
  const strides = stridesOf(shape);
  const out = new Uint8Array(mask.length);
  const inner = shape[nd - 1];
  if (!inner) return out;
  const rows = mask.length / inner;
  const coord = new Array<number>(Math.max(0, nd - 1)).fill(0);
  for (let r = 0; r < rows; r++) {
    let q = r;
    for (let a = nd - 2; a >= 0; a--) {
      coord[a] = q % shape[a];
      q = Math.floor(q / shape[a]);
    }
    // a row touching the array's edge along a leading axis is border wherever it is set
    let edgeRow = false;
    for (let a = 0; a < nd - 1; a++)
      if (coord[a] === 0 || coord[a] === shape[a] - 1) edgeRow = true;
    const base = r * inner;
    for (let x = 0; x < inner; x++) {
      const i = base + x;
      if (!mask[i]) continue;
      if (edgeRow || x === 0 || x === inner - 1 || !mask[i - 1] || !mask[i + 1]) {
        out[i] = 1;
        continue;
      }
      for (let a = 0; a < nd - 1; a++) {
        if (!mask[i - strides[a]] || !mask[i + strides[a]]) {
          out[i] = 1;
          break;
        }
      }
    }
  }
  return out;
}

/**
 * 1D lower envelope of parabolas (Felzenszwalb & Huttenlocher 2012) along one line:
 * d[q] = min_p ((q − p)·h)² + f[p]. Infinite f (no feature yet) is skipped.
 */
function envelope1d(
  f: Float64Array,
  n: number,
  h: number,
  v: Int32Array,
  z: Float64Array,
  d: Float64Array,
): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q];
    if (fq === Infinity) continue;
    const pq = q * h;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    let s: number;
    for (;;) {
      const p = v[k];
      const pp = p * h;
      s = (fq + pq * pq - (f[p] + pp * pp)) / (2 * (pq - pp));
      if (s <= z[k] && k > 0) k--;
      else break;
    }
    if (s <= z[k]) {
      // k === 0 and the new parabola dominates everywhere
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    for (let q = 0; q < n; q++) d[q] = Infinity;
    return;
  }
  let j = 0;
  for (let q = 0; q < n; q++) {
    const x = q * h;
    while (z[j + 1] < x) j++;
    const dx = (q - v[j]) * h;
    d[q] = dx * dx + f[v[j]];
  }
}

/**
 * Squared Euclidean distance from every voxel to the nearest voxel where `features` is
 * set (Infinity everywhere when there is none). `spacing` is per axis, same order as shape.
 */
export function squaredDistanceTransform(
  features: Uint8Array,
  shape: readonly number[],
  spacing: readonly number[] = shape.map(() => 1),
): Float64Array {
  const n = features.length;
  const g = new Float64Array(n);
  for (let i = 0; i < n; i++) g[i] = features[i] ? 0 : Infinity;
  const strides = stridesOf(shape);
  const maxLen = Math.max(1, ...shape);
  const f = new Float64Array(maxLen);
  const d = new Float64Array(maxLen);
  const v = new Int32Array(maxLen);
  const z = new Float64Array(maxLen + 1);
  for (let ax = 0; ax < shape.length; ax++) {
    const len = shape[ax];
    const st = strides[ax];
    const h = spacing[ax];
    const lines = n / len;
    // iterate over every line along `ax`: start offsets are all indices with coord[ax] = 0
    const outer = st * len; // block size
    for (let line = 0; line < lines; line++) {
      const base = Math.floor(line / st) * outer + (line % st);
      for (let q = 0; q < len; q++) f[q] = g[base + q * st];
      envelope1d(f, len, h, v, z, d);
      for (let q = 0; q < len; q++) g[base + q * st] = d[q];
    }
  }
  return g;
}
