/**
 * What a training step asks of the backend, kernel by kernel (tf.profile):
 * the structure that keeps wasm fast. On wasm every product is a plain one
 * (wasm runs a product with a transposed operand several times slower);
 * window attention never slices q, k, v out of a `[Bw, N, 3C]` product (slicing
 * and padding the gradients back copies three token-sized arrays); a compiled
 * model builds its masks and bias index matrices once and keeps them; Linear
 * and LayerNorm sum their gradients over rows as products.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { layerNorm, linear, swinBlock } from '../../src/ops/index.ts';
import { installFastMatMulGradient } from '../../src/train/matmul-grad.ts';
import { Rng } from '../reference/math.ts';
import { blockFromList, randomBlock } from '../reference/harness.ts';
import { compileDoc, SMALL, smallMam } from './compile-fixtures.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
  installFastMatMulGradient(); // as training does
});

type Kernels = Awaited<ReturnType<typeof tf.profile>>['kernels'];

/** Kernels of the forward and backward pass of a shifted MAM Swin block with memory in. */
async function blockStepKernels(B: number, grid: [number, number], C: number, heads: number) {
  const rng = new Rng(7);
  const w = 4;
  const p = randomBlock(rng, C, heads, w);
  const L = grid[0] * grid[1];
  const x = tf.randomNormal([B, L, C], 0, 1, 'float32', 1) as tf.Tensor3D;
  const mem = tf.randomNormal([B, L, C], 0, 1, 'float32', 2) as tf.Tensor3D;
  const prof = await tf.profile(() =>
    tf.tidy(() => {
      const f = (...ws: tf.Tensor[]) => {
        const r = swinBlock(
          x,
          blockFromList(ws, true),
          { heads, window: w, shift: 2, grid },
          { in: mem, layout: 'window' },
        );
        return tf.add(tf.sum(r.y), tf.sum(r.memOut!)) as tf.Scalar;
      };
      const g = tf.grads(f)(p.list);
      return tf.stack(g.map((t) => tf.sum(t)));
    }),
  );
  (prof.result as tf.Tensor).dispose();
  tf.dispose([x, mem, ...p.list]);
  return prof.kernels as Kernels;
}

describe('window attention kernels (forward and backward)', () => {
  const B = 2;
  const grid: [number, number] = [8, 8];
  const C = 24;
  const heads = 2; // d = 12, N = 16: a transposed operand shows in the shapes

  it('on wasm every batched matrix product is a plain one: a[…, m, k] · b[…, k, n]', async () => {
    // (2D products take the transpose flags: our kernel runs them at no extra
    // cost, src/backend/wasm-gemm.ts; elsewhere the gradients use the flags too)
    expect((await initBackend('wasm')).name).toBe('wasm');
    try {
      const kernels = await blockStepKernels(B, grid, C, heads);
      const products = kernels.filter((k) => k.name === 'BatchMatMul');
      expect(products.length).toBeGreaterThan(0);
      const batch = (s: number[]) => s.slice(0, -2).reduce((x, y) => x * y, 1);
      for (const k of products) {
        const [a, b] = k.inputShapes;
        if (batch(a) === 1 && batch(b) === 1) continue;
        expect(a.at(-1), `BatchMatMul ${a.join('×')} · ${b.join('×')}`).toBe(b.at(-2));
      }
    } finally {
      await tf.setBackend('cpu');
    }
  });

  it('slices and pads only the weights, never a token-sized q|k|v product', async () => {
    const kernels = await blockStepKernels(B, grid, C, heads);
    const tokens = B * grid[0] * grid[1];
    for (const k of kernels.filter((k) => k.name === 'Slice' || k.name === 'PadV2')) {
      const shape = k.name === 'Slice' ? k.inputShapes[0] : k.outputShapes[0];
      const is3C = shape.at(-1) === 3 * C;
      const size = shape.reduce((a, n) => a * n, 1);
      expect(is3C && size >= tokens * 3 * C, `${k.name} of ${shape.join('×')}`).toBe(false);
    }
  });
});

describe('a compiled model keeps its constants', () => {
  it('one shift mask per shifted (grid, window) and one bias one-hot per window, built once, freed with the model', () => {
    const before = tf.memory().numTensors;
    const { plan, model } = compileDoc(smallMam('ists', 'window'));
    const [, H, W, Cin] = plan.input.shape;
    const x = tf.randomNormal([1, H, W, Cin], 0, 1, 'float32', 3) as tf.Tensor4D;
    model.predict(x).dispose();
    // SMALL: grids 16² and 8² (image 32, patch 2, one merge), window 4, shift 2 on both
    const shiftedGrids = SMALL.depths.length;
    expect(model.constantCount).toBe(shiftedGrids + 1);
    const afterFirst = tf.memory().numTensors;
    model.predict(x).dispose();
    expect(tf.memory().numTensors).toBe(afterFirst);
    expect(model.constantCount).toBe(shiftedGrids + 1);
    x.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Linear and LayerNorm gradients', () => {
  it('sum over rows as products: no Sum kernel (wasm transposes the whole array for one)', async () => {
    const x = tf.randomNormal([64, 8], 0, 1, 'float32', 4) as tf.Tensor2D;
    const ws = [
      tf.randomNormal([8], 1, 0.2, 'float32', 5),
      tf.randomNormal([8], 0, 0.2, 'float32', 6),
      tf.randomNormal([8, 12], 0, 0.3, 'float32', 7),
      tf.randomNormal([12], 0, 0.2, 'float32', 8),
    ];
    const prof = await tf.profile(() =>
      tf.tidy(() => {
        const f = (gamma: tf.Tensor, beta: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
          const n = layerNorm(x, { weight: gamma as tf.Tensor1D, bias: beta as tf.Tensor1D });
          return tf.sum(tf.square(linear(n, { weight: w as tf.Tensor2D, bias: b as tf.Tensor1D })));
        };
        const g = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)(ws);
        return tf.stack(g.map((t) => tf.sum(t)));
      }),
    );
    (prof.result as tf.Tensor).dispose();
    tf.dispose([x, ...ws]);
    // the only 2D sums are the test's own: the loss (64×12) and its sum of the weight's gradient (8×12)
    const sums = prof.kernels.filter((k) => k.name === 'Sum' && k.inputShapes[0].length === 2);
    expect(sums.map((k) => k.inputShapes[0].join('×'))).toEqual(['64×12', '8×12']);
  });
});

describe('a block without drop-path', () => {
  it('copies nothing: no Identity kernel in inference (drop-path off)', async () => {
    const p = randomBlock(new Rng(3), 8, 2, 4);
    const x = tf.randomNormal([1, 64, 8], 0, 1, 'float32', 9) as tf.Tensor3D;
    const opts = { heads: 2, window: 4, shift: 2, grid: [8, 8] };
    const prof = await tf.profile(() =>
      tf.tidy(
        () =>
          swinBlock(x, blockFromList(p.list, true), {
            ...opts,
            dropPath: { rate: 0.1, training: false },
          }).y,
      ),
    );
    (prof.result as tf.Tensor).dispose();
    tf.dispose([x, ...p.list]);
    expect(prof.kernels.filter((k) => k.name === 'Identity').length).toBe(0);
  });
});
