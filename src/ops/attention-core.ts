/**
 * The core of window attention on wasm, softmax(q·kᵀ + bias + mask)·v per
 * window and head, with its gradient, in one custom gradient whose five
 * products (q·kᵀ, P·v; dP = dy·vᵀ, dV = Pᵀ·dy, dQ = dL·k, dK = dLᵀ·q) are
 * strided batched products (batched-product.ts): each reads q, k, v, dy
 * per window and head in place from their `[Bw, N, h·d]` layout (kᵀ is k
 * read with its strides swapped) and writes the logits' `[Bw, h, N, N]` or
 * the tokens' `[Bw, N, h·d]` directly, so the unit runs no transpose at all
 * (the softmax runs on the logits' last axis as they are).
 */
import * as tf from '#tfjs';
import { stridedProduct, type StridedOperand } from './batched-product.ts';
import { sumRows } from './layers.ts';

/**
 * `softmax(q·kᵀ + bias + mask)·v` for q, k, v `[Bw, N, C]` (k scaled
 * already) of `heads` heads, bias `[h, N, N]`, mask `[nW, N, N]` (Bw a
 * multiple of nW, batch outermost); returns `[Bw, N, C]`. The gradient
 * reaches q, k, v and the bias; the mask is a constant. Needs the strided
 * product on the current backend (stridedProductsHere).
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
  // a window's head of tokens [Bw, N, h·d] as [N, d], or transposed [d, N]
  const tokens = (t: tf.Tensor, transposed = false): StridedOperand => ({
    t,
    strides: transposed ? [N * C, d, 1, C] : [N * C, d, C, 1],
  });
  // a window's head of scores [Bw, h, N, N] as [N, N], or transposed
  const scores = (t: tf.Tensor, transposed = false): StridedOperand => ({
    t,
    strides: transposed ? [h * N * N, N * N, 1, N] : [h * N * N, N * N, N, 1],
  });
  const batch: [number, number] = [Bw, h];
  // [N, d]·[d, N] → scores [Bw, h, N, N]; [N, N]·[N, d] → tokens [Bw, N, h·d]
  const toScores = (a: StridedOperand, b: StridedOperand) =>
    stridedProduct(a, b, [N, N, d], batch, [h * N * N, N * N, N], [Bw, h, N, N]);
  const toTokens = (a: StridedOperand, b: StridedOperand) =>
    stridedProduct(a, b, [N, d, N], batch, [N * C, d, C], [Bw, N, C]) as tf.Tensor3D;

  const core = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const [qq, kk, vv, bb] = args.slice(0, -1) as tf.Tensor[];
    let logits = toScores(tokens(qq), tokens(kk, true));
    // bias and mask first added to each other ([nW, h, N, N], small), then to the logits once
    let added: tf.Tensor | null = bb ?? null;
    if (mask) {
      const nW = mask.shape[0];
      const masked = tf.reshape(mask, [nW, 1, N, N]);
      added = added ? tf.add(added, masked) : tf.tile(masked, [1, h, 1, 1]);
    }
    if (added) {
      const per = added.size;
      logits = tf.reshape(
        tf.add(tf.reshape(logits, [(Bw * h * N * N) / per, per]), tf.reshape(added, [per])),
        [Bw, h, N, N],
      );
    }
    const p = tf.softmax(logits);
    save([qq, kk, vv, p]);
    return {
      value: toTokens(scores(p), tokens(vv)),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [qs, ks, vs, ps] = saved;
          const dP = toScores(tokens(dy), tokens(vs, true));
          const dL = tf.mul(ps, tf.sub(dP, tf.sum(tf.mul(ps, dP), -1, true)));
          const grads = [
            toTokens(scores(dL), tokens(ks)),
            toTokens(scores(dL, true), tokens(qs)),
            toTokens(scores(ps, true), tokens(dy)),
          ];
          // dBias[head, i, j] = Σ over windows of dL
          if (bb)
            grads.push(
              tf.reshape(sumRows(tf.reshape(dL, [Bw, h * N * N]) as tf.Tensor2D), [h, N, N]),
            );
          return grads;
        }),
    };
  });
  return tf.tidy(() => (bias ? core(q, k, v, bias) : core(q, k, v)) as tf.Tensor3D);
}
