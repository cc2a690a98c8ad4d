// Exact GELU, x·Φ(x), and its gradient Φ(x) + x·φ(x), in WebAssembly SIMD
// (f32x4) on the wasm backend's memory, one pass each way; assembled by
// wasm-simd-asm.ts. Φ(x) = ½(1 + erf(x/√2)) comes from Abramowitz–Stegun
// 7.1.26 (|error| ≤ 1.5e-7 in erf): for z = |x|/√2 and t = 1/(1 + p·z),
// ½·erfc(z) = ½·t·(a1 + a2·t + … + a5·t⁴)·e^(−z²) = Φ(−|x|), and
// e^(−z²) = e^(−x²/2) is the same exponential as φ(x)·√(2π): one e^y an
// element serves both. e^y (y ≤ 0, clamped at −87, where it is 1.6e-38) by
// range reduction: y = k·ln 2 + r with k = round(y/ln 2), |r| ≤ ln 2 / 2
// (ln 2 split in two constants: r exact), 2^k built in the exponent bits,
// e^r by its Taylor series to r⁷/7! (next term ≤ 5e-9 of it).
//
// n floats, n a multiple of 4; pointers are byte offsets in memory.
//   forward(x, y, n)        y = x·Φ(x)
//   backward(dy, x, dx, n)  dx = dy·(Φ(x) + x·φ(x))

import {
  bitselect,
  forBytes,
  get,
  horner,
  I32,
  i32c,
  iadd,
  instantiateSimd,
  ishl,
  at,
  set,
  simdModuleBytes,
  truncSat,
  V128,
  vabs,
  vadd,
  vconstF,
  vconstI,
  vdiv,
  vload,
  vlt,
  vmax,
  vmul,
  vnearest,
  vstore,
  vsub,
  type SimdFunction,
} from './wasm-simd-asm.ts';

/** Abramowitz–Stegun 7.1.26: p and a1 … a5. */
export const ERF_P = 0.3275911;
export const ERF_A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429];
/** e^y below this is taken as e^this (float32's smallest normal is e^−87.3). */
export const EXP_FLOOR = -87;
const LN2_HI = 0.693359375; // 355/512: k·LN2_HI is exact for |k| < 2^15
const LN2_LO = -2.1219444e-4; // ln 2 − LN2_HI
const PDF_SCALE = 1 / Math.sqrt(2 * Math.PI);
const TAYLOR = [1 / 5040, 1 / 720, 1 / 120, 1 / 24, 1 / 6, 1 / 2, 1, 1];

/**
 * From x in local `xv`: e = e^(−x²/2) and phi = Φ(x) into their locals
 * (t, yv, k, r, h scratch).
 */
function cdfAndExp(l: Record<'xv' | 't' | 'yv' | 'k' | 'r' | 'e' | 'h' | 'phi', number>) {
  return [
    // t = 1/(1 + |x|·p/√2)
    ...vconstF(1),
    ...vconstF(1),
    ...get(l.xv),
    ...vabs,
    ...vconstF(ERF_P * Math.SQRT1_2),
    ...vmul,
    ...vadd,
    ...vdiv,
    ...set(l.t),
    // y = max(−x²/2, floor); k = round(y/ln 2); r = y − k·ln 2
    ...get(l.xv),
    ...get(l.xv),
    ...vmul,
    ...vconstF(-0.5),
    ...vmul,
    ...vconstF(EXP_FLOOR),
    ...vmax,
    ...set(l.yv),
    ...get(l.yv),
    ...vconstF(Math.LOG2E),
    ...vmul,
    ...vnearest,
    ...set(l.k),
    ...get(l.yv),
    ...get(l.k),
    ...vconstF(LN2_HI),
    ...vmul,
    ...vsub,
    ...get(l.k),
    ...vconstF(LN2_LO),
    ...vmul,
    ...vsub,
    ...set(l.r),
    // e = e^r · 2^k, 2^k = the float of exponent bits k + 127
    ...horner(l.r, TAYLOR),
    ...get(l.k),
    ...truncSat,
    ...vconstI(127),
    ...iadd,
    ...i32c(23),
    ...ishl,
    ...vmul,
    ...set(l.e),
    // h = ½·t·(a1 + a2·t + …)·e = Φ(−|x|)
    ...horner(l.t, [...ERF_A].reverse()),
    ...get(l.t),
    ...vmul,
    ...get(l.e),
    ...vmul,
    ...vconstF(0.5),
    ...vmul,
    ...set(l.h),
    // Φ = x < 0 ? h : 1 − h
    ...get(l.h),
    ...vconstF(1),
    ...get(l.h),
    ...vsub,
    ...get(l.xv),
    ...vconstF(0),
    ...vlt,
    ...bitselect,
    ...set(l.phi),
  ];
}

