/**
 * Batched products `[B, n, k] · [B, k, m] → [B, n, m]` as one depthwise
 * convolution. tfjs-backend-wasm runs BatchMatMul with a batch above 1 in a
 * plain loop (~2 GFLOP/s here; a batch of 1 goes to XNNPACK at ~30), and
 * window attention is thousands of tiny products (16×16·16×16 per window and
 * head). A depthwise convolution with the batch as its channels computes
 * them all in one XNNPACK call: input `[1, n, k, B]` (rows, taps, channels),
 * filter `[1, k, B, m]` (taps, channels, multiplier) give
 * `out[0, i, 0, b·m + j] = Σ_t a[b, i, t] · b[b, t, j]`. The gradient is two
 * more such products. Forward-only depthwise convolution is in the op set of
 * every backend; the gradient is written here.
 */
import * as tf from '#tfjs';
import { swapLast } from './layers.ts';

function depthwiseProduct(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const [B, n, k] = a.shape;
  const m = b.shape[2];
  const input = tf.reshape(tf.transpose(a, [1, 2, 0]), [1, n, k, B]) as tf.Tensor4D;
  const filter = tf.reshape(tf.transpose(b, [1, 0, 2]), [1, k, B, m]) as tf.Tensor4D;
  const out = tf.depthwiseConv2d(input, filter, 1, 'valid'); // [1, n, 1, B·m]
  return tf.transpose(tf.reshape(out, [n, B, m]), [1, 0, 2]);
}

const product = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: depthwiseProduct(a, b),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D];
      const d = dy as tf.Tensor3D;
      // da = dy·bᵀ, db = aᵀ·dy
      return [depthwiseProduct(d, swapLast(bs)), depthwiseProduct(swapLast(as), d)];
    },
  };
});

/** `a · b` per batch entry, for a `[..., n, k]` and b `[..., k, m]` with the same leading axes. */
export function batchedProduct<T extends tf.Tensor>(a: T, b: T): T {
  return tf.tidy(() => {
    const lead = a.shape.slice(0, -2);
    const [n, k] = a.shape.slice(-2);
    const m = b.shape[b.rank - 1];
    const B = lead.reduce((x, y) => x * y, 1);
    const a3 = tf.reshape(a, [B, n, k]) as tf.Tensor3D;
    const b3 = tf.reshape(b, [B, k, m]) as tf.Tensor3D;
    return tf.reshape(product(a3, b3), [...lead, n, m]) as T;
  });
}
