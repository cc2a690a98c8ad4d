/**
 * 3D window attention on wasm (src/ops/vol3d-attention.ts by our strided
 * batched product) against float64 loops: softmax(q·kᵀ/√hd + bias + mask)·v
 * per sample, window and head on `[B·nW, heads, N, hd]`, and the gradients
 * of Σ out·r for q, k, v and the bias (dL = P ⊙ (dP − Σ_j P·dP)); windows of
 * 3³, 3·3·5, 4³ and 7³ tokens, 1–3 heads of 8–32, a batch of 2, with a bias
 * or a zero one, with a shift mask or none, over the whole window batch and
 * in chunks of windows (with a remainder). Its products read the operands in
 * place: a block's forward and backward run no BatchMatMul over a batch,
 * the attention no Transpose and no Slice; no tensor is left behind.
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import {
  nnformerIndex3d,
  nnformerWindows3d,
  swinIndex3d,
  swinWindows3d,
  type Triple,
} from '../../src/graph/geometry3d.ts';
import { stridedProductsHere } from '../../src/ops/batched-product.ts';
import { windowAttention3d } from '../../src/ops/vol3d-attention.ts';
import { swin3dBlock } from '../../src/ops/vol3d-block.ts';
import type { Vol } from '../../src/ops/vol3d.ts';
import { refWindowAttentionCore } from '../reference/attention.ts';
import { maxAbs, relErr, Rng } from '../reference/math.ts';
import { blockWeights, disposeWeights } from './vol3d-block-weights.ts';

beforeAll(async () => {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(info.message);
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const B = 2;
const F32 = 4;

/** nW windows a sample of N tokens, h heads of width hd. */
interface Dims {
  nW: number;
  N: number;
  h: number;
  hd: number;
}

/** Output and gradients of Σ out·r in float64 (test/reference/attention.ts); every tensor `[B·nW, h, N, hd]`, bias `[h, N, N]`, mask `[nW, N, N]`. */
function reference(
  { nW, N, h, hd }: Dims,
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  bias: Float64Array,
  mask: Float64Array,
  r: Float64Array,
) {
  const at = (w: number, head: number, i: number, c: number) => ((w * h + head) * N + i) * hd + c;
  const dims = { windows: B * nW, nW, N, h, d: hd, scale: 1 / Math.sqrt(hd) };
  return refWindowAttentionCore(dims, at, q, k, v, bias, mask, r);
}

/** Windows of 3³, 3·3·5 (odd, clamped), 4³ and 7³ tokens. */
const DIMS: Dims[] = [
  { nW: 3, N: 27, h: 2, hd: 8 },
  { nW: 5, N: 45, h: 3, hd: 16 },
  { nW: 2, N: 64, h: 1, hd: 32 },
  { nW: 3, N: 343, h: 2, hd: 16 },
];

/** Windows a chunk: fewer than nW, nW not a multiple of it where it can be. */
const chunkOf = (nW: number) => Math.max(1, Math.floor((nW - 1) / 2));

/** A shift-mask-like `[nW, N, N]`: −100 between tokens of different regions (two regions a window, windows 1, 3, … unmixed). */
function maskOf({ nW, N }: Dims): Float64Array {
  const m = new Float64Array(nW * N * N);
  for (let w = 0; w < nW; w += 2)
    for (let i = 0; i < N; i++)
      for (let j = 0; j < N; j++)
        if ((i * (w + 3)) % 5 < 2 !== (j * (w + 3)) % 5 < 2) m[(w * N + i) * N + j] = -100;
  return m;
}

