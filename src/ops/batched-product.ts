/**
 * Batched products where each operand is read in place through strides: on
 * wasm one kernel of ours (src/backend/wasm-batched-product.ts, our SIMD
 * product per batch entry). tfjs-backend-wasm runs BatchMatMul with a batch
 * above 1 in a plain loop (~2 GFLOP/s here), and window attention is
 * thousands of tiny products (16×16·16×16 per window and head); reading the
 * operands through strides also makes every transposed operand of a
 * gradient free. Elsewhere (cpu, webgl, webgpu) tfjs's batched matMul, one
 * kernel (one WebGPU dispatch).
 */
import * as tf from '#tfjs';
import {
  BATCHED_PRODUCT,
  type BatchedProductAttrs,
  type OperandStrides,
} from '../backend/wasm-batched-product.ts';

/** Whether the current backend runs our strided batched product (wasm). */
export const stridedProductsHere = (): boolean =>
  tf.getKernel(BATCHED_PRODUCT, tf.getBackend()) !== undefined;

/** An operand of a strided product: the tensor and where A(i, k) (or B(k, j)) of a batch entry sits. */
export interface StridedOperand {
  t: tf.Tensor;
  strides: OperandStrides;
  /** Element of the first batch entry's (0, 0); 0 unless given. */
  offset?: number;
}

/**
 * The batch of products `a · b` over `windows × heads` entries (M × K by K × N
 * each) written into a tensor of `shape` with C's rows at `c` (element
 * strides of window, head, row); by the kernel, no gradient of its own.
 */
export function stridedProduct(
  a: StridedOperand,
  b: StridedOperand,
  [M, N, K]: [number, number, number],
  [windows, heads]: [number, number],
  c: [number, number, number],
  shape: number[],
): tf.Tensor {
  const attrs: BatchedProductAttrs = {
    M,
    N,
    K,
    windows,
    heads,
    a: a.strides,
    b: b.strides,
    c,
    shape,
    ...(a.offset ? { aOffset: a.offset } : {}),
    ...(b.offset ? { bOffset: b.offset } : {}),
  };
  return tf
    .engine()
    .runKernel(
      BATCHED_PRODUCT,
      { a: a.t, b: b.t },
      attrs as unknown as tf.NamedAttrMap,
    ) as tf.Tensor;
}

/** `[B, r, s]` read as its B matrices `r × s`, or (transposed) as `s × r`. */
const matrices = (t: tf.Tensor, transposed = false): StridedOperand => {
  const [r, s] = t.shape.slice(1);
  return { t, strides: transposed ? [r * s, 0, 1, s] : [r * s, 0, s, 1] };
};

/** The kernel's `[B, n, k] · [B, k, m]`; `ta`/`tb`: a stored `[B, k, n]`, b `[B, m, k]`. */
function strided(a: tf.Tensor3D, b: tf.Tensor3D, ta: boolean, tb: boolean): tf.Tensor3D {
  const [B, r, s] = a.shape;
  const [n, k] = ta ? [s, r] : [r, s];
  const m = tb ? b.shape[1] : b.shape[2];
  return stridedProduct(
    matrices(a, ta),
    matrices(b, tb),
    [n, m, k],
    [B, 1],
    [n * m, 0, m],
    [B, n, m],
  ) as tf.Tensor3D;
}

const product = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [a, b, save] = args as [tf.Tensor3D, tf.Tensor3D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: strided(a, b, false, false),
    // da = dy·bᵀ, db = aᵀ·dy, the transposed operands read in place
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [as, bs] = saved as [tf.Tensor3D, tf.Tensor3D];
      const d = dy as tf.Tensor3D;
      return [strided(d, bs, false, true), strided(as, d, true, false)];
    },
  };
});

/** `a · b` per batch entry, for a `[..., n, k]` and b `[..., k, m]` with the same leading axes. */
export function batchedProduct<T extends tf.Tensor>(a: T, b: T): T {
  if (!stridedProductsHere()) return tf.matMul(a, b);
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
