/**
 * 3D window attention in chunks of windows (src/ops/vol3d-attention.ts):
 * without a tape the logits of a chunk stay under a byte budget, the result
 * and the MAM memory are those of the whole window batch at once, and the
 * block's peak buffer bytes (src/backend/meter.ts) stay under a bound worked
 * out by hand from the shapes and the budget. The float64 PyTorch oracle
 * runs the chunked path too (ops-vol3d-torch.test.ts).
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { meterBuffers } from '../../src/backend/meter.ts';
import { swinIndex3d, swinWindows3d, type Triple } from '../../src/graph/geometry3d.ts';
import { attentionChunk3d } from '../../src/ops/vol3d-attention.ts';
import { swin3dBlock } from '../../src/ops/vol3d-block.ts';
import type { Vol } from '../../src/ops/vol3d.ts';
import { maxAbs } from '../reference/math.ts';
import { blockWeights, disposeWeights } from './vol3d-block-weights.ts';

beforeAll(async () => {
  await initBackend('wasm');
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const F32 = 4;

describe('3D window attention in chunks of windows (wasm)', () => {
  it('equals the whole window batch at once: shifted, padded, MAM memory in and out, ≥ 3 chunks', () => {
    const [B, C, heads] = [2, 6, 3];
    const grid: Triple = [8, 9, 5]; // windows 4³ padded to 8×12×8: 12 a sample, shift 2 on every axis
    const windows = swinWindows3d(grid, 4, 2);
    const index = swinIndex3d(4);
    const N = windows.tokens;
    expect(windows.count).toBe(12);
    expect(N).toBe(64);
    const w = blockWeights(C, heads, 4 * C, index.rows);
    const x = tf.randomNormal([B, ...grid, C], 0, 1, 'float32', 11) as Vol;
    const memory = tf.randomNormal(
      [B * windows.count, heads, N, C / heads],
      0,
      1,
      'float32',
      13,
    ) as tf.Tensor4D;
    // 5 windows (of both samples) a chunk: chunks of 5, 5 and 2 windows
    const perWindow = B * heads * N * N * F32;
    const chunkBytes = 5 * perWindow + perWindow / 2;
    expect(attentionChunk3d({ batch: B, windows: 12, heads, tokens: N }, chunkBytes)).toBe(5);
    const opts = { heads, windows, index, memory, withMemoryOut: true };
    const before = tf.memory().numTensors;
    const whole = swin3dBlock(x, w, { ...opts, chunkBytes: Infinity });
    const chunked = swin3dBlock(x, w, { ...opts, chunkBytes });
    expect(tf.memory().numTensors).toBe(before + 4); // two outputs and two memories, nothing else
    // the memory path is on: without it block output differs
    const sam = swin3dBlock(x, w, { heads, windows, index, chunkBytes });
    expect(maxAbs(diff(sam.out, whole.out))).toBeGreaterThan(1e-3);
    expect(maxAbs(diff(chunked.out, whole.out))).toBeLessThanOrEqual(1e-6);
    expect(maxAbs(diff(chunked.memory!, whole.memory!))).toBeLessThanOrEqual(1e-6);
    // q̂ = q + m: the memory out minus the memory in is the block's query, not zero
    expect(maxAbs(diff(chunked.memory!, memory))).toBeGreaterThan(1e-3);
    tf.dispose([x, memory, whole.out, whole.memory!, chunked.out, chunked.memory!, sam.out]);
    disposeWeights(w);
  });

  it('under a gradient tape every window is one chunk, and the gradients are those of the plain block', () => {
    const [B, C, heads] = [1, 4, 2];
    const grid: Triple = [8, 8, 8];
    const windows = swinWindows3d(grid, 4, 2);
    const index = swinIndex3d(4);
    const w = blockWeights(C, heads, C, index.rows);
    const x = tf.randomNormal([B, ...grid, C], 0, 1, 'float32', 17) as Vol;
    const shape = { batch: B, windows: windows.count, heads, tokens: windows.tokens };
    expect(attentionChunk3d(shape, 1)).toBe(1);
    let taped = -1;
    const grad = (chunkBytes: number) =>
      tf.grad((v: tf.Tensor) => {
        taped = attentionChunk3d(shape, chunkBytes);
        return tf.sum(
          tf.square(swin3dBlock(v as Vol, w, { heads, windows, index, chunkBytes }).out),
        );
      })(x);
    const tiny = grad(1);
    expect(taped).toBe(windows.count);
    const whole = grad(Infinity);
    expect(maxAbs(diff(tiny, whole))).toBe(0);
    expect(maxAbs(tiny.dataSync())).toBeGreaterThan(0);
    tf.dispose([x, tiny, whole]);
    disposeWeights(w);
  });

  it("a block's peak buffer bytes stay under the bound from its shapes and the budget (the whole batch's logits do not fit it)", () => {
    // hd = 1 and many windows: the logits (N/hd = 64 token tensors) dwarf the rest
    const [B, C, heads] = [1, 2, 2];
    const grid: Triple = [32, 32, 32];
    const windows = swinWindows3d(grid, 4, 2); // 512 windows of 4³, shifted, no padding
    const index = swinIndex3d(4);
    const [N, nW] = [windows.tokens, windows.count];
    const w = blockWeights(C, heads, C, index.rows);
    const x = tf.randomNormal([B, ...grid, C], 0, 1, 'float32', 19) as Vol;
    const perWindow = B * heads * N * N * F32;
    const chunkBytes = 64 * perWindow; // 8 chunks of 64 windows
    const opts = { heads, windows, index, chunkBytes };
    swin3dBlock(x, w, opts).out.dispose(); // warm-up
    const m = meterBuffers();
    const y = swin3dBlock(x, w, opts).out;
    m.stop();

    // U: one token tensor, B·D·H·W·C floats. The block keeps (tidy) its
    // token-sized tensors until it returns: LN 1, roll 3 × (head + tail +
    // concat) = 6, partition 2, qkv 3, q/k/v slices + transposes 6 = 18
    // before the attention; after it: the attention 1, merge transpose 1,
    // proj 1, reverse 2, un-roll 6, x + y 1, LN 1, fc1 1 (MLP ratio 1),
    // GELU 1, fc2 1, out 1 = 17; the most alive at once inside an op: 5
    // (LayerNorm's centred, squared, normalised, scaled, shifted rows).
    const U = B * grid[0] * grid[1] * grid[2] * C * F32;
    const tokens = (18 + 17 + 5) * U;
    // in the attention: the chunks done (≤ U), one chunk's q, k, v slices
    // and scaled q (4 × U/8), its output, two logit tensors, one mask slice
    const chunk = 64;
    const attention = U + 5 * (U / 8) + 2 * chunkBytes + chunk * N * N * F32;
    // the bias [h, N, N] and its making: at most 12 tensors of h·N·(a·sd) floats
    const [a, sd] = [index.window[0], index.strides[0]];
    const bias = heads * N * N * F32 + 12 * heads * N * a * sd * F32;
    const bound = tokens + attention + bias;
    const allLogits = B * nW * heads * N * N * F32;
    // the unchunked block held two whole-batch logit tensors at once
    expect(2 * allLogits).toBeGreaterThan(bound);
    expect(m.peak).toBeLessThanOrEqual(bound);
    expect(m.peak).toBeGreaterThanOrEqual(2 * chunkBytes);
    tf.dispose([x, y]);
    disposeWeights(w);
  });
});

function diff(a: tf.Tensor, b: tf.Tensor): Float32Array {
  const [p, q] = [a.dataSync(), b.dataSync()];
  return Float32Array.from(p, (v, i) => v - q[i]);
}