describe('windowAttention3d on wasm (strided products)', () => {
  it('runs by the strided product here', () => {
    expect(stridedProductsHere()).toBe(true);
  });

  for (const dims of DIMS)
    for (const [withBias, withMask] of [
      [true, true],
      [true, false],
      [false, true],
      [false, false],
    ])
      it(`output (whole and in chunks) and gradients equal float64 loops: ${dims.nW} windows of ${dims.N}, ${dims.h} heads of ${dims.hd}${withBias ? ', bias' : ''}${withMask ? ', mask' : ''}`, () => {
        const { nW, N, h, hd } = dims;
        const shape: [number, number, number, number] = [B * nW, h, N, hd];
        const size = B * nW * h * N * hd;
        const rng = new Rng(3 + N + h + hd);
        const [q, k, v, r] = [0, 1, 2, 3].map(() => rng.array(size));
        const bias = withBias ? rng.array(h * N * N) : new Float64Array(h * N * N);
        const mask = withMask ? maskOf(dims) : new Float64Array(nW * N * N);
        const want = reference(dims, q, k, v, bias, mask, r);

        const before = tf.memory().numTensors;
        const [qt, kt, vt, rt] = [q, k, v, r].map((x) => tf.tensor4d(Float32Array.from(x), shape));
        const bt = tf.tensor3d(Float32Array.from(bias), [h, N, N]);
        const asked: [number, number][] = [];
        const maskSlice = (first: number, count: number) => {
          asked.push([first, count]);
          return tf.tensor3d(
            Float32Array.from(mask.subarray(first * N * N, (first + count) * N * N)),
            [count, N, N],
          );
        };
        const options = (chunkBytes: number) => ({
          bias: bt,
          batch: B,
          chunkBytes,
          ...(withMask ? { mask: maskSlice } : {}),
        });
        const attend = (chunkBytes: number, ...x: tf.Tensor[]) =>
          windowAttention3d(x[0] as tf.Tensor4D, x[1] as tf.Tensor4D, x[2] as tf.Tensor4D, {
            ...options(chunkBytes),
            bias: x[3] as tf.Tensor3D,
          });
        const whole = attend(Infinity, qt, kt, vt, bt);
        const chunk = chunkOf(nW);
        asked.length = 0;
        const chunked = attend(chunk * B * h * N * N * F32, qt, kt, vt, bt);
        if (withMask) {
          const firsts = Array.from({ length: Math.ceil(nW / chunk) }, (_, i) => i * chunk);
          expect(asked).toEqual(firsts.map((f) => [f, Math.min(chunk, nW - f)]));
        }
        const grads = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(attend(Infinity, ...x), rt)))([
          qt,
          kt,
          vt,
          bt,
        ]);
        const err = (t: tf.Tensor, e: Float64Array) => relErr(t.dataSync(), e);
        expect(err(whole, want.out), 'output').toBeLessThan(1e-5);
        expect(err(chunked, want.out), 'output in chunks').toBeLessThan(1e-5);
        const expected = [want.dq, want.dk, want.dv, want.dbias];
        ['dq', 'dk', 'dv', 'dbias'].forEach((name, i) =>
          expect(err(grads[i], expected[i]), name).toBeLessThan(1e-5),
        );
        tf.dispose([whole, chunked, ...grads, qt, kt, vt, rt, bt]);
        expect(tf.memory().numTensors).toBe(before);
      });

  it('reads its operands in place: strided products only, no Transpose, no Slice, in chunks and under a tape', async () => {
    const { nW, N, h, hd } = DIMS[1];
    const shape = [B * nW, h, N, hd];
    const before = tf.memory().numTensors;
    const [q, k, v] = [1, 2, 3].map((s) => tf.randomNormal(shape, 0, 1, 'float32', s));
    const bias = tf.randomNormal([h, N, N], 0, 1, 'float32', 4) as tf.Tensor3D;
    const mask = (first: number, count: number) => tf.fill([count, N, N], -1) as tf.Tensor3D;
    const attend = (chunkBytes: number, ...x: tf.Tensor[]) =>
      windowAttention3d(x[0] as tf.Tensor4D, x[1] as tf.Tensor4D, x[2] as tf.Tensor4D, {
        bias: x[3] as tf.Tensor3D,
        batch: B,
        mask,
        chunkBytes,
      });
    // the kernels' names, the result freed (tf.profile hands back one object, reused by the next call)
    const kernels = async (f: () => tf.TensorContainer) => {
      const p = await tf.profile(f);
      tf.dispose(p.result);
      return p.kernels.map((x) => x.name);
    };
    const chunk = chunkOf(nW);
    const inChunks = await kernels(() => attend(chunk * B * h * N * N * F32, q, k, v, bias));
    const taped = await kernels(() =>
      tf.grads((...x: tf.Tensor[]) => tf.sum(attend(Infinity, ...x)))([q, k, v, bias]),
    );
    tf.dispose([q, k, v, bias]);
    expect(tf.memory().numTensors).toBe(before);
    for (const names of [inChunks, taped]) {
      expect(names).not.toContain('BatchMatMul');
      expect(names).not.toContain('Transpose');
      expect(names).not.toContain('Slice');
    }
    // two products a chunk; two forward and four backward under a tape
    const products = (names: string[]) => names.filter((n) => n === 'MamBatchedProduct').length;
    expect(products(inChunks)).toBe(2 * Math.ceil(nW / chunk));
    expect(products(taped)).toBe(6);
  });

  for (const flavour of ['swinunetr', 'nnformer'] as const)
    it(`a shifted ${flavour} block with memory, forward and backward, runs no BatchMatMul over a batch`, async () => {
      const [C, heads] = [12, 3];
      const grid: Triple = [6, 7, 5];
      const windows =
        flavour === 'nnformer' ? nnformerWindows3d(grid, 3, 1) : swinWindows3d(grid, 3, 1);
      const index = flavour === 'nnformer' ? nnformerIndex3d(windows.window[0]) : swinIndex3d(3);
      const before = tf.memory().numTensors;
      const w = blockWeights(C, heads, 2 * C, index.rows);
      const rnd = (s: number[], seed: number) => tf.randomNormal(s, 0, 0.5, 'float32', seed);
      const x = rnd([B, ...grid, C], 11) as Vol;
      const memory = rnd([B * windows.count, heads, windows.tokens, C / heads], 13) as tf.Tensor4D;
      const prof = await tf.profile(() =>
        tf.grads((a: tf.Tensor, t: tf.Tensor, m: tf.Tensor) =>
          tf.sum(
            tf.square(
              swin3dBlock(
                a as Vol,
                { ...w, table: t as tf.Tensor2D },
                {
                  heads,
                  windows,
                  index,
                  memory: m as tf.Tensor4D,
                },
              ).out,
            ),
          ),
        )([x, w.table, memory]),
      );
      const grads = prof.result as tf.Tensor[];
      expect(grads.map((g) => maxAbs(g.dataSync()))).not.toContain(0);
      tf.dispose(grads);
      const batched = prof.kernels.filter(
        (k) =>
          k.name === 'BatchMatMul' && k.inputShapes[0]!.slice(0, -2).reduce((a, b) => a * b, 1) > 1,
      );
      expect(batched.map((k) => k.inputShapes.map((s) => s!.join('×')).join(' · '))).toEqual([]);
      expect(prof.kernels.filter((k) => k.name === 'MamBatchedProduct')).toHaveLength(6);
      tf.dispose([x, memory]);
      disposeWeights(w);
      expect(tf.memory().numTensors).toBe(before);
    });
});
