// LayerNorm's two passes a row in WebAssembly SIMD (f32x4), on the wasm
// backend's own memory: a small module, assembled byte by byte (wasm-simd-asm.ts), imports
// that memory, so it reads and writes the tensors where they lie. JavaScript
// loops over the same data run ~1 ns an element a pass here, these ~0.2.
//
// Sums are shifted by the row's first value K (x − K is exact for values
// within a factor 2 of K; the sums of these small numbers lose no digits to
// the row's offset from 0), and x − mean is formed as (x − K) − shift, never
// through a rounded mean. Sums are float32, four lanes (as the products
// XNNPACK runs for the composite path).
//
// Rows of C floats, C a multiple of 4; pointers are byte offsets in memory.
//   forward(x, γ, β, y, M, C, eps)
//   backward(dy, x, γ, dx, dγ, dβ, M, C, eps)   dγ and dβ accumulate: zero them first
//   sumRows(x, out, M, C)                       the rows' sum (gradients of biases), out zeroed first

import {
  at,
  F32,
  f32c,
  fadd,
  fdiv,
  fload,
  fmax,
  fmul,
  forBytes,
  forRows,
  fsqrt,
  fsub,
  get,
  hsum,
  I32,
  i32c,
  instantiateSimd,
  set,
  simdModuleBytes,
  splat,
  u32ToF32,
  V128,
  vadd,
  vload,
  vmul,
  vstore,
  vsub,
  type SimdFunction,
} from './wasm-simd-asm.ts';

/** rowBytes = 4·C, Cf = C as f32, then `row` for each row (see forRows). */
const eachRow = (
  C: number,
  rowBytes: number,
  Cf: number,
  r: number,
  M: number,
  o: number,
  row: number[],
) => [
  ...get(C),
  ...i32c(2),
  0x74, // i32.shl
  ...set(rowBytes),
  ...get(C),
  u32ToF32,
  ...set(Cf),
  ...forRows(r, M, o, rowBytes, row),
];

/** K = the row's first value (x at byte offset o), Kv its splat, and the vectors `zeroed` set to 0. */
const rowStart = (x: number, o: number, K: number, Kv: number, zeroed: number[]) => [
  ...at(x, o),
  ...fload,
  ...set(K),
  ...get(K),
  ...splat,
  ...set(Kv),
  ...zeroed.flatMap((l) => [...f32c(0), ...splat, ...set(l)]),
];

/** sum = the lanes of v summed, mean = sum / C. */
const laneMean = (v: number, sum: number, mean: number, Cf: number) => [
  ...hsum(v),
  ...set(sum),
  ...get(sum),
  ...get(Cf),
  fdiv,
  ...set(mean),
];

/**
 * From the lane sums sv = Σ(x − K) and qv = Σ(x − K)²: s, shift = s/C (the
 * mean − K) and rs = 1/√(max(0, (q − s·shift)/C) + eps).
 */
const moments = (
  sv: number,
  qv: number,
  s: number,
  shift: number,
  rs: number,
  Cf: number,
  eps: number,
) => [
  ...laneMean(sv, s, shift, Cf),
  ...f32c(1),
  ...hsum(qv),
  ...get(s),
  ...get(shift),
  fmul,
  fsub,
  ...get(Cf),
  fdiv,
  ...f32c(0),
  fmax,
  ...get(eps),
  fadd,
  fsqrt,
  fdiv,
  ...set(rs),
];

/** local += value (v128). */
const accumulate = (local: number, value: number[]) => [
  ...get(local),
  ...value,
  ...vadd,
  ...set(local),
];

/** v = x − K for four values; sv += v, qv += v². */
const shiftedSums = (
  x: number,
  o: number,
  c: number,
  Kv: number,
  v: number,
  sv: number,
  qv: number,
) => [
  ...at(x, o, c),
  ...vload,
  ...get(Kv),
  ...vsub,
  ...set(v),
  ...accumulate(sv, get(v)),
  ...accumulate(qv, [...get(v), ...get(v), ...vmul]),
];

