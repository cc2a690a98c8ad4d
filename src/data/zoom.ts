/**
 * Resizing that reproduces scipy.ndimage.zoom(input, zoom, order, mode='constant',
 * cval=0, prefilter=True, grid_mode=False) for orders 0, 1 and 3:
 * - output index o along an axis samples input coordinate o·(n_in − 1)/(n_out − 1)
 *   (corner-aligned; 0 when n_out = 1), computed in float64 exactly as scipy does;
 * - order 3 first applies the cubic B-spline prefilter along every axis with
 *   mirror-symmetric boundary (scipy uses that for mode 'constant'), then weights
 *   the 4 nearest coefficients, mirroring indices that fall outside;
 * - a coordinate beyond the last sample (float round-off can push it there) yields cval = 0;
 * - order 0 takes the sample at floor(c + 0.5).
 * The n-D interpolation is a tensor product, done here one axis at a time.
 */

export type ZoomOrder = 0 | 1 | 3;

const POLE3 = Math.sqrt(3) - 2;

/** Cubic B-spline prefilter of one line in place (mirror boundary), as scipy's spline_filter1d. */
function prefilterLine(c: Float64Array, off: number, stride: number, n: number): void {
  if (n < 2) return;
  const z = POLE3;
  const gain = (1 - z) * (1 - 1 / z);
  const at = (i: number) => off + i * stride;
  for (let i = 0; i < n; i++) c[at(i)] *= gain;
  // causal initialisation, mirror-symmetric extension
  const zn1 = Math.pow(z, n - 1);
  let c0 = c[at(0)] + zn1 * c[at(n - 1)];
  let zi = z;
  for (let i = 1; i < n - 1; i++) {
    c0 += zi * (c[at(i)] + zn1 * c[at(n - 1 - i)]);
    zi *= z;
  }
  c[at(0)] = c0 / (1 - zn1 * zn1);
  for (let i = 1; i < n; i++) c[at(i)] += z * c[at(i - 1)];
  // anticausal initialisation and recursion
  c[at(n - 1)] = ((z * c[at(n - 2)] + c[at(n - 1)]) * z) / (z * z - 1);
  for (let i = n - 2; i >= 0; i--) c[at(i)] = z * (c[at(i + 1)] - c[at(i)]);
}

function mirrorIndex(idx: number, len: number): number {
  if (len <= 1) return 0;
  const s2 = 2 * len - 2;
  if (idx < 0) {
    idx = s2 * Math.trunc(-idx / s2) + idx;
    idx = idx <= 1 - len ? idx + s2 : -idx;
  } else if (idx >= len) {
    idx -= s2 * Math.trunc(idx / s2);
    if (idx >= len) idx = s2 - idx;
  }
  return idx;
}

interface AxisPlan {
  /** Per output index: input indices (order+1 of them, mirrored) and weights; null = constant (0). */
  idx: Int32Array;
  w: Float64Array;
  valid: Uint8Array;
}

function planAxis(nIn: number, nOut: number, order: ZoomOrder): AxisPlan {
  const k = order + 1;
  const idx = new Int32Array(nOut * k);
  const w = new Float64Array(nOut * k);
  const valid = new Uint8Array(nOut);
  const div = nOut - 1;
  const zoom = div !== 0 ? (nIn - 1) / div : 1;
  for (let o = 0; o < nOut; o++) {
    const cc = o * zoom;
    // scipy maps a coordinate outside [0, nIn-1] to the constant value in mode 'constant'
    if (cc < 0 || cc > nIn - 1) continue;
    valid[o] = 1;
    const start = order & 1 ? Math.floor(cc) - (order >> 1) : Math.floor(cc + 0.5) - (order >> 1);
    for (let j = 0; j < k; j++) idx[o * k + j] = mirrorIndex(start + j, nIn);
    if (order === 0) w[o] = 1;
    else if (order === 1) {
      const t = cc - Math.floor(cc);
      w[o * 2] = 1 - t;
      w[o * 2 + 1] = t;
    } else {
      const t = cc - Math.floor(cc);
      const u = 1 - t;
      w[o * 4] = (u * u * u) / 6;
      w[o * 4 + 1] = (4 - 6 * t * t + 3 * t * t * t) / 6;
      w[o * 4 + 2] = (1 + 3 * t + 3 * t * t - 3 * t * t * t) / 6;
      w[o * 4 + 3] = (t * t * t) / 6;
    }
  }
  return { idx, w, valid };
}

