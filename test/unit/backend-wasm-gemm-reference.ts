// Matrix products for the tests of our wasm kernel (backend-wasm-gemm*.test.ts):
// random operands stored as tfjs gets them, and C as float32 arithmetic gives
// it summing in k order from the bias (what the kernel promises, bit for bit).
import * as tf from '#tfjs';
import { Rng, type F64 } from '../reference/math.ts';

export interface Product {
  M: number;
  N: number;
  K: number;
  ta: boolean;
  tb: boolean;
  /** stored as tfjs gets it: [K, M] when ta, [N, K] when tb */
  a: F64;
  b: F64;
  bias?: F64;
}

export const A = (p: Product, i: number, k: number) => (p.ta ? p.a[k * p.M + i] : p.a[i * p.K + k]);
export const B = (p: Product, k: number, j: number) => (p.tb ? p.b[j * p.K + k] : p.b[k * p.N + j]);

/** C as float32 arithmetic gives it summing in k order from the bias: each product and sum rounded. */
export function float32InOrder(p: Product): F64 {
  const c = new Float64Array(p.M * p.N);
  for (let i = 0; i < p.M; i++)
    for (let j = 0; j < p.N; j++) {
      let s = p.bias ? p.bias[j] : 0;
      for (let k = 0; k < p.K; k++) s = Math.fround(s + Math.fround(A(p, i, k) * B(p, k, j)));
      c[i * p.N + j] = s;
    }
  return c;
}

export function makeProduct(
  rng: Rng,
  [M, N, K]: number[],
  ta: boolean,
  tb: boolean,
  scale = 1,
  withBias = false,
): Product {
  return {
    M,
    N,
    K,
    ta,
    tb,
    a: rng.array(M * K, scale),
    b: rng.array(K * N, scale),
    bias: withBias ? rng.array(N, scale * scale) : undefined,
  };
}

/** Every transpose combination: [transposeA, transposeB]. */
export const FLAGS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];

/** The product on the backend: tf.matMul, or tf.fused.matMul when there is a bias; shape-checked. */
export function onWasm(p: Product): Float32Array {
  return tf.tidy(() => {
    const a = tf.tensor2d(Float32Array.from(p.a), p.ta ? [p.K, p.M] : [p.M, p.K]);
    const b = tf.tensor2d(Float32Array.from(p.b), p.tb ? [p.N, p.K] : [p.K, p.N]);
    const c = p.bias
      ? tf.fused.matMul({
          a,
          b,
          transposeA: p.ta,
          transposeB: p.tb,
          bias: tf.tensor1d(Float32Array.from(p.bias)),
        })
      : tf.matMul(a, b, p.ta, p.tb);
    if (c.shape.join() !== `${p.M},${p.N}`) throw new Error(`product of shape ${c.shape}`);
    return c.dataSync() as Float32Array;
  });
}