/** memory[base + c] += value (four floats). */
const addTo = (base: number, c: number, value: number[]) => [
  ...at(base, c),
  ...at(base, c),
  ...vload,
  ...value,
  ...vadd,
  ...vstore,
];

/** x̂ of four values, ((x − K) − shift)·rs, on the stack. */
const normalised = (x: number, o: number, c: number, Kv: number, shiftv: number, rsv: number) => [
  ...at(x, o, c),
  ...vload,
  ...get(Kv),
  ...vsub,
  ...get(shiftv),
  ...vsub,
  ...get(rsv),
  ...vmul,
];

function forwardBody(): { locals: number[]; body: number[] } {
  // params: 0 x, 1 g, 2 b, 3 y, 4 M, 5 C, 6 eps
  const [x, g, b, y, M, C, eps] = [0, 1, 2, 3, 4, 5, 6];
  // locals: i32 r, o, c, rowBytes; f32 Cf, K, s, shift, rs; v128 Kv, sv, qv, v, shiftv, rsv
  const [r, o, c, rowBytes] = [7, 8, 9, 10];
  const [Cf, K, s, shift, rs] = [11, 12, 13, 14, 15];
  const [Kv, sv, qv, v, shiftv, rsv] = [16, 17, 18, 19, 20, 21];
  const locals = [
    ...[r, o, c, rowBytes].map(() => I32),
    ...[Cf, K, s, shift, rs].map(() => F32),
    ...[Kv, sv, qv, v, shiftv, rsv].map(() => V128),
  ];
  const row = [
    ...rowStart(x, o, K, Kv, [sv, qv]),
    ...forBytes(c, rowBytes, shiftedSums(x, o, c, Kv, v, sv, qv)),
    ...moments(sv, qv, s, shift, rs, Cf, eps),
    ...get(shift),
    ...splat,
    ...set(shiftv),
    ...get(rs),
    ...splat,
    ...set(rsv),
    ...forBytes(c, rowBytes, [
      ...at(y, o, c),
      ...normalised(x, o, c, Kv, shiftv, rsv),
      ...at(g, c),
      ...vload,
      ...vmul,
      ...at(b, c),
      ...vload,
      ...vadd,
      ...vstore,
    ]),
  ];
  const body = eachRow(C, rowBytes, Cf, r, M, o, row);
  return { locals, body };
}

