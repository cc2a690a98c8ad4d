/**
 * The core of window attention on wasm, softmax(q·kᵀ + bias + mask)·v per
 * window and head, with its gradient, in one custom gradient whose products
 * are depthwise convolutions (see batched-product.ts for why) laid out so
 * that each operand is one transpose away from the `[Bw, N, h, d]` heads of
 * q, k and v: the logits and probabilities stay `[N_i, Bw·h, N_j]` (the
 * softmax runs on their last axis there), and the product with v reads them
 * after one swap. Composed from batchedProduct, every product moved each
 * operand three times (heads, product input, product output): 17
 * operand-sized transposes a unit, forward and backward, against ~27.
 *
 * A depthwise product of `input [n, k, c]` and `filter [k, c, m]` is
 * `out[i, c, j] = Σ_t input[i, t, c]·filter[t, c, j]` (out `[n, c, m]`).
 */
import * as tf from '#tfjs';
import { sumRows } from './layers.ts';

function depthwise(
  input: tf.Tensor,
  filter: tf.Tensor,
  n: number,
  k: number,
  c: number,
  m: number,
) {
  const out = tf.depthwiseConv2d(
    tf.reshape(input, [1, n, k, c]) as tf.Tensor4D,
    tf.reshape(filter, [1, k, c, m]) as tf.Tensor4D,
    1,
    'valid',
  );
  return tf.reshape(out, [n, c, m]) as tf.Tensor3D;
}

/**
 * `softmax(q·kᵀ + bias + mask)·v` for q, k, v `[Bw, N, C]` (k scaled
 * already) of `heads` heads, bias `[h, N, N]`, mask `[nW, N, N]` (Bw a
 * multiple of nW, batch outermost); returns `[Bw, N, C]`. The gradient
 * reaches q, k, v and the bias; the mask is a constant.
 */
export function attentionCore(
  q: tf.Tensor3D,
  k: tf.Tensor3D,
  v: tf.Tensor3D,
  heads: number,
  bias: tf.Tensor3D | null,
  mask: tf.Tensor3D | null,
): tf.Tensor3D {
  const [Bw, N, C] = q.shape;
  const h = heads;
  const d = C / h;
  const c = Bw * h;
  const split = (t: tf.Tensor) => tf.reshape(t, [Bw, N, h, d]);
  // [Bw, N, h, d] → [N, Bw, h, d]: the rows of a product's filter, or its output back
  const swapTokens = (t: tf.Tensor) => tf.transpose(t, [1, 0, 2, 3]);
  const toTokens = (t: tf.Tensor) => tf.reshape(swapTokens(t), [Bw, N, C]) as tf.Tensor3D;
  // [N, Bw, h, d] → [N, d, Bw, h], a product's input (t = d): from the tokens swapped, the
  // two swaps cost ~0.7 ns an element on wasm against ~2 for [Bw, N, h, d] → [N, d, Bw, h]
  // at once (d, the innermost axis, moved element by element)
  const asInput = (swapped: tf.Tensor) => tf.transpose(tf.reshape(swapped, [N, c, d]), [0, 2, 1]);
  // [Bw, N, h, d] → [d, Bw, h, N], a product's filter (t = d)
  const asFilter = (t: tf.Tensor) => tf.transpose(split(t), [3, 0, 2, 1]);

  const core = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [qq, kk, vv, bb] = args.slice(0, -1) as tf.Tensor[];
    const qSwapped = swapTokens(split(qq)); // kept for dK
    let logits: tf.Tensor = depthwise(asInput(qSwapped), asFilter(kk), N, d, c, N); // [N_i, Bw·h, N_j]
    if (bb)
      logits = tf.add(
        tf.reshape(logits, [N, Bw, h, N]),
        tf.reshape(tf.transpose(bb, [1, 0, 2]), [N, 1, h, N]),
      );
    if (mask) {
      const nW = mask.shape[0];
      logits = tf.add(
        tf.reshape(logits, [N, Bw / nW, nW, h, N]),
        tf.reshape(tf.transpose(mask, [1, 0, 2]), [N, 1, nW, 1, N]),
      );
    }
    const p = tf.softmax(tf.reshape(logits, [N, c, N]));
    const o = depthwise(tf.transpose(p, [0, 2, 1]), swapTokens(split(vv)), N, N, c, d);
    save([qSwapped, kk, vv, p]);
    return {
      value: toTokens(tf.reshape(o, [N, Bw, h, d])),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [qSwapped, ks, vs, ps] = saved;
          const dySwapped = swapTokens(split(dy));
          const dP = depthwise(asInput(dySwapped), asFilter(vs), N, d, c, N); // [N_i, Bw·h, N_j]
          const dL = tf.mul(ps, tf.sub(dP, tf.sum(tf.mul(ps, dP), -1, true)));
          // dV[j] = Σ_i P[i, j]·dO[i], dQ[i] = Σ_j dL[i, j]·K[j], dK[j] = Σ_i dL[i, j]·Q[i]
          const pT = tf.transpose(ps, [2, 0, 1]);
          const dV = depthwise(pT, dySwapped, N, N, c, d);
          const dQ = depthwise(tf.transpose(dL, [0, 2, 1]), swapTokens(split(ks)), N, N, c, d);
          const dK = depthwise(tf.transpose(dL, [2, 0, 1]), qSwapped, N, N, c, d);
          const back = (t: tf.Tensor) => toTokens(tf.reshape(t, [N, Bw, h, d]));
          const grads = [back(dQ), back(dK), back(dV)];
          if (bb) {
            // dBias[head, i, j] = Σ over windows of dL
            const perWindow = tf.reshape(tf.transpose(tf.reshape(dL, [N, Bw, h * N]), [1, 0, 2]), [
              Bw,
              N * h * N,
            ]);
            grads.push(
              tf.transpose(tf.reshape(sumRows(perWindow as tf.Tensor2D), [N, h, N]), [1, 0, 2]),
            );
          }
          return grads;
        }),
    };
  });
  return tf.tidy(() => (bias ? core(q, k, v, bias) : core(q, k, v)) as tf.Tensor3D);
}
