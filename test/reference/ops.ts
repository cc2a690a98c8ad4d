/**
 * Float64 plain-loop reference of the non-attention ops (MAM-SPEC.md §1, §3,
 * §4). Images/grids are [B, H, W, C] row-major; tokens [B, L, C]. Convs use
 * PyTorch conv weights [out, in, k, k] directly (a real convolution loop),
 * so the flattening rule of the tfjs side is checked, not assumed.
 */
import { layerNormRows, matmulBias, type F64 } from './math.ts';
import { windowPlan, type Layout } from './attention.ts';

const mod = (a: number, n: number): number => ((a % n) + n) % n;

/** torch.roll on the H and W axes of [B, H, W, C]: out[i, j] = x[(i − sh) mod H, (j − sw) mod W]. */
export function refRoll(
  x: F64,
  B: number,
  H: number,
  W: number,
  C: number,
  sh: number,
  sw: number,
): F64 {
  const y = new Float64Array(x.length);
  for (let b = 0; b < B; b++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let c = 0; c < C; c++)
          y[((b * H + i) * W + j) * C + c] =
            x[((b * H + mod(i - sh, H)) * W + mod(j - sw, W)) * C + c];
  return y;
}

/** [B, H, W, C] → [B·nW, w·w, C], windows row-major, batch outermost. */
export function refWindowPartition(
  x: F64,
  B: number,
  H: number,
  W: number,
  C: number,
  w: number,
): F64 {
  const y = new Float64Array(x.length);
  const nWc = W / w;
  const nW = (H / w) * nWc;
  for (let b = 0; b < B; b++)
    for (let r = 0; r < H; r++)
      for (let q = 0; q < W; q++) {
        const win = Math.floor(r / w) * nWc + Math.floor(q / w);
        const n = (r % w) * w + (q % w);
        for (let c = 0; c < C; c++)
          y[((b * nW + win) * w * w + n) * C + c] = x[((b * H + r) * W + q) * C + c];
      }
  return y;
}

/** Shift mask [nW, N, N] of MAM-SPEC.md §1 (all-zero windows when the shift is 0). */
export function refShiftMask(H: number, W: number, w: number, s: number): F64 {
  const plan = windowPlan(H, W, w, s);
  const N = plan.N;
  const out = new Float64Array(plan.windows.length * N * N);
  plan.masks.forEach((m, win) => m && out.set(m, win * N * N));
  return out;
}

/** Patch Embed as a real conv p×p stride p (+bias) on [B, H, W, Cin] with Wc [o, c, i, j], then optional LN. */
export function refPatchEmbed(
  img: F64,
  B: number,
  H: number,
  W: number,
  Cin: number,
  Wc: F64,
  bias: F64,
  Cout: number,
  p: number,
  norm?: { w: F64; b: F64 },
): F64 {
  const Ho = H / p;
  const Wo = W / p;
  const y = new Float64Array(B * Ho * Wo * Cout);
  for (let b = 0; b < B; b++)
    for (let yy = 0; yy < Ho; yy++)
      for (let xx = 0; xx < Wo; xx++)
        for (let o = 0; o < Cout; o++) {
          let acc = bias[o];
          for (let c = 0; c < Cin; c++)
            for (let i = 0; i < p; i++)
              for (let j = 0; j < p; j++)
                acc +=
                  Wc[((o * Cin + c) * p + i) * p + j] *
                  img[((b * H + yy * p + i) * W + xx * p + j) * Cin + c];
          y[((b * Ho + yy) * Wo + xx) * Cout + o] = acc;
        }
  return norm ? layerNormRows(y, B * Ho * Wo, Cout, norm.w, norm.b) : y;
}

/** Patch Merging: neighbours (0,0), (1,0), (0,1), (1,1) → 4C, LN, Linear [4C, 2C] no bias. */
export function refPatchMerging(
  x: F64,
  B: number,
  H: number,
  W: number,
  C: number,
  nw: F64,
  nb: F64,
  Wr: F64,
): F64 {
  const order = [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ];
  const L2 = (H / 2) * (W / 2);
  const cat = new Float64Array(B * L2 * 4 * C);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H / 2; h++)
      for (let q = 0; q < W / 2; q++)
        order.forEach(([dr, dc], k) => {
          for (let c = 0; c < C; c++)
            cat[((b * L2 + h * (W / 2) + q) * 4 + k) * C + c] =
              x[((b * H + 2 * h + dr) * W + 2 * q + dc) * C + c];
        });
  return matmulBias(layerNormRows(cat, B * L2, 4 * C, nw, nb), B * L2, 4 * C, Wr, 2 * C);
}

/** out[r·h + p1, r·w + p2, c] = in[h, w, (p1·r + p2)·C' + c]; in [B, H, W, r·r·C']. */
export function refPixelShuffle(
  x: F64,
  B: number,
  H: number,
  W: number,
  Cin: number,
  r: number,
): F64 {
  const c2 = Cin / (r * r);
  const y = new Float64Array(x.length);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let q = 0; q < W; q++)
        for (let p1 = 0; p1 < r; p1++)
          for (let p2 = 0; p2 < r; p2++)
            for (let c = 0; c < c2; c++)
              y[((b * r * H + r * h + p1) * r * W + r * q + p2) * c2 + c] =
                x[((b * H + h) * W + q) * Cin + (p1 * r + p2) * c2 + c];
  return y;
}

/** Patch/Final Expanding: Linear [C, r²·C/…] no bias, pixel shuffle r, LN. */
export function refExpanding(
  x: F64,
  B: number,
  H: number,
  W: number,
  C: number,
  We: F64,
  outF: number,
  r: number,
  nw: F64,
  nb: F64,
): F64 {
  const e = matmulBias(x, B * H * W, C, We, outF);
  const s = refPixelShuffle(e, B, H, W, outF, r);
  return layerNormRows(s, B * H * W * r * r, outF / (r * r), nw, nb);
}

