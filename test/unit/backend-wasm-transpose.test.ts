/**
 * On wasm, 2D transposes run as rank-3 ones (src/backend/wasm-transpose.ts):
 * the split chosen for each shape, and the values against a plain loop over
 * the index map out[…, i, …] = x[…, i, …] permuted, for float32 and int32,
 * sides that split and sides that do not, and axes of size 1.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { rank3Transpose } from '../../src/backend/wasm-transpose.ts';
import { transposeLoop } from './backend-wasm-transpose-reference.ts';

beforeAll(async () => {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(info.message);
});

describe('rank3Transpose', () => {
  it('splits the first side of a 2D transpose by its smallest factor, else the second', () => {
    expect(rank3Transpose([2048, 32], [1, 0])).toEqual({ shape: [2, 1024, 32], perm: [2, 0, 1] });
    expect(rank3Transpose([9, 7], [1, 0])).toEqual({ shape: [3, 3, 7], perm: [2, 0, 1] });
    expect(rank3Transpose([7, 10], [1, 0])).toEqual({ shape: [7, 2, 5], perm: [1, 2, 0] });
  });

  it('sees through axes of size 1 and leaves other transposes alone', () => {
    expect(rank3Transpose([1, 12, 1, 5], [3, 2, 0, 1])).toEqual({
      shape: [2, 6, 5],
      perm: [2, 0, 1],
    });
    expect(rank3Transpose([7, 13], [1, 0])).toBeNull(); // both sides prime
    expect(rank3Transpose([12, 1, 5], [1, 0, 2])).toBeNull(); // only moves an axis of size 1
    expect(rank3Transpose([4, 6, 8], [2, 0, 1])).toBeNull(); // rank 3 already
  });
});

describe('wasm Transpose', () => {
  const cases: [number[], number[]][] = [
    [
      [2048, 32],
      [1, 0],
    ],
    [
      [12, 7],
      [1, 0],
    ],
    [
      [7, 12],
      [1, 0],
    ],
    [
      [7, 13],
      [1, 0],
    ],
    [
      [1, 12, 1, 10],
      [3, 2, 0, 1],
    ],
    [
      [6, 1, 4],
      [2, 1, 0],
    ],
    [
      [4, 6, 8],
      [2, 0, 1],
    ],
  ];
  for (const [shape, perm] of cases)
    for (const dtype of ['float32', 'int32'] as const)
      it(`${shape.join('×')} by [${perm}] (${dtype}) moves every element where the definition says`, () => {
        const size = shape.reduce((a, b) => a * b, 1);
        const data = Array.from({ length: size }, (_, i) => (i * 7919) % 10007);
        const x = tf.tensor(data, shape, dtype);
        const y = tf.transpose(x, perm);
        expect(y.shape).toEqual(perm.map((a) => shape[a]));
        expect(y.dtype).toBe(dtype);
        expect(Array.from(y.dataSync())).toEqual(transposeLoop(data, shape, perm));
        tf.dispose([x, y]);
      });

  it('a 2D transpose frees what it made and its gradient is the transpose back', () => {
    const x = tf.tensor2d(
      Array.from({ length: 24 }, (_, i) => i),
      [6, 4],
    );
    const w = tf.tensor2d(
      Array.from({ length: 24 }, (_, i) => (i % 5) - 2),
      [4, 6],
    );
    const before = tf.memory().numTensors;
    // d/dx Σ (xᵀ ⊙ w) = wᵀ
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.transpose(t), w)))(x);
    expect(Array.from(g.dataSync())).toEqual(transposeLoop(w.dataSync(), [4, 6], [1, 0]));
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w]);
  });
});
