/**
 * Float64 plain-loop reference of the 3D ops, written from 3D-MAM-SPEC.md
 * §c (no tfjs, nothing from src/). Volumes are channels-last
 * `[B, D, H, W, C]` arrays; weights in PyTorch's layout.
 */
import type { F64 } from './math.ts';

export type Dims = [number, number, number, number, number];
const at = (s: Dims, b: number, z: number, y: number, x: number, c: number) =>
  (((b * s[1] + z) * s[2] + y) * s[3] + x) * s[4] + c;

/** Conv3d, PyTorch semantics: W `(O, C, kd, kh, kw)`, stride and symmetric padding per axis. */
export function refConv3d(
  x: F64,
  s: Dims,
  w: F64,
  O: number,
  k: number[],
  stride: number[],
  pad: number[],
  bias?: F64,
): { y: F64; shape: Dims } {
  const out = [0, 1, 2].map((a) => Math.floor((s[a + 1] + 2 * pad[a] - k[a]) / stride[a]) + 1);
  const os: Dims = [s[0], out[0], out[1], out[2], O];
  const y = new Float64Array(os.reduce((p, q) => p * q, 1));
  const C = s[4];
  for (let b = 0; b < s[0]; b++)
    for (let oz = 0; oz < out[0]; oz++)
      for (let oy = 0; oy < out[1]; oy++)
        for (let ox = 0; ox < out[2]; ox++)
          for (let o = 0; o < O; o++) {
            let acc = bias ? bias[o] : 0;
            for (let i = 0; i < k[0]; i++)
              for (let j = 0; j < k[1]; j++)
                for (let l = 0; l < k[2]; l++) {
                  const iz = oz * stride[0] + i - pad[0];
                  const iy = oy * stride[1] + j - pad[1];
                  const ix = ox * stride[2] + l - pad[2];
                  if (iz < 0 || iy < 0 || ix < 0 || iz >= s[1] || iy >= s[2] || ix >= s[3])
                    continue;
                  for (let c = 0; c < C; c++)
                    acc +=
                      x[at(s, b, iz, iy, ix, c)] *
                      w[(((o * C + c) * k[0] + i) * k[1] + j) * k[2] + l];
                }
            y[at(os, b, oz, oy, ox, o)] = acc;
          }
  return { y, shape: os };
}

/** ConvTranspose3d with kernel = stride (§c.11): out[o, k·i + a] = bias[o] + Σ_c in[c, i]·W[c, o, a]. */
export function refConvT3d(x: F64, s: Dims, w: F64, O: number, k: number[], bias?: F64): F64 {
  const os: Dims = [s[0], s[1] * k[0], s[2] * k[1], s[3] * k[2], O];
  const y = new Float64Array(os.reduce((p, q) => p * q, 1));
  const C = s[4];
  for (let b = 0; b < s[0]; b++)
    for (let z = 0; z < os[1]; z++)
      for (let yy = 0; yy < os[2]; yy++)
        for (let xx = 0; xx < os[3]; xx++)
          for (let o = 0; o < O; o++) {
            const [iz, a] = [Math.floor(z / k[0]), z % k[0]];
            const [iy, bb] = [Math.floor(yy / k[1]), yy % k[1]];
            const [ix, cc] = [Math.floor(xx / k[2]), xx % k[2]];
            let acc = bias ? bias[o] : 0;
            for (let c = 0; c < C; c++)
              acc +=
                x[at(s, b, iz, iy, ix, c)] * w[(((c * O + o) * k[0] + a) * k[1] + bb) * k[2] + cc];
            y[at(os, b, z, yy, xx, o)] = acc;
          }
  return y;
}

/** InstanceNorm3d, no affine, biased variance, eps 1e-5. */
export function refInstanceNorm(x: F64, s: Dims, eps = 1e-5): F64 {
  const y = new Float64Array(x.length);
  const V = s[1] * s[2] * s[3];
  const C = s[4];
  for (let b = 0; b < s[0]; b++)
    for (let c = 0; c < C; c++) {
      let m = 0;
      for (let v = 0; v < V; v++) m += x[(b * V + v) * C + c];
      m /= V;
      let q = 0;
      for (let v = 0; v < V; v++) q += (x[(b * V + v) * C + c] - m) ** 2;
      const sd = Math.sqrt(q / V + eps);
      for (let v = 0; v < V; v++) y[(b * V + v) * C + c] = (x[(b * V + v) * C + c] - m) / sd;
    }
  return y;
}

export const refLeaky = (x: F64, a = 0.01): F64 => x.map((v) => (v > 0 ? v : a * v));

/** u′[p] = u[(p + s) mod P] on the three spatial axes (roll by −s). */
export function refRoll(x: F64, s: Dims, shift: number[]): F64 {
  const y = new Float64Array(x.length);
  for (let b = 0; b < s[0]; b++)
    for (let z = 0; z < s[1]; z++)
      for (let yy = 0; yy < s[2]; yy++)
        for (let xx = 0; xx < s[3]; xx++)
          for (let c = 0; c < s[4]; c++)
            y[at(s, b, z, yy, xx, c)] =
              x[at(s, b, (z + shift[0]) % s[1], (yy + shift[1]) % s[2], (xx + shift[2]) % s[3], c)];
  return y;
}

