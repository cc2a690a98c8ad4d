// The optimizer updates (AdamW and SGD, PyTorch semantics: src/train/optim.ts)
// as one pass of WebAssembly SIMD (f32x4) over a weight, its gradient and its
// slots, on the wasm backend's memory; assembled by wasm-simd-asm.ts. Each
// element sees the float32 operations of the composite update in the same
// order (IEEE +, −, ×, ÷ and √ on f32x4: no fused multiply-add), so the result
// is the composite's to the bit. The scalars come in as f32 parameters (the
// float32 rounding a scalar tensor gets) and are splatted once.
//
// n floats, n a multiple of 4 and > 0; pointers are byte offsets in memory.
//   adamw(w, g, m, v, wOut, mOut, vOut, n, decay, beta1, 1−beta1, beta2, 1−beta2, √bc2, eps, lr/bc1)
//     m' = m·β1 + g·(1−β1); v' = v·β2 + (g·g)·(1−β2)
//     w' = w·decay − (m' / (√v' / √bc2 + eps))·(lr/bc1)
//   sgd(w, g, buf, wOut, bufOut, n, weightDecay, momentum, lr)
//     buf' = buf·momentum + (g + w·weightDecay); w' = w − buf'·lr

import {
  at,
  F32,
  forBytes,
  get,
  I32,
  i32c,
  instantiateSimd,
  set,
  simd,
  simdModuleBytes,
  splat,
  V128,
  vadd,
  vdiv,
  vload,
  vmul,
  vstore,
  vsub,
  type SimdFunction,
} from './wasm-simd-asm.ts';

const vsqrt = simd(0xe3);

/**
 * A loop over n floats (param after the pointers) of `pointers` byte offsets
 * and `scalars` f32 parameters, splatted into locals before the loop; `body`
 * gets the loop's byte offset local, the splats' and the scratch locals.
 */
function elementwise(
  fnName: string,
  pointers: number,
  scalars: number,
  scratch: number,
  body: (c: number, s: number[], x: number[]) => number[],
): SimdFunction {
  const n = pointers;
  const firstLocal = pointers + 1 + scalars;
  const [c, bytes] = [firstLocal, firstLocal + 1];
  const s = Array.from({ length: scalars }, (_, i) => firstLocal + 2 + i);
  const x = Array.from({ length: scratch }, (_, i) => firstLocal + 2 + scalars + i);
  return {
    name: fnName,
    params: [...Array.from({ length: pointers + 1 }, () => I32), ...s.map(() => F32)],
    locals: [I32, I32, ...s.map(() => V128), ...x.map(() => V128)],
    body: [
      ...s.flatMap((l, i) => [...get(n + 1 + i), ...splat, ...set(l)]),
      ...get(n),
      ...i32c(2),
      0x74, // i32.shl
      ...set(bytes),
      ...forBytes(c, bytes, body(c, s, x)),
    ],
  };
}

const functions: SimdFunction[] = [
  elementwise('adamw', 7, 8, 3, (c, s, x) => {
    const [w, g, m, v, wo, mo, vo] = [0, 1, 2, 3, 4, 5, 6];
    const [decay, b1, c1, b2, c2, sbc2, eps, step] = s;
    const [gv, mv, vv] = x;
    return [
      ...at(g, c),
      ...vload,
      ...set(gv),
      // m' = m·β1 + g·(1−β1)
      ...at(m, c),
      ...vload,
      ...get(b1),
      ...vmul,
      ...get(gv),
      ...get(c1),
      ...vmul,
      ...vadd,
      ...set(mv),
      ...at(mo, c),
      ...get(mv),
      ...vstore,
      // v' = v·β2 + (g·g)·(1−β2)
      ...at(v, c),
      ...vload,
      ...get(b2),
      ...vmul,
      ...get(gv),
      ...get(gv),
      ...vmul,
      ...get(c2),
      ...vmul,
      ...vadd,
      ...set(vv),
      ...at(vo, c),
      ...get(vv),
      ...vstore,
      // w' = w·decay − (m' / (√v' / √bc2 + eps))·step
      ...at(wo, c),
      ...at(w, c),
      ...vload,
      ...get(decay),
      ...vmul,
      ...get(mv),
      ...get(vv),
      ...vsqrt,
      ...get(sbc2),
      ...vdiv,
      ...get(eps),
      ...vadd,
      ...vdiv,
      ...get(step),
      ...vmul,
      ...vsub,
      ...vstore,
    ];
  }),
  elementwise('sgd', 5, 3, 2, (c, s, x) => {
    const [w, g, buf, wo, bo] = [0, 1, 2, 3, 4];
    const [wd, momentum, lr] = s;
    const [wv, bv] = x;
    return [
      ...at(w, c),
      ...vload,
      ...set(wv),
      // buf' = buf·momentum + (g + w·wd)
      ...at(buf, c),
      ...vload,
      ...get(momentum),
      ...vmul,
      ...at(g, c),
      ...vload,
      ...get(wv),
      ...get(wd),
      ...vmul,
      ...vadd,
      ...vadd,
      ...set(bv),
      ...at(bo, c),
      ...get(bv),
      ...vstore,
      // w' = w − buf'·lr
      ...at(wo, c),
      ...get(wv),
      ...get(bv),
      ...get(lr),
      ...vmul,
      ...vsub,
      ...vstore,
    ];
  }),
];

