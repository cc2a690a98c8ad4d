/**
 * 2D products on wasm run by our SIMD kernel (src/backend/wasm-gemm.ts):
 * every transpose combination, odd sizes, a bias, tiny and large values,
 * against float64 loops and, bit for bit, against float32 sums in k order
 * from the bias (what the kernel promises, and what tfjs's own transposed
 * products do not give); gradients through tf.grads against float64; what it
 * leaves to tfjs (batches, activations) still right; no tensor left behind.
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { installFastMatMulGradient } from '../../src/train/matmul-grad.ts';
import { Rng, type F64 } from '../reference/math.ts';
import {
  A,
  B,
  FLAGS,
  float32InOrder,
  makeProduct,
  onWasm,
  type Product,
} from './backend-wasm-gemm-reference.ts';

beforeAll(async () => {
  const info = await initBackend('wasm', { threads: 1 });
  expect(info.name).toBe('wasm');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

/** C in float64, and Σ_k |A(i, k)·B(k, j)| for the rounding bound. */
function reference(p: Product): { c: F64; abs: F64 } {
  const c = new Float64Array(p.M * p.N);
  const abs = new Float64Array(p.M * p.N);
  for (let i = 0; i < p.M; i++)
    for (let j = 0; j < p.N; j++) {
      let s = p.bias ? p.bias[j] : 0;
      let t = Math.abs(s);
      for (let k = 0; k < p.K; k++) {
        s += A(p, i, k) * B(p, k, j);
        t += Math.abs(A(p, i, k) * B(p, k, j));
      }
      c[i * p.N + j] = s;
      abs[i * p.N + j] = t;
    }
  return { c, abs };
}

const ODD = [1, 3, 5, 7, 9, 17];
const EPS32 = 2 ** -24;

/** Within the float32 rounding bound of a sum of K products: (K + 2)·ε·Σ|terms|. */
function expectClose(got: Float32Array, p: Product): void {
  const { c, abs } = reference(p);
  for (let n = 0; n < c.length; n++)
    expect(Math.abs(got[n] - c[n])).toBeLessThanOrEqual((p.K + 2) * EPS32 * abs[n]);
}

/**
 * tf.grads of Σ W ⊙ op(A)·op(B) on wasm, every transpose combination, against
 * float64: d op(A) = W·op(B)ᵀ, d op(B) = op(A)ᵀ·W; the kernels it ran.
 */
async function expectGradients(rng: Rng): Promise<string[]> {
  const kernels: string[] = [];
  const [M, N, K] = [9, 17, 13];
  const before = tf.memory().numTensors;
  for (const [ta, tb] of FLAGS) {
    const p = makeProduct(rng, [M, N, K], ta, tb);
    const w = rng.array(M * N);
    const a = tf.tensor2d(Float32Array.from(p.a), ta ? [K, M] : [M, K]);
    const b = tf.tensor2d(Float32Array.from(p.b), tb ? [N, K] : [K, N]);
    const wt = tf.tensor2d(Float32Array.from(w), [M, N]);
    const gradients = () =>
      tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y, ta, tb), wt)))([a, b]);
    const [da, db] = tf.tidy(() => gradients().map((t) => t.dataSync() as Float32Array));
    const run = await tf.profile(() => void tf.dispose(gradients()));
    kernels.push(...run.kernels.map((k) => k.name));
    tf.dispose([a, b, wt]);
    for (let i = 0; i < M; i++)
      for (let k = 0; k < K; k++) {
        let s = 0;
        let t = 0;
        for (let j = 0; j < N; j++) {
          s += w[i * N + j] * B(p, k, j);
          t += Math.abs(w[i * N + j] * B(p, k, j));
        }
        const got = da[ta ? k * M + i : i * K + k];
        expect(Math.abs(got - s)).toBeLessThanOrEqual((N + 2) * EPS32 * t);
      }
    for (let k = 0; k < K; k++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        let t = 0;
        for (let i = 0; i < M; i++) {
          s += A(p, i, k) * w[i * N + j];
          t += Math.abs(A(p, i, k) * w[i * N + j]);
        }
        const got = db[tb ? j * K + k : k * N + j];
        expect(Math.abs(got - s)).toBeLessThanOrEqual((M + 2) * EPS32 * t);
      }
  }
  expect(tf.memory().numTensors).toBe(before);
  return kernels;
}

