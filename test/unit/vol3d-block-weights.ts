// Random weights of a 3D Swin block (src/ops/vol3d-block.ts) for the tests of
// the block and its window attention, and their disposal.
import * as tf from '#tfjs';
import type { Block3dWeights } from '../../src/ops/vol3d-block.ts';

/** Random block weights for C channels and an MLP of `hidden` (LayerNorms at identity). */
export function blockWeights(
  C: number,
  heads: number,
  hidden: number,
  rows: number,
): Block3dWeights {
  const rnd = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 0.5, 'float32', seed);
  const lin = (i: number, o: number, seed: number) => ({
    weight: rnd([i, o], seed) as tf.Tensor2D,
    bias: rnd([o], seed + 1) as tf.Tensor1D,
  });
  const norm = () => ({ weight: tf.ones([C]) as tf.Tensor1D, bias: tf.zeros([C]) as tf.Tensor1D });
  return {
    norm1: norm(),
    qkv: lin(C, 3 * C, 1),
    proj: lin(C, C, 3),
    table: rnd([rows, heads], 5) as tf.Tensor2D,
    norm2: norm(),
    fc1: lin(C, hidden, 7),
    fc2: lin(hidden, C, 9),
  };
}

export const disposeWeights = (w: Block3dWeights): void =>
  tf.dispose(Object.values(w).flatMap((v) => (v instanceof tf.Tensor ? [v] : Object.values(v))));
