/**
 * The weight gradient of a Linear (with bias: layers.ts's affine; without: a
 * plain matMul under installFastMatMulGradient) equals xᵀ·dy computed in
 * float64 loops. On wasm the product's right operand, which XNNPACK packs
 * on every call at a higher cost per element than a transpose, is the
 * narrower of x and dy (for fc2, in = 4·out, or the segmentation head, not
 * all of x), and the rows are transposed once; elsewhere it transposes
 * nothing (matMul's flags: one kernel, one WebGPU dispatch).
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { linear } from '../../src/ops/index.ts';
import { installFastMatMulGradient } from '../../src/train/matmul-grad.ts';
import { Rng } from '../reference/math.ts';

beforeAll(() => installFastMatMulGradient());
afterAll(async () => {
  await tf.setBackend('cpu');
});

const M = 96;

/** xᵀ·r in float64, `[p, q]` row-major. */
function reference(x: number[], r: number[], p: number, q: number): number[] {
  const out = new Array<number>(p * q).fill(0);
  for (let m = 0; m < M; m++)
    for (let i = 0; i < p; i++)
      for (let j = 0; j < q; j++) out[i * q + j] += x[m * p + i] * r[m * q + j];
  return out;
}

describe('Linear weight gradient', () => {
  for (const [backend, inF, outF, bias] of [
    ['wasm', 32, 8, false],
    ['wasm', 32, 8, true],
    ['wasm', 8, 32, true],
    ['cpu', 32, 8, false],
    ['cpu', 8, 32, true],
  ] as const) {
    it(`${backend}, ${inF} → ${outF}${bias ? ' with bias' : ''}: xᵀ·dy, ${backend === 'wasm' ? `packing ${Math.min(inF, outF)} columns of the rows` : 'transposing nothing'}`, async () => {
      if (backend === 'wasm') expect((await initBackend('wasm')).name).toBe('wasm');
      else await tf.setBackend('cpu');
      const rng = new Rng(inF * 100 + outF);
      const x = Array.from({ length: M * inF }, () => rng.normal());
      const r = Array.from({ length: M * outF }, () => rng.normal());
      const w = tf.tensor2d(
        Array.from({ length: inF * outF }, () => rng.normal()),
        [inF, outF],
      );
      const b = tf.zeros([outF]) as tf.Tensor1D;
      const xt = tf.tensor2d(x, [M, inF]);
      const rt = tf.tensor2d(r, [M, outF]);
      // loss = Σ y·r, so dy = r and dW = xᵀ·r
      const f = (weight: tf.Tensor) =>
        tf.sum(
          tf.mul(linear(xt, { weight: weight as tf.Tensor2D, ...(bias ? { bias: b } : {}) }), rt),
        );
      let g: tf.Tensor | undefined;
      const prof = await tf.profile(() => {
        g = tf.grad(f)(w);
        return g;
      });
      const moved = prof.kernels
        .filter((k) => k.name === 'Transpose')
        .reduce((n, k) => n + k.inputShapes[0]!.reduce((a, c) => a * c, 1), 0);
      // wasm: the rows transposed once (the wider), plus [in, out]-sized transposes,
      // and the weight gradient's product packs the narrower [M, min(in, out)]
      if (backend === 'wasm') {
        expect(moved).toBeLessThanOrEqual(M * Math.max(inF, outF) + 2 * inF * outF);
        const packed = prof.kernels
          .filter(
            (k) =>
              k.name === 'BatchMatMul' && k.inputShapes[1]![0] === M && k.inputShapes[0]![0] > 1,
          )
          .map((k) => k.inputShapes[1]);
        expect(packed).toEqual([[M, Math.min(inF, outF)]]);
      } else expect(moved).toBe(0);
      const expected = reference(x, r, inF, outF);
      const got = g!.dataSync();
      expected.forEach((e, i) => expect(Math.abs(got[i] - e)).toBeLessThan(1e-4));
      tf.dispose([w, b, xt, rt, g!]);
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
