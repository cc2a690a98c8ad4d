/**
 * Window attention over a 3D window batch (3D-MAM-SPEC.md §c.5, §c.9):
 * softmax(q·kᵀ/√hd + bias + mask)·v on `[B·nW, heads, N, hd]`, windows
 * ordered (batch, window).
 *
 * Its logits are the big tensors of a 3D transformer: at 96³ SwinUNETR's
 * first stage has 343 windows × 3 heads × 343² of them, 484 MiB a tensor,
 * and wasm's heap ends at 4 GiB. Without a gradient tape nothing reads them
 * after the softmax·v, so the windows go through in chunks whose logits stay
 * under {@link ATTENTION_CHUNK_BYTES}, each chunk's temporaries freed before
 * the next. Under a tape (training, or gradients of an eval-mode forward)
 * the tape keeps every chunk's logits anyway: all windows are one chunk.
 * q, k and v are whole (they are the size of the tokens), so q̂, the MAM
 * memory, is the same whatever the chunking.
 *
 * On wasm (stridedProductsHere) the products are our strided batched
 * product (batched-product.ts): q·kᵀ and P·v, and in training the four of
 * the gradient (dP = dy·vᵀ, dV = Pᵀ·dy, dQ = dL·k, dK = dLᵀ·q) in one custom
 * gradient, each reading its operands in place from `[B·nW, heads, N, hd]`
 * (kᵀ is k through swapped strides) and a chunk's windows through an
 * offset and the sample's stride, so no transpose and no slice. tfjs's
 * wasm BatchMatMul runs a batch above 1 as a scalar loop. Elsewhere tfjs's
 * batched matMul.
 */
import * as tf from '#tfjs';
import { stridedProduct, stridedProductsHere, type StridedOperand } from './batched-product.ts';
import { sumRows } from './layers.ts';
import { tapeActive, thenFree } from './tape.ts';

/**
 * The most bytes one chunk's `[B·count, heads, N, N]` logits take in
 * inference: a chunk holds two of them at once (each step is freed once the
 * next is made) plus its shift-mask slice. 64 MiB keeps the attention of a
 * 96³ SwinUNETR stage 1 under 200 MiB (8 chunks of 47 windows). A single
 * window's logits over the batch may exceed it: a chunk is at least one window.
 */
export const ATTENTION_CHUNK_BYTES = 64 * 2 ** 20;

export interface WindowAttention3dOptions {
  /** Relative-position bias `[heads, N, N]`, shared by every window. */
  bias: tf.Tensor3D;
  /** Samples in the window batch (the window axis is `batch·nW`). */
  batch: number;
  /** Shift-mask slices, for windows `first … first+count−1` of a sample: `[count, N, N]` (new tensors, freed here once added), or undefined where none mixes regions. */
  mask?: (first: number, count: number) => tf.Tensor3D | undefined;
  /** Logit bytes a chunk may take; {@link ATTENTION_CHUNK_BYTES} unless given. */
  chunkBytes?: number;
}

/** Windows per chunk: as many as fit the budget (at least one), every window under a tape. */
export function attentionChunk3d(
  shape: { batch: number; windows: number; heads: number; tokens: number },
  chunkBytes = ATTENTION_CHUNK_BYTES,
): number {
  if (tapeActive()) return shape.windows;
  const perWindow = shape.batch * shape.heads * shape.tokens ** 2 * Float32Array.BYTES_PER_ELEMENT;
  return Math.min(shape.windows, Math.max(1, Math.floor(chunkBytes / perWindow)));
}

/** q (unscaled), k, v `[B·nW, heads, N, hd]` → softmax(q·kᵀ/√hd + bias + mask)·v, same shape. */
export function windowAttention3d(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  o: WindowAttention3dOptions,
): tf.Tensor4D {
  if (stridedProductsHere()) return stridedAttention3d(q, k, v, o);
  const [BW, heads, N, hd] = q.shape;
  const B = o.batch;
  const nW = BW / B;
  const size = attentionChunk3d({ batch: B, windows: nW, heads, tokens: N }, o.chunkBytes);
  const attend = (
    qc: tf.Tensor4D,
    kc: tf.Tensor4D,
    vc: tf.Tensor4D,
    first: number,
    count: number,
  ) => {
    let logits = tf.matMul(tf.mul(qc, 1 / Math.sqrt(hd)), kc, false, true);
    logits = thenFree(logits, (l) => tf.add(l, o.bias));
    const mask = o.mask?.(first, count);
    if (mask)
      logits = thenFree(logits, (l) => {
        const l5 = tf.reshape(l, [B, count, heads, N, N]);
        const m4 = tf.expandDims(mask, 1);
        const masked = tf.add(l5, m4);
        const out = tf.reshape(masked, [B * count, heads, N, N]);
        // the views share buffers: drop them too, or l's (and the mask's) buffer outlives it
        if (!tapeActive()) tf.dispose([l5, masked, m4, mask]);
        return out;
      });
    return thenFree(thenFree(logits, tf.softmax), (p) => tf.matMul(p, vc)) as tf.Tensor4D;
  };
  if (size === nW) return tf.tidy(() => attend(q, k, v, 0, nW));
  // chunks of windows first … first+size−1 of every sample, on rank-3 views (wasm's Slice is slow on rank 5)
  const row = heads * N * hd;
  return tf.tidy(() => {
    const [q3, k3, v3] = [q, k, v].map((t) => tf.reshape(t, [B, nW, row]) as tf.Tensor3D);
    const parts: tf.Tensor3D[] = [];
    for (let first = 0; first < nW; first += size) {
      const count = Math.min(size, nW - first);
      const pick = (t: tf.Tensor3D) =>
        tf.reshape(tf.slice(t, [0, first, 0], [B, count, row]), [
          B * count,
          heads,
          N,
          hd,
        ]) as tf.Tensor4D;
      parts.push(
        tf.tidy(() => {
          const att = attend(pick(q3), pick(k3), pick(v3), first, count);
          return tf.reshape(att, [B, count, row]) as tf.Tensor3D;
        }),
      );
    }
    const out = tf.concat(parts, 1);
    tf.dispose(parts);
    return tf.reshape(out, [BW, heads, N, hd]) as tf.Tensor4D;
  });
}

