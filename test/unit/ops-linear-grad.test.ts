/**
 * The gradients of a Linear (with bias: layers.ts's affine; without: a plain
 * matMul under installFastMatMulGradient) equal dx = dy·Wᵀ and dW = xᵀ·dy
 * computed in float64 loops. Where the products take transposeA/transposeB
 * at no extra cost (cpu; wasm with our kernel, src/backend/wasm-gemm.ts)
 * nothing is transposed. On tfjs-wasm's own product (our kernel off), the
 * right operand, which XNNPACK packs on every call at a higher cost per
 * element than a transpose, is the narrower of x and dy (for fc2, in =
 * 4·out, or the segmentation head, not all of x), and the rows are
 * transposed once.
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { useWasmGemm } from '../../src/backend/wasm-gemm.ts';
import { linear } from '../../src/ops/index.ts';
import { installFastMatMulGradient } from '../../src/train/matmul-grad.ts';
import { Rng } from '../reference/math.ts';

beforeAll(() => installFastMatMulGradient());
afterAll(async () => {
  useWasmGemm(true);
  await tf.setBackend('cpu');
});

const M = 96;

/** `[rows, cols]` with entry (i, j) = Σ_k a(i, k)·b(k, j) over `inner` k, in float64. */
function product64(
  rows: number,
  inner: number,
  cols: number,
  a: (i: number, k: number) => number,
  b: (k: number, j: number) => number,
): number[] {
  const out = new Array<number>(rows * cols).fill(0);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++)
      for (let k = 0; k < inner; k++) out[i * cols + j] += a(i, k) * b(k, j);
  return out;
}

describe('Linear gradients', () => {
  for (const [backend, inF, outF, bias] of [
    ['wasm', 32, 8, false],
    ['wasm', 32, 8, true],
    ['wasm', 8, 32, true],
    ['xnnpack', 32, 8, false],
    ['xnnpack', 32, 8, true],
    ['xnnpack', 8, 32, true],
    ['cpu', 32, 8, false],
    ['cpu', 8, 32, true],
  ] as const) {
    it(`${backend}, ${inF} → ${outF}${bias ? ' with bias' : ''}: dy·Wᵀ and xᵀ·dy, ${backend === 'xnnpack' ? `packing ${Math.min(inF, outF)} columns of the rows` : 'transposing nothing'}`, async () => {
      if (backend === 'cpu') await tf.setBackend('cpu');
      else expect((await initBackend('wasm')).name).toBe('wasm');
      useWasmGemm(backend !== 'xnnpack');
      const rng = new Rng(inF * 100 + outF);
      const x = Array.from({ length: M * inF }, () => rng.normal());
      const r = Array.from({ length: M * outF }, () => rng.normal());
      const wv = Array.from({ length: inF * outF }, () => rng.normal());
      const w = tf.tensor2d(wv, [inF, outF]);
      const b = tf.zeros([outF]) as tf.Tensor1D;
      const xt = tf.tensor2d(x, [M, inF]);
      const rt = tf.tensor2d(r, [M, outF]);
      // loss = Σ y·r, so dy = r, dx = r·Wᵀ and dW = xᵀ·r
      const f = (input: tf.Tensor, weight: tf.Tensor) =>
        tf.sum(
          tf.mul(
            linear(input as tf.Tensor2D, {
              weight: weight as tf.Tensor2D,
              ...(bias ? { bias: b } : {}),
            }),
            rt,
          ),
        );
      let g: tf.Tensor[] = [];
      const prof = await tf.profile(() => {
        g = tf.grads(f)([xt, w]);
        return g;
      });
      useWasmGemm(true);
      const moved = prof.kernels
        .filter((k) => k.name === 'Transpose')
        .reduce((n, k) => n + k.inputShapes[0]!.reduce((a, c) => a * c, 1), 0);
      // XNNPACK: the rows transposed once (the wider), plus [in, out]-sized transposes,
      // and the weight gradient's product packs the narrower [M, min(in, out)]
      if (backend === 'xnnpack') {
        expect(moved).toBeLessThanOrEqual(M * Math.max(inF, outF) + 2 * inF * outF);
        const packed = prof.kernels
          .filter(
            (k) =>
              k.name === 'BatchMatMul' && k.inputShapes[1]![0] === M && k.inputShapes[0]![0] > 1,
          )
          .map((k) => k.inputShapes[1]);
        expect(packed).toEqual([[M, Math.min(inF, outF)]]);
      } else expect(moved).toBe(0);
      const [dx, dw] = [g[0]!.dataSync(), g[1]!.dataSync()];
      // dW = xᵀ·r, dx = r·Wᵀ
      const dwRef = product64(
        inF,
        M,
        outF,
        (i, m) => x[m * inF + i],
        (m, o) => r[m * outF + o],
      );
      const dxRef = product64(
        M,
        outF,
        inF,
        (m, o) => r[m * outF + o],
        (o, i) => wv[i * outF + o],
      );
      dwRef.forEach((e, i) => expect(Math.abs(dw[i] - e)).toBeLessThan(1e-4));
      dxRef.forEach((e, i) => expect(Math.abs(dx[i] - e)).toBeLessThan(1e-4));
      tf.dispose([w, b, xt, rt, ...g]);
    });
  }
});

describe('Linear forward', () => {
  for (const backend of ['wasm', 'cpu'] as const)
    it(`${backend}: x·W + b is one fused product (no pass of its own for the bias), equal to float64`, async () => {
      if (backend === 'wasm') expect((await initBackend('wasm')).name).toBe('wasm');
      else await tf.setBackend('cpu');
      const [inF, outF] = [12, 5];
      const rng = new Rng(7);
      const x = Array.from({ length: M * inF }, () => rng.normal());
      const w = Array.from({ length: inF * outF }, () => rng.normal());
      const b = Array.from({ length: outF }, () => rng.normal());
      const weights = { weight: tf.tensor2d(w, [inF, outF]), bias: tf.tensor1d(b) };
      const xt = tf.tensor2d(x, [M, inF]);
      const prof = await tf.profile(() => linear(xt, weights));
      const y = prof.result as tf.Tensor;
      const names = prof.kernels.map((k) => k.name);
      expect(names.filter((n) => n === '_FusedMatMul')).toHaveLength(1);
      expect(names).not.toContain('Add');
      expect(names).not.toContain('BatchMatMul');
      const got = y.dataSync();
      for (let m = 0; m < M; m++)
        for (let o = 0; o < outF; o++) {
          let e = b[o];
          for (let i = 0; i < inF; i++) e += x[m * inF + i] * w[i * outF + o];
          expect(Math.abs(got[m * outF + o] - e)).toBeLessThan(1e-5);
        }
      tf.dispose([y, xt, weights.weight, weights.bias]);
    });
});
