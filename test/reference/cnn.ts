/**
 * Float64 plain-loop reference of the CNN and dual-attention pieces of
 * DA-TransUNet, written from DA-TRANSUNET-MAM-SPEC.md §c (no tfjs). Images
 * are NHWC arrays `[B, H, W, C]`; weights are in PyTorch's layout
 * (conv `[O, I, k, k]`, Linear `[out, in]`).
 */
import type { F64 } from './math.ts';

export interface Img {
  B: number;
  H: number;
  W: number;
  C: number;
}

const at = (s: Img, b: number, y: number, x: number, c: number) =>
  ((b * s.H + y) * s.W + x) * s.C + c;

/** Conv2d with stride, symmetric zero padding and optional bias; W `[O, C, k, k]`. */
export function refConv(
  x: F64,
  s: Img,
  w: F64,
  O: number,
  k: number,
  stride: number,
  pad: number,
  bias?: F64,
): { y: F64; shape: Img } {
  const Ho = Math.floor((s.H + 2 * pad - k) / stride) + 1;
  const Wo = Math.floor((s.W + 2 * pad - k) / stride) + 1;
  const os: Img = { B: s.B, H: Ho, W: Wo, C: O };
  const y = new Float64Array(s.B * Ho * Wo * O);
  for (let b = 0; b < s.B; b++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let o = 0; o < O; o++) {
          let acc = bias ? bias[o] : 0;
          for (let i = 0; i < k; i++) {
            const iy = oy * stride + i - pad;
            if (iy < 0 || iy >= s.H) continue;
            for (let j = 0; j < k; j++) {
              const ix = ox * stride + j - pad;
              if (ix < 0 || ix >= s.W) continue;
              for (let c = 0; c < s.C; c++)
                acc += w[((o * s.C + c) * k + i) * k + j] * x[at(s, b, iy, ix, c)];
            }
          }
          y[at(os, b, oy, ox, o)] = acc;
        }
  return { y, shape: os };
}

/** StdConv2d's standardised weight (§c.1): per filter o, (W − μ)/√(σ² + eps), biased σ². */
export function refStandardize(w: F64, O: number, eps = 1e-5): F64 {
  const n = w.length / O;
  const out = new Float64Array(w.length);
  for (let o = 0; o < O; o++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += w[o * n + i];
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (w[o * n + i] - m) ** 2;
    v /= n;
    for (let i = 0; i < n; i++) out[o * n + i] = (w[o * n + i] - m) / Math.sqrt(v + eps);
  }
  return out;
}

export function refGroupNorm(x: F64, s: Img, G: number, g: F64, beta: F64, eps: number): F64 {
  const y = new Float64Array(x.length);
  const cg = s.C / G;
  for (let b = 0; b < s.B; b++)
    for (let grp = 0; grp < G; grp++) {
      let m = 0;
      let n = 0;
      for (let p = 0; p < s.H * s.W; p++)
        for (let c = grp * cg; c < (grp + 1) * cg; c++, n++) m += x[(b * s.H * s.W + p) * s.C + c];
      m /= n;
      let v = 0;
      for (let p = 0; p < s.H * s.W; p++)
        for (let c = grp * cg; c < (grp + 1) * cg; c++)
          v += (x[(b * s.H * s.W + p) * s.C + c] - m) ** 2;
      v /= n;
      for (let p = 0; p < s.H * s.W; p++)
        for (let c = grp * cg; c < (grp + 1) * cg; c++) {
          const i = (b * s.H * s.W + p) * s.C + c;
          y[i] = ((x[i] - m) / Math.sqrt(v + eps)) * g[c] + beta[c];
        }
    }
  return y;
}

/** Per-channel batch mean and biased variance over (B, H, W). */
export function refBatchMoments(x: F64, C: number): { mean: F64; variance: F64 } {
  const n = x.length / C;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let i = 0; i < x.length; i++) mean[i % C] += x[i] / n;
  for (let i = 0; i < x.length; i++) variance[i % C] += (x[i] - mean[i % C]) ** 2 / n;
  return { mean, variance };
}

/** (x − mean)/√(var + eps)·g + beta, per channel (BN with given statistics). */
export function refNormalizeChannels(
  x: F64,
  C: number,
  mean: F64,
  variance: F64,
  g: F64,
  beta: F64,
  eps: number,
): F64 {
  return x.map(
    (v, i) => ((v - mean[i % C]) / Math.sqrt(variance[i % C] + eps)) * g[i % C] + beta[i % C],
  );
}

export const refRelu = (x: F64): F64 => x.map((v) => Math.max(v, 0));

export function refMaxPool(
  x: F64,
  s: Img,
  k: number,
  stride: number,
  pad: number,
): { y: F64; shape: Img } {
  const Ho = Math.floor((s.H + 2 * pad - k) / stride) + 1;
  const Wo = Math.floor((s.W + 2 * pad - k) / stride) + 1;
  const os: Img = { ...s, H: Ho, W: Wo };
  const y = new Float64Array(s.B * Ho * Wo * s.C).fill(-Infinity);
  for (let b = 0; b < s.B; b++)
    for (let oy = 0; oy < Ho; oy++)
      for (let ox = 0; ox < Wo; ox++)
        for (let c = 0; c < s.C; c++)
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) {
              const iy = oy * stride + i - pad;
              const ix = ox * stride + j - pad;
              if (iy < 0 || iy >= s.H || ix < 0 || ix >= s.W) continue;
              const o = at(os, b, oy, ox, c);
              y[o] = Math.max(y[o], x[at(s, b, iy, ix, c)]);
            }
  return { y, shape: os };
}