/** {@link windowAttention3d} by the strided product (see the file's comment). */
function stridedAttention3d(
  q: tf.Tensor4D,
  k: tf.Tensor4D,
  v: tf.Tensor4D,
  o: WindowAttention3dOptions,
): tf.Tensor4D {
  const [BW, h, N, hd] = q.shape;
  const B = o.batch;
  const nW = BW / B;
  const size = attentionChunk3d({ batch: B, windows: nW, heads: h, tokens: N }, o.chunkBytes);
  const tok = N * hd;
  // A chunk, windows first … first+count−1 of every sample, is a batch of
  // B samples × count·h (window, head) matrices, contiguous within a sample.
  // A `[B·nW, h, N, hd]` operand's matrix [N, hd] (or transposed [hd, N]):
  const tokens = (t: tf.Tensor, first: number, transposed = false): StridedOperand => ({
    t,
    strides: transposed ? [nW * h * tok, tok, 1, hd] : [nW * h * tok, tok, hd, 1],
    offset: first * h * tok,
  });
  // a chunk's scores `[B·count, h, N, N]` as [N, N], or transposed
  const scores = (t: tf.Tensor, count: number, transposed = false): StridedOperand => ({
    t,
    strides: transposed ? [count * h * N * N, N * N, 1, N] : [count * h * N * N, N * N, N, 1],
  });
  // [N, hd]·[hd, N] → scores `[B·count, h, N, N]`; [N, N]·[N, hd] → `[B·count, h, N, hd]`
  const toScores = (a: StridedOperand, b: StridedOperand, count: number) =>
    stridedProduct(
      a,
      b,
      [N, N, hd],
      [B, count * h],
      [count * h * N * N, N * N, N],
      [B * count, h, N, N],
    );
  const toTokens = (a: StridedOperand, b: StridedOperand, count: number) =>
    stridedProduct(
      a,
      b,
      [N, hd, N],
      [B, count * h],
      [count * h * tok, tok, hd],
      [B * count, h, N, hd],
    ) as tf.Tensor4D;
  /** `l` as `shape` plus `x` as `xShape` (broadcast); frees `l` and both views at once. */
  const plus = (l: tf.Tensor, shape: number[], x: tf.Tensor, xShape: number[]) => {
    const [lv, xv] = [tf.reshape(l, shape), tf.reshape(x, xShape)];
    const sum = tf.add(lv, xv);
    tf.dispose([l, lv, xv]);
    return sum;
  };
  /** softmax(q·kᵀ + bias + mask) of a chunk, q scaled, its logits freed as it goes: `[B·count, h, N, N]`. */
  const probabilities = (
    qs: tf.Tensor,
    kk: tf.Tensor,
    bias: tf.Tensor,
    first: number,
    count: number,
  ): tf.Tensor => {
    let l = toScores(tokens(qs, first), tokens(kk, first, true), count);
    l = plus(l, [B * count, h * N * N], bias, [h * N * N]);
    const mask = o.mask?.(first, count);
    if (mask) {
      l = plus(l, [B, count, h, N * N], mask, [count, 1, N * N]);
      mask.dispose();
    }
    const lv = tf.reshape(l, [B * count, h, N, N]);
    const p = tf.softmax(lv);
    tf.dispose([l, lv]);
    return p;
  };
  // the whole window batch, with the gradient: dL = P ⊙ (dP − Σ_j P·dP), dBias = Σ over windows of dL
  const core = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args[4] as tf.GradSaveFunc;
    const [qs, kk, vv, bias] = args.slice(0, 4) as tf.Tensor[];
    const p = probabilities(qs, kk, bias, 0, nW);
    save([qs, kk, vv, p]);
    return {
      value: toTokens(scores(p, nW), tokens(vv, 0), nW),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.tidy(() => {
          const [qv, kv, vs, ps] = saved;
          const dP = toScores(tokens(dy, 0), tokens(vs, 0, true), nW);
          const dL = tf.mul(ps, tf.sub(dP, tf.sum(tf.mul(ps, dP), -1, true)));
          return [
            toTokens(scores(dL, nW), tokens(kv, 0), nW),
            toTokens(scores(dL, nW, true), tokens(qv, 0), nW),
            toTokens(scores(ps, nW, true), tokens(dy, 0), nW),
            tf.reshape(sumRows(tf.reshape(dL, [BW, h * N * N]) as tf.Tensor2D), [h, N, N]),
          ];
        }),
    };
  });
  return tf.tidy(() => {
    const qs = tf.mul(q, 1 / Math.sqrt(hd));
    if (size === nW) return core(qs, k, v, o.bias) as tf.Tensor4D;
    // inference: a chunk at a time, each chunk's logits freed before the next
    const parts: tf.Tensor[] = [];
    for (let first = 0; first < nW; first += size) {
      const count = Math.min(size, nW - first);
      const p = probabilities(qs, k, o.bias, first, count);
      const out = toTokens(scores(p, count), tokens(v, first), count);
      parts.push(tf.reshape(out, [B, count * h * tok]));
      tf.dispose([p, out]);
    }
    const out = tf.concat(parts, 1);
    tf.dispose(parts);
    return tf.reshape(out, [BW, h, N, hd]) as tf.Tensor4D;
  });
}