/**
 * Resize an n-D array. `shape` and `outShape` are NumPy-style (slowest axis first) and
 * `data` is in C order. Returns float64 values (scipy returns the input dtype; round or
 * cast as needed — order 0 returns input values exactly).
 */
export function zoomArray(
  data: ArrayLike<number>,
  shape: number[],
  outShape: number[],
  order: ZoomOrder = 3,
): Float64Array {
  const nd = shape.length;
  if (outShape.length !== nd) throw new Error(`zoomArray: shape ${shape} vs output ${outShape}`);
  let cur = Float64Array.from(data);
  let curShape = shape.slice();
  if (order === 3) {
    for (let ax = 0; ax < nd; ax++) {
      const n = curShape[ax];
      const stride = curShape.slice(ax + 1).reduce((a, b) => a * b, 1);
      const outer = curShape.slice(0, ax).reduce((a, b) => a * b, 1);
      for (let o = 0; o < outer; o++)
        for (let s = 0; s < stride; s++) prefilterLine(cur, o * n * stride + s, stride, n);
    }
  }
  const k = order + 1;
  for (let ax = 0; ax < nd; ax++) {
    const nIn = curShape[ax];
    const nOut = outShape[ax];
    if (nIn === nOut && order !== 3) continue; // identity for orders 0/1 when the size is unchanged
    const plan = planAxis(nIn, nOut, order);
    const stride = curShape.slice(ax + 1).reduce((a, b) => a * b, 1);
    const outer = curShape.slice(0, ax).reduce((a, b) => a * b, 1);
    const next = new Float64Array(outer * nOut * stride);
    for (let o = 0; o < outer; o++) {
      const inBase = o * nIn * stride;
      const outBase = o * nOut * stride;
      for (let q = 0; q < nOut; q++) {
        if (!plan.valid[q]) continue;
        const dst = outBase + q * stride;
        for (let j = 0; j < k; j++) {
          const wj = plan.w[q * k + j];
          const src = inBase + plan.idx[q * k + j] * stride;
          for (let s = 0; s < stride; s++) next[dst + s] += wj * cur[src + s];
        }
      }
    }
    cur = next;
    curShape = curShape.slice();
    curShape[ax] = nOut;
  }
  return cur;
}

/** scipy's output size for a zoom factor: round(n · factor) per axis. */
export function zoomShape(shape: number[], factors: number[]): number[] {
  return shape.map((n, i) => roundHalfEven(n * factors[i]));
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Resize a row-major 2D image (height × width) to outH × outW like scipy.ndimage.zoom. */
export function resizeImage(
  img: { data: ArrayLike<number>; height: number; width: number },
  outH: number,
  outW: number,
  order: ZoomOrder,
): { data: Float32Array; height: number; width: number } {
  const r = zoomArray(img.data, [img.height, img.width], [outH, outW], order);
  return { data: Float32Array.from(r), height: outH, width: outW };
}

/** Nearest (order 0) resize of a label map, staying in Uint8. */
export function resizeLabels(
  lab: { data: Uint8Array; height: number; width: number },
  outH: number,
  outW: number,
): { data: Uint8Array; height: number; width: number } {
  const r = zoomArray(lab.data, [lab.height, lab.width], [outH, outW], 0);
  return { data: Uint8Array.from(r), height: outH, width: outW };
}
