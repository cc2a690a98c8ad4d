/**
 * On wasm, the copies tfjs makes of every tensor it saves for the backward
 * pass share their input's buffer instead of copying it (src/backend/wasm-identity.ts),
 * and gradients that rely on saved tensors stay right.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';

beforeAll(async () => {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(info.message);
});

describe('wasm Identity', () => {
  it('a clone adds no buffer and keeps its values after the original is disposed', () => {
    const x = tf.tensor1d([1, -2, 3.5, 4]);
    const before = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(before);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3.5, 4]);
    y.dispose();
    expect(tf.memory().numDataBuffers).toBe(before - 1);
  });

  it('saved tensors of a customGrad give the analytic gradient after the forward inputs are gone', () => {
    // f(x) = Σ x³ saved by customGrad: df/dx = 3x², from the saved x
    const cube = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
      save([x]);
      return {
        value: tf.sum(tf.mul(tf.mul(x, x), x)),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
          tf.mul(dy, tf.mul(tf.mul(saved[0], saved[0]), 3)),
        ],
      };
    });
    const values = [0.5, -1.25, 2, 3];
    const g = tf.grad((x: tf.Tensor) => cube(tf.mul(x, 1)) as tf.Scalar)(tf.tensor1d(values));
    const expected = values.map((v) => 3 * v * v);
    Array.from(g.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    g.dispose();
  });
});
