/**
 * batchedProduct (on wasm our strided batched product, its gradient's
 * transposed operands read in place; elsewhere tfjs's batched matMul)
 * against float64 loops, values and gradients, on wasm and cpu; and on wasm,
 * window attention with its gradient runs no BatchMatMul over more than one
 * batch entry (wasm's slow loop) and no depthwise convolution: its products
 * are ours.
 */
import * as tf from '#tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { batchedProduct, swinBlock } from '../../src/ops/index.ts';
import { installFastMatMulGradient } from '../../src/train/matmul-grad.ts';
import { blockFromList, randomBlock, tensor } from '../reference/harness.ts';
import { Rng } from '../reference/math.ts';

afterAll(async () => {
  await tf.setBackend('cpu');
});

const [B, n, k, m] = [6, 5, 7, 3];

/** Per batch entry: out = a·b, and for loss Σ out·r: da = r·bᵀ, db = aᵀ·r. */
function reference(a: number[], b: number[], r: number[]) {
  const out = new Array<number>(B * n * m).fill(0);
  const da = new Array<number>(B * n * k).fill(0);
  const db = new Array<number>(B * k * m).fill(0);
  for (let s = 0; s < B; s++)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++)
        for (let t = 0; t < k; t++) {
          const ai = s * n * k + i * k + t;
          const bi = s * k * m + t * m + j;
          const oi = s * n * m + i * m + j;
          out[oi] += a[ai] * b[bi];
          da[ai] += r[oi] * b[bi];
          db[bi] += a[ai] * r[oi];
        }
  return { out, da, db };
}

describe('batchedProduct', () => {
  for (const backend of ['cpu', 'wasm'] as const) {
    it(`equals per-entry products and their gradients in float64 loops (${backend})`, async () => {
      if (backend === 'wasm') expect((await initBackend('wasm')).name).toBe('wasm');
      else await tf.setBackend('cpu');
      const rng = new Rng(7);
      const a = Array.from({ length: B * n * k }, () => rng.normal());
      const b = Array.from({ length: B * k * m }, () => rng.normal());
      const r = Array.from({ length: B * n * m }, () => rng.normal());
      const ref = reference(a, b, r);
      const [at, bt, rt] = [
        tf.tensor3d(a, [B, n, k]),
        tf.tensor3d(b, [B, k, m]),
        tf.tensor3d(r, [B, n, m]),
      ];
      const out = batchedProduct(at, bt);
      const [da, db] = tf.grads((x: tf.Tensor, y: tf.Tensor) =>
        tf.sum(tf.mul(batchedProduct(x, y), rt)),
      )([at, bt]);
      const close = (got: tf.Tensor, want: number[]) =>
        Array.from(got.dataSync()).forEach((v, i) =>
          expect(Math.abs(v - want[i])).toBeLessThan(1e-5),
        );
      expect(out.shape).toEqual([B, n, m]);
      close(out, ref.out);
      close(da, ref.da);
      close(db, ref.db);
      tf.dispose([at, bt, rt, out, da, db]);
    });
  }

  it('on wasm, a shifted window block with memory and its gradient multiply by our strided product only', async () => {
    expect((await initBackend('wasm')).name).toBe('wasm');
    installFastMatMulGradient();
    const rng = new Rng(3);
    const p = randomBlock(rng, 8, 2, 4);
    const x = tensor(rng.array(2 * 64 * 8), [2, 64, 8]);
    const mem = tensor(rng.array(2 * 64 * 8), [2, 64, 8]);
    const prof = await tf.profile(() => {
      const g = tf.grads((xx: tf.Tensor, ...l: tf.Tensor[]) => {
        const o = swinBlock(
          xx as tf.Tensor3D,
          blockFromList(l, true),
          { heads: 2, window: 4, shift: 2, grid: [8, 8] },
          { in: mem as tf.Tensor3D },
        );
        return tf.sum(tf.square(o.y));
      })([x, ...p.list]);
      tf.dispose(g);
    });
    const batched = prof.kernels.filter(
      (kk) =>
        kk.name === 'BatchMatMul' && kk.inputShapes[0]!.slice(0, -2).reduce((s, d) => s * d, 1) > 1,
    );
    expect(batched.map((kk) => kk.inputShapes.map((s) => s!.join('×')).join(' · '))).toEqual([]);
    const names = prof.kernels.map((kk) => kk.name);
    expect(names).not.toContain('DepthwiseConv2dNative');
    expect(names.filter((name) => name === 'MamBatchedProduct').length).toBeGreaterThan(0);
    tf.dispose([x, mem, ...p.list]);
  });
});