const SCRATCH = ['xv', 't', 'yv', 'k', 'r', 'e', 'h', 'phi'] as const;

/** The elementwise loop over n floats: params `params` (pointers, then n), x at params[xAt]. */
function elementwise(
  name: string,
  pointers: number,
  xAt: number,
  store: (l: Record<(typeof SCRATCH)[number] | 'c', number>, p: number[]) => number[],
): SimdFunction {
  const p = Array.from({ length: pointers }, (_, i) => i);
  const n = pointers;
  const [c, bytes] = [n + 1, n + 2];
  const l = { c, ...Object.fromEntries(SCRATCH.map((s, i) => [s, n + 3 + i])) } as Record<
    (typeof SCRATCH)[number] | 'c',
    number
  >;
  return {
    name,
    params: [...p.map(() => I32), I32],
    locals: [I32, I32, ...SCRATCH.map(() => V128)],
    body: [
      ...get(n),
      ...i32c(2),
      0x74, // i32.shl
      ...set(bytes),
      ...forBytes(c, bytes, [
        ...at(p[xAt], c),
        ...vload,
        ...set(l.xv),
        ...cdfAndExp(l),
        ...store(l, p),
      ]),
    ],
  };
}

const functions: SimdFunction[] = [
  // forward(x, y, n): y = x·Φ
  elementwise('forward', 2, 0, (l, [, y]) => [
    ...at(y, l.c),
    ...get(l.xv),
    ...get(l.phi),
    ...vmul,
    ...vstore,
  ]),
  // backward(dy, x, dx, n): dx = dy·(Φ + x·e/√(2π))
  elementwise('backward', 3, 1, (l, [dy, , dx]) => [
    ...at(dx, l.c),
    ...at(dy, l.c),
    ...vload,
    ...get(l.phi),
    ...get(l.xv),
    ...get(l.e),
    ...vmul,
    ...vconstF(PDF_SCALE),
    ...vmul,
    ...vadd,
    ...vmul,
    ...vstore,
  ]),
];

export interface GeluSimd {
  forward(x: number, y: number, n: number): void;
  backward(dy: number, x: number, dx: number, n: number): void;
}

/** The module's bytes importing a shared memory: what the helper threads of wasm-threads.ts instantiate. */
export const sharedGeluModuleBytes = (): Uint8Array<ArrayBuffer> =>
  simdModuleBytes(true, functions);

/** The SIMD GELU on `memory`, or null where WebAssembly SIMD is not there. */
export function geluSimd(memory: WebAssembly.Memory): GeluSimd | null {
  return instantiateSimd<GeluSimd>(memory, functions);
}

/** Φ(x) by the same formula in float64 (the JavaScript path, n not a multiple of 4). */
export function geluCdf(x: number): number {
  const t = 1 / (1 + Math.abs(x) * ERF_P * Math.SQRT1_2);
  const e = Math.exp(-0.5 * x * x);
  const h = 0.5 * t * ERF_A.reduceRight((acc, a) => acc * t + a, 0) * e;
  return x < 0 ? h : 1 - h;
}

/** GELU'(x) = Φ(x) + x·φ(x) by the same formulas in float64. */
export const geluDerivative = (x: number): number =>
  geluCdf(x) + x * Math.exp(-0.5 * x * x) * PDF_SCALE;