export interface OptimizerSimd {
  adamw(
    w: number,
    g: number,
    m: number,
    v: number,
    wOut: number,
    mOut: number,
    vOut: number,
    n: number,
    ...scalars: AdamWScalars
  ): void;
  sgd(
    w: number,
    g: number,
    buf: number,
    wOut: number,
    bufOut: number,
    n: number,
    ...scalars: SgdScalars
  ): void;
}

/** decay (1 − lr·wd), β1, 1 − β1, β2, 1 − β2, √(1 − β2ᵗ), eps, lr/(1 − β1ᵗ). */
export type AdamWScalars = [number, number, number, number, number, number, number, number];
/** weight decay, momentum, lr. */
export type SgdScalars = [number, number, number];

/** The module's bytes importing a shared memory: what the helper threads of wasm-threads.ts instantiate. */
export const sharedOptimizerModuleBytes = (): Uint8Array<ArrayBuffer> =>
  simdModuleBytes(true, functions);

/** The SIMD updates on `memory`, or null where WebAssembly SIMD is not there. */
export function optimizerSimd(memory: WebAssembly.Memory): OptimizerSimd | null {
  return instantiateSimd<OptimizerSimd>(memory, functions);
}

const f = Math.fround;

/**
 * The AdamW update of elements [from, to) in float32 arithmetic (each float64
 * result of +, −, ×, ÷, √ on float32 values rounded back: exactly the float32
 * operation), the same operations as the SIMD loop: for lengths that are not
 * a multiple of 4 (the tail) and where SIMD is not there. Slots are at `o + j`.
 */
export function adamwScalar(
  a: Record<'w' | 'g' | 'wo' | 'm' | 'v' | 'mo' | 'vo', Float32Array>,
  o: number,
  from: number,
  to: number,
  scalars: AdamWScalars,
): void {
  const [decay, b1, c1, b2, c2, sbc2, eps, step] = scalars.map(f);
  for (let j = from; j < to; j++) {
    const g = a.g[j];
    const m = f(f(a.m[o + j] * b1) + f(g * c1));
    const v = f(f(a.v[o + j] * b2) + f(f(g * g) * c2));
    const denom = f(f(f(Math.sqrt(v)) / sbc2) + eps);
    a.mo[o + j] = m;
    a.vo[o + j] = v;
    a.wo[j] = f(a.w[j] * decay) - f(f(m / denom) * step);
  }
}

/** The SGD update of elements [from, to) in float32 arithmetic (see adamwScalar). */
export function sgdScalar(
  a: Record<'w' | 'g' | 'wo' | 'buf' | 'bufo', Float32Array>,
  o: number,
  from: number,
  to: number,
  scalars: SgdScalars,
): void {
  const [wd, momentum, lr] = scalars.map(f);
  for (let j = from; j < to; j++) {
    const w = a.w[j];
    const b = f(f(a.buf[o + j] * momentum) + f(a.g[j] + f(w * wd)));
    a.bufo[o + j] = b;
    a.wo[j] = w - f(b * lr);
  }
}