describe('matrix products on wasm by our SIMD kernel', () => {
  it('gives float32 sums in k order, bit for bit, at odd sizes and every transpose combination', () => {
    const rng = new Rng(1);
    const before = tf.memory().numTensors;
    for (const [ta, tb] of FLAGS)
      for (const M of ODD)
        for (const N of ODD)
          for (const K of [1, 5, 17]) {
            const p = makeProduct(rng, [M, N, K], ta, tb);
            const got = onWasm(p);
            expect(Array.from(got)).toEqual(Array.from(float32InOrder(p)));
            expectClose(got, p);
          }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('spans K blocks, column panels and row tiles: K 300, N 37, M 45, with a bias', () => {
    const rng = new Rng(2);
    for (const [ta, tb] of FLAGS)
      for (const withBias of [false, true]) {
        const p = makeProduct(rng, [45, 37, 300], ta, tb, 1, withBias);
        const got = onWasm(p);
        expect(Array.from(got)).toEqual(Array.from(float32InOrder(p)));
        expectClose(got, p);
      }
  });

  it('covers every count of leftover rows: M 1 to 9, odd N, K up to 300 (two K blocks)', () => {
    const rng = new Rng(7);
    for (const [ta, tb] of FLAGS)
      for (let M = 1; M <= 9; M++)
        for (const [N, K] of [
          [3, 300],
          [13, 257],
          [37, 2],
        ]) {
          const p = makeProduct(rng, [M, N, K], ta, tb, 1, M % 2 === 0);
          const got = onWasm(p);
          expect(Array.from(got)).toEqual(Array.from(float32InOrder(p)));
          expectClose(got, p);
        }
  });

  it('keeps tiny (1e-18) and large (1e18) values to float32 rounding, bias included', () => {
    const rng = new Rng(3);
    for (const scale of [1e-18, 1e18])
      for (const [ta, tb] of FLAGS)
        for (const K of ODD) {
          const p = makeProduct(rng, [7, 9, K], ta, tb, scale, true);
          const got = onWasm(p);
          expect(Array.from(got)).toEqual(Array.from(float32InOrder(p)));
          expectClose(got, p);
        }
  });

  it('gives tf.grads of tf.matMul against float64 for every transpose combination', async () => {
    await expectGradients(new Rng(4));
  });

  it('leaves batched products and other activations to tfjs, still right', () => {
    const rng = new Rng(5);
    const [M, N, K] = [5, 7, 9];
    const ps = [0, 1].map(() => makeProduct(rng, [M, N, K], false, true));
    const batched = tf.tidy(() => {
      const a = tf.tensor3d(Float32Array.from([...ps[0].a, ...ps[1].a]), [2, M, K]);
      const b = tf.tensor3d(Float32Array.from([...ps[0].b, ...ps[1].b]), [2, N, K]);
      return tf.matMul(a, b, false, true).dataSync() as Float32Array;
    });
    ps.forEach((p, n) => expectClose(batched.subarray(n * M * N, (n + 1) * M * N), p));
    const p = makeProduct(rng, [M, N, K], false, false, 1, true);
    const relu = tf.tidy(() => {
      const a = tf.tensor2d(Float32Array.from(p.a), [M, K]);
      const b = tf.tensor2d(Float32Array.from(p.b), [K, N]);
      const bias = tf.tensor1d(Float32Array.from(p.bias!));
      return tf.fused.matMul({ a, b, bias, activation: 'relu' }).dataSync() as Float32Array;
    });
    const { c, abs } = reference(p);
    for (let n = 0; n < c.length; n++)
      expect(Math.abs(relu[n] - Math.max(0, c[n]))).toBeLessThanOrEqual((K + 2) * EPS32 * abs[n]);
  });

  it('with the fast gradient installed, multiplies with the flags: no Transpose kernel for 2D products', async () => {
    installFastMatMulGradient();
    const kernels = await expectGradients(new Rng(6));
    expect(kernels).not.toContain('Transpose');
    // each: the forward product and the two of its gradient
    expect(kernels.filter((k) => k === 'BatchMatMul')).toHaveLength(3 * FLAGS.length);
  });
});
