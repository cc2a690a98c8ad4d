/** The explicit-transpose matMul gradient equals tfjs's own for every transpose combination. */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { installFastMatMulGradient } from '../../src/train/matmul-grad.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('installFastMatMulGradient', () => {
  it('gives the same gradients as tfjs for 2D and batched products, all transpose flags', () => {
    const a = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 1);
    const b = tf.randomNormal([2, 4, 5], 0, 1, 'float32', 2);
    const t = (x: tf.Tensor) => tf.transpose(x, [0, 2, 1]);
    const cases: [tf.Tensor, tf.Tensor, boolean, boolean][] = [
      [a, b, false, false],
      [a, t(b), false, true],
      [t(a), b, true, false],
      [t(a), t(b), true, true],
      [
        tf.randomNormal([6, 4], 0, 1, 'float32', 3),
        tf.randomNormal([4, 3], 0, 1, 'float32', 4),
        false,
        false,
      ],
    ];
    const grads = () =>
      cases.map(([x, y, ta, tb]) =>
        tf
          .grads((p: tf.Tensor, q: tf.Tensor) => {
            const m = tf.matMul(p, q, ta, tb);
            return tf.sum(tf.mul(m, tf.reshape(tf.range(0, m.size), m.shape)));
          })([x, y])
          .map((g) => Array.from(g.dataSync())),
      );
    const before = grads();
    installFastMatMulGradient();
    installFastMatMulGradient(); // idempotent
    const after = grads();
    after.forEach((pair, i) =>
      pair.forEach((g, j) =>
        g.forEach((v, k) => expect(Math.abs(v - before[i][j][k])).toBeLessThan(1e-5)),
      ),
    );
  });
});