function backwardBody(): { locals: number[]; body: number[] } {
  // params: 0 dy, 1 x, 2 g, 3 dx, 4 dg, 5 db, 6 M, 7 C, 8 eps
  const [dy, x, g, dx, dg, db, M, C, eps] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const [r, o, c, rowBytes] = [9, 10, 11, 12];
  const [Cf, K, s, shift, rs, sumG, meanG, meanGx] = [13, 14, 15, 16, 17, 18, 19, 20];
  const [Kv, sv, qv, gv, gdv, v, d, gc, xh, shiftv, rsv, meanGv, meanGxv] = [
    21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33,
  ];
  const locals = [
    ...[r, o, c, rowBytes].map(() => I32),
    ...[Cf, K, s, shift, rs, sumG, meanG, meanGx].map(() => F32),
    ...[Kv, sv, qv, gv, gdv, v, d, gc, xh, shiftv, rsv, meanGv, meanGxv].map(() => V128),
  ];
  const row = [
    ...rowStart(x, o, K, Kv, [sv, qv, gv, gdv]),
    // v = x − K, d = dy, gc = d·γ: s += v, q += v², Σg += gc, Σg·v += gc·v, dβ += d
    ...forBytes(c, rowBytes, [
      ...shiftedSums(x, o, c, Kv, v, sv, qv),
      ...at(dy, o, c),
      ...vload,
      ...set(d),
      ...get(d),
      ...at(g, c),
      ...vload,
      ...vmul,
      ...set(gc),
      ...accumulate(gv, get(gc)),
      ...accumulate(gdv, [...get(gc), ...get(v), ...vmul]),
      ...addTo(db, c, get(d)),
    ]),
    ...moments(sv, qv, s, shift, rs, Cf, eps),
    ...laneMean(gv, sumG, meanG, Cf),
    // mean(g·x̂) = rs·(Σg·(x − K) − shift·Σg)/C
    ...get(rs),
    ...hsum(gdv),
    ...get(shift),
    ...get(sumG),
    fmul,
    fsub,
    fmul,
    ...get(Cf),
    fdiv,
    ...set(meanGx),
    ...[
      [shift, shiftv],
      [rs, rsv],
      [meanG, meanGv],
      [meanGx, meanGxv],
    ].flatMap(([f, vv]) => [...get(f), ...splat, ...set(vv)]),
    // x̂ = ((x − K) − shift)·rs; dγ += d·x̂; dx = (d·γ − mean(g) − x̂·mean(g·x̂))·rs
    ...forBytes(c, rowBytes, [
      ...normalised(x, o, c, Kv, shiftv, rsv),
      ...set(xh),
      ...at(dy, o, c),
      ...vload,
      ...set(d),
      ...addTo(dg, c, [...get(d), ...get(xh), ...vmul]),
      ...at(dx, o, c),
      ...get(d),
      ...at(g, c),
      ...vload,
      ...vmul,
      ...get(meanGv),
      ...vsub,
      ...get(xh),
      ...get(meanGxv),
      ...vmul,
      ...vsub,
      ...get(rsv),
      ...vmul,
      ...vstore,
    ]),
  ];
  const body = eachRow(C, rowBytes, Cf, r, M, o, row);
  return { locals, body };
}

/** out[c] = Σ_r x[r, c] for x `[M, n]` (out zeroed first). */
function sumRowsBody(): { locals: number[]; body: number[] } {
  // params: 0 x, 1 out, 2 M, 3 n; locals: r, o, c, rowBytes
  const [x, out, M, n, r, o, c, rowBytes] = [0, 1, 2, 3, 4, 5, 6, 7];
  const body = [
    ...get(n),
    ...i32c(2),
    0x74, // i32.shl
    ...set(rowBytes),
    ...forRows(r, M, o, rowBytes, forBytes(c, rowBytes, addTo(out, c, [...at(x, o, c), ...vload]))),
  ];
  return { locals: [I32, I32, I32, I32], body };
}

export interface LayerNormSimd {
  forward(x: number, g: number, b: number, y: number, M: number, C: number, eps: number): void;
  backward(
    dy: number,
    x: number,
    g: number,
    dx: number,
    dg: number,
    db: number,
    M: number,
    C: number,
    eps: number,
  ): void;
  /** out[c] = Σ_r x[r, c], x `[M, n]`: out accumulates, zero it first */
  sumRows(x: number, out: number, M: number, n: number): void;
}

const functions: SimdFunction[] = [
  { name: 'forward', params: [I32, I32, I32, I32, I32, I32, F32], ...forwardBody() },
  { name: 'backward', params: [I32, I32, I32, I32, I32, I32, I32, I32, F32], ...backwardBody() },
  { name: 'sumRows', params: [I32, I32, I32, I32], ...sumRowsBody() },
];

/** The module's bytes importing a shared memory: what the helper threads of wasm-threads.ts instantiate. */
export const sharedLayerNormModuleBytes = (): Uint8Array<ArrayBuffer> =>
  simdModuleBytes(true, functions);

/** The SIMD LayerNorm on `memory`, or null where WebAssembly SIMD is not there. */
export function layerNormSimd(memory: WebAssembly.Memory): LayerNormSimd | null {
  return instantiateSimd<LayerNormSimd>(memory, functions);
}