/** Window partition: windows (b, D-block, H-block, W-block), tokens t = (d·b + h)·c + w. */
export function refPartition(x: F64, s: Dims, win: number[]): F64 {
  const [a, bw, cw] = win;
  const [nd, nh, nw] = [s[1] / a, s[2] / bw, s[3] / cw];
  const N = a * bw * cw;
  const y = new Float64Array(x.length);
  for (let b = 0; b < s[0]; b++)
    for (let i = 0; i < nd; i++)
      for (let j = 0; j < nh; j++)
        for (let l = 0; l < nw; l++)
          for (let d = 0; d < a; d++)
            for (let h = 0; h < bw; h++)
              for (let w = 0; w < cw; w++)
                for (let c = 0; c < s[4]; c++) {
                  const win = ((b * nd + i) * nh + j) * nw + l;
                  const t = (d * bw + h) * cw + w;
                  y[(win * N + t) * s[4] + c] = x[at(s, b, i * a + d, j * bw + h, l * cw + w, c)];
                }
  return y;
}

/** The bias `[heads, N, N]` = T[R[i,j], h] of an index `R` (N×N) and table `[rows, heads]`. */
export function refBias(table: F64, heads: number, R: ArrayLike<number>, N: number): F64 {
  const y = new Float64Array(heads * N * N);
  for (let h = 0; h < heads; h++)
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) y[(h * N + i) * N + j] = table[R[i * N + j] * heads + h];
  return y;
}

/** §c.4 SwinUNETR: R7[i,j] = (Δd+6)·169 + (Δh+6)·13 + (Δw+6) over a 7³ window. */
export function refSwinIndex(): Int32Array {
  const N = 343;
  const R = new Int32Array(N * N);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < N; j++) {
      const dd = Math.floor(i / 49) - Math.floor(j / 49);
      const dh = (Math.floor(i / 7) % 7) - (Math.floor(j / 7) % 7);
      const dw = (i % 7) - (j % 7);
      R[i * N + j] = (dd + 6) * 169 + (dh + 6) * 13 + (dw + 6);
    }
  return R;
}

/** §c.4 nnFormer: R = (Δd+w−1)·(3w−1) + (Δh+w−1)·(2w−1) + (Δw+w−1) over a w³ window. */
export function refNnformerIndex(w: number): Int32Array {
  const N = w ** 3;
  const R = new Int32Array(N * N);
  for (let i = 0; i < N; i++)
    for (let j = 0; j < N; j++) {
      const dd = Math.floor(i / (w * w)) - Math.floor(j / (w * w));
      const dh = (Math.floor(i / w) % w) - (Math.floor(j / w) % w);
      const dw = (i % w) - (j % w);
      R[i * N + j] = (dd + w - 1) * (3 * w - 1) + (dh + w - 1) * (2 * w - 1) + (dw + w - 1);
    }
  return R;
}

/** Patch merging's 8C gather: odd axes padded at the end, sub-grids y[a::2,b::2,c::2] in `offsets` order. */
export function refMergeGather(x: F64, s: Dims, offsets: number[][]): { y: F64; shape: Dims } {
  const P = [s[1] + (s[1] % 2), s[2] + (s[2] % 2), s[3] + (s[3] % 2)];
  const os: Dims = [s[0], P[0] / 2, P[1] / 2, P[2] / 2, 8 * s[4]];
  const y = new Float64Array(os.reduce((p, q) => p * q, 1));
  for (let b = 0; b < s[0]; b++)
    for (let z = 0; z < os[1]; z++)
      for (let yy = 0; yy < os[2]; yy++)
        for (let xx = 0; xx < os[3]; xx++)
          offsets.forEach(([a, bb, cc], g) => {
            const [iz, iy, ix] = [2 * z + a, 2 * yy + bb, 2 * xx + cc];
            const inside = iz < s[1] && iy < s[2] && ix < s[3];
            for (let c = 0; c < s[4]; c++)
              y[at(os, b, z, yy, xx, g * s[4] + c)] = inside ? x[at(s, b, iz, iy, ix, c)] : 0;
          });
  return { y, shape: os };
}

/**
 * The shift mask `[nW, N, N]` by the reference's slices (§c.3): labels from
 * slice(-w), slice(-w, -s), slice(-s, None) per axis with Python's meaning of
 * negative and −0 bounds, later loops overwriting earlier ones.
 */
export function refShiftMask(P: number[], win: number[], sh: number[]): F64 {
  const py = (n: number, lo: number | null, hi: number | null): [number, number] => {
    const norm = (v: number) => (v < 0 ? Math.max(0, n + v) : Math.min(v, n));
    return [lo === null ? 0 : norm(lo), hi === null ? n : norm(hi)];
  };
  const slices = [0, 1, 2].map((a) => [
    py(P[a], null, -win[a]),
    py(P[a], -win[a], -sh[a]),
    py(P[a], -sh[a], null),
  ]);
  const img = new Float64Array(P[0] * P[1] * P[2]);
  let cnt = 0;
  for (const [d0, d1] of slices[0])
    for (const [h0, h1] of slices[1])
      for (const [w0, w1] of slices[2]) {
        for (let z = d0; z < d1; z++)
          for (let y = h0; y < h1; y++)
            for (let x = w0; x < w1; x++) img[(z * P[1] + y) * P[2] + x] = cnt;
        cnt++;
      }
  const ids = refPartition(img, [1, P[0], P[1], P[2], 1], win);
  const N = win[0] * win[1] * win[2];
  const nW = ids.length / N;
  const m = new Float64Array(nW * N * N);
  for (let w = 0; w < nW; w++)
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++)
        m[(w * N + i) * N + j] = ids[w * N + i] === ids[w * N + j] ? 0 : -100;
  return m;
}