/** Memory rows of a grid in a layout: row index of grid token (r, c). */
function memRow(r: number, c: number, W: number, w: number, layout: Layout): number {
  if (layout === 'spatial') return r * W + c;
  const win = Math.floor(r / w) * (W / w) + Math.floor(c / w);
  return win * w * w + (r % w) * w + (c % w);
}

/**
 * Memory Merging. Input m [B, H·W, C] in `layout` (window: rows of effective
 * window wIn, shift not undone); LN(C); conv 2×2 s2 with Wc [2C, C, 2, 2], or
 * avg/max pool 2×2 then 1×1 conv Wc [2C, C, 1, 1]; output in `layout` with
 * effective window wOut, no shift.
 */
export function refMemoryMerging(
  m: F64,
  B: number,
  H: number,
  W: number,
  C: number,
  mode: 'conv' | 'avg' | 'max',
  layout: Layout,
  window: number,
  windowOut: number,
  nw: F64,
  nb: F64,
  Wc: F64,
): F64 {
  const wIn = Math.min(window, H, W);
  const H2 = H / 2;
  const W2 = W / 2;
  const wOut = Math.min(windowOut, H2, W2);
  const g = new Float64Array(B * H * W * C);
  for (let b = 0; b < B; b++)
    for (let r = 0; r < H; r++)
      for (let c = 0; c < W; c++)
        for (let k = 0; k < C; k++)
          g[((b * H + r) * W + c) * C + k] = m[(b * H * W + memRow(r, c, W, wIn, layout)) * C + k];
  const gn = layerNormRows(g, B * H * W, C, nw, nb);
  const at = (b: number, r: number, c: number, k: number): number =>
    gn[((b * H + r) * W + c) * C + k];
  const out = new Float64Array(B * H2 * W2 * 2 * C);
  for (let b = 0; b < B; b++)
    for (let r = 0; r < H2; r++)
      for (let c = 0; c < W2; c++)
        for (let o = 0; o < 2 * C; o++) {
          let acc = 0;
          for (let k = 0; k < C; k++) {
            if (mode === 'conv') {
              for (let i = 0; i < 2; i++)
                for (let j = 0; j < 2; j++)
                  acc += Wc[((o * C + k) * 2 + i) * 2 + j] * at(b, 2 * r + i, 2 * c + j, k);
            } else {
              const v = [
                at(b, 2 * r, 2 * c, k),
                at(b, 2 * r + 1, 2 * c, k),
                at(b, 2 * r, 2 * c + 1, k),
                at(b, 2 * r + 1, 2 * c + 1, k),
              ];
              const pooled = mode === 'avg' ? (v[0] + v[1] + v[2] + v[3]) / 4 : Math.max(...v);
              acc += Wc[o * C + k] * pooled;
            }
          }
          out[(b * H2 * W2 + memRow(r, c, W2, wOut, layout)) * 2 * C + o] = acc;
        }
  return out;
}

/** Memory Expanding: Linear [C, 2C] no bias, pixel shuffle 2, LN(C/2); layouts as refMemoryMerging. */
export function refMemoryExpanding(
  m: F64,
  B: number,
  H: number,
  W: number,
  C: number,
  layout: Layout,
  window: number,
  windowOut: number,
  We: F64,
  nw: F64,
  nb: F64,
): F64 {
  const wIn = Math.min(window, H, W);
  const g = new Float64Array(B * H * W * C);
  for (let b = 0; b < B; b++)
    for (let r = 0; r < H; r++)
      for (let c = 0; c < W; c++)
        for (let k = 0; k < C; k++)
          g[((b * H + r) * W + c) * C + k] = m[(b * H * W + memRow(r, c, W, wIn, layout)) * C + k];
  const e = refExpanding(g, B, H, W, C, We, 2 * C, 2, nw, nb); // grid order [B, 2H, 2W, C/2]
  const H2 = 2 * H;
  const W2 = 2 * W;
  const C2 = C / 2;
  const wOut = Math.min(windowOut, H2, W2);
  const out = new Float64Array(e.length);
  for (let b = 0; b < B; b++)
    for (let r = 0; r < H2; r++)
      for (let c = 0; c < W2; c++)
        for (let k = 0; k < C2; k++)
          out[(b * H2 * W2 + memRow(r, c, W2, wOut, layout)) * C2 + k] =
            e[((b * H2 + r) * W2 + c) * C2 + k];
  return out;
}

/** Skip: concat(decoder, encoder) then Linear [2C, C] + bias. */
export function refLinearSkip(dec: F64, enc: F64, n: number, C: number, Wl: F64, bl: F64): F64 {
  const cat = new Float64Array(n * 2 * C);
  for (let r = 0; r < n; r++)
    for (let c = 0; c < C; c++) {
      cat[r * 2 * C + c] = dec[r * C + c];
      cat[r * 2 * C + C + c] = enc[r * C + c];
    }
  return matmulBias(cat, n, 2 * C, Wl, C, bl);
}

/** Segmentation head: 1×1 conv with PyTorch weight [K, C, 1, 1], no bias. */
export function refSegHead(x: F64, n: number, C: number, Wc: F64, K: number): F64 {
  const y = new Float64Array(n * K);
  for (let r = 0; r < n; r++)
    for (let o = 0; o < K; o++) {
      let acc = 0;
      for (let c = 0; c < C; c++) acc += Wc[o * C + c] * x[r * C + c];
      y[r * K + o] = acc;
    }
  return y;
}