/** Bilinear ×scale with align_corners = true: src = dst·(n−1)/(out−1) per axis. */
export function refUpsample(x: F64, s: Img, scale: number): { y: F64; shape: Img } {
  const os: Img = { ...s, H: s.H * scale, W: s.W * scale };
  const coord = (d: number, n: number, out: number) => {
    const src = out === 1 ? 0 : (d * (n - 1)) / (out - 1);
    const i0 = Math.min(Math.floor(src), n - 1);
    return { i0, i1: Math.min(i0 + 1, n - 1), f: src - i0 };
  };
  const y = new Float64Array(s.B * os.H * os.W * s.C);
  for (let b = 0; b < s.B; b++)
    for (let oy = 0; oy < os.H; oy++) {
      const r = coord(oy, s.H, os.H);
      for (let ox = 0; ox < os.W; ox++) {
        const q = coord(ox, s.W, os.W);
        for (let c = 0; c < s.C; c++)
          y[at(os, b, oy, ox, c)] =
            (1 - r.f) *
              ((1 - q.f) * x[at(s, b, r.i0, q.i0, c)] + q.f * x[at(s, b, r.i0, q.i1, c)]) +
            r.f * ((1 - q.f) * x[at(s, b, r.i1, q.i0, c)] + q.f * x[at(s, b, r.i1, q.i1, c)]);
      }
    }
  return { y, shape: os };
}

/** 1×1 conv with bias as per-position Linear: F (N×C per sample) → N×O; W `[O, C]`. */
function pointwise(x: F64, B: number, N: number, C: number, w: F64, O: number, bias: F64): F64 {
  const y = new Float64Array(B * N * O);
  for (let r = 0; r < B * N; r++)
    for (let o = 0; o < O; o++) {
      let acc = bias[o];
      for (let c = 0; c < C; c++) acc += w[o * C + c] * x[r * C + c];
      y[r * O + o] = acc;
    }
  return y;
}

function softmaxRows(e: F64, rows: number, n: number): F64 {
  const a = new Float64Array(e.length);
  for (let r = 0; r < rows; r++) {
    let m = -Infinity;
    for (let j = 0; j < n; j++) m = Math.max(m, e[r * n + j]);
    let z = 0;
    for (let j = 0; j < n; j++) z += a[r * n + j] = Math.exp(e[r * n + j] - m);
    for (let j = 0; j < n; j++) a[r * n + j] /= z;
  }
  return a;
}

export interface RefPam {
  wq: F64;
  bq: F64;
  wk: F64;
  bk: F64;
  wv: F64;
  bv: F64;
  gamma: number;
}

/** PAM (§c.3): E[i,j] = Σ_k Q[k,i]K[k,j], A = softmax_j E, O[ch,i] = Σ_j V[ch,j]A[i,j], γO + F. */
export function refPam(x: F64, s: Img, p: RefPam): F64 {
  const N = s.H * s.W;
  const d = p.bq.length;
  const q = pointwise(x, s.B, N, s.C, p.wq, d, p.bq);
  const k = pointwise(x, s.B, N, s.C, p.wk, d, p.bk);
  const v = pointwise(x, s.B, N, s.C, p.wv, s.C, p.bv);
  const y = new Float64Array(x.length);
  for (let b = 0; b < s.B; b++) {
    const e = new Float64Array(N * N);
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++) {
        let acc = 0;
        for (let c = 0; c < d; c++) acc += q[(b * N + i) * d + c] * k[(b * N + j) * d + c];
        e[i * N + j] = acc;
      }
    const a = softmaxRows(e, N, N);
    for (let i = 0; i < N; i++)
      for (let ch = 0; ch < s.C; ch++) {
        let o = 0;
        for (let j = 0; j < N; j++) o += v[(b * N + j) * s.C + ch] * a[i * N + j];
        const idx = (b * N + i) * s.C + ch;
        y[idx] = p.gamma * o + x[idx];
      }
  }
  return y;
}

/** CAM (§c.3): E = X·Xᵀ, A = softmax_b(max_b′ E − E), γ·(A·X) + F. */
export function refCam(x: F64, s: Img, gamma: number): F64 {
  const N = s.H * s.W;
  const C = s.C;
  const y = new Float64Array(x.length);
  for (let b = 0; b < s.B; b++) {
    const e = new Float64Array(C * C);
    for (let a1 = 0; a1 < C; a1++)
      for (let a2 = 0; a2 < C; a2++) {
        let acc = 0;
        for (let n = 0; n < N; n++) acc += x[(b * N + n) * C + a1] * x[(b * N + n) * C + a2];
        e[a1 * C + a2] = acc;
      }
    for (let r = 0; r < C; r++) {
      let m = -Infinity;
      for (let j = 0; j < C; j++) m = Math.max(m, e[r * C + j]);
      for (let j = 0; j < C; j++) e[r * C + j] = m - e[r * C + j];
    }
    const a = softmaxRows(e, C, C);
    for (let n = 0; n < N; n++)
      for (let ch = 0; ch < C; ch++) {
        let o = 0;
        for (let j = 0; j < C; j++) o += a[ch * C + j] * x[(b * N + n) * C + j];
        const idx = (b * N + n) * C + ch;
        y[idx] = gamma * o + x[idx];
      }
  }
  return y;
}
