// One forward and backward of the wasm attention core (src/ops/attention-core.ts)
// on seeded inputs, for comparing runs on 1 and 2 threads bit for bit
// (backend-wasm-batched-product.test.ts and its child process): the output and the
// gradients of q, k, v and the bias, as plain arrays of their float32 values.
// 'large' has windows of 49 tokens and 3 heads: its products are big enough
// to run in chunks of windows on every thread (wasm-batched-product.ts).
import * as tf from '#tfjs';
import { attentionCore } from '../../src/ops/attention-core.ts';
import { Rng } from '../reference/math.ts';

export function attentionCoreRun(size: 'small' | 'large' = 'small'): number[][] {
  const [Bw, nW, N, h, d] = size === 'small' ? [8, 4, 16, 2, 16] : [16, 4, 49, 3, 32];
  const rng = new Rng(5);
  const t = (shape: number[], scale = 1) =>
    tf.tensor(
      Float32Array.from(
        rng.array(
          shape.reduce((a, b) => a * b, 1),
          scale,
        ),
      ),
      shape,
    );
  return tf.tidy(() => {
    const [q, k, v, r] = [0, 1, 2, 3].map(() => t([Bw, N, h * d], 0.5)) as tf.Tensor3D[];
    const bias = t([h, N, N]) as tf.Tensor3D;
    const mask = tf.mul(tf.step(t([nW, N, N])), -100) as tf.Tensor3D;
    const core = (...x: tf.Tensor[]) =>
      attentionCore(
        x[0] as tf.Tensor3D,
        x[1] as tf.Tensor3D,
        x[2] as tf.Tensor3D,
        h,
        x[3] as tf.Tensor3D,
        mask,
      );
    const grads = tf.grads((...x: tf.Tensor[]) => tf.sum(tf.mul(core(...x), r)))([q, k, v, bias]);
    return [core(q, k, v, bias), ...grads].map((x) => Array.from(x.dataSync()));
  });
}
