/**
 * Per-token layers: Linear, LayerNorm, GELU, MLP, drop-path, position embedding,
 * and the weight-layout conversions from PyTorch.
 *
 * Weight layout convention for all of src/ops: a Linear weight is `[in, out]`
 * (PyTorch's `[out, in]` transposed, see {@link linearWeightFromTorch}); a
 * bias is `[out]`; a LayerNorm has `weight`/`bias` of `[C]`. Convolutions are
 * passed already flattened to Linear weights (see {@link convWeightToLinear}).
 *
 * Every function here returns a new tensor and leaks nothing (tf.tidy inside).
 */
import * as tf from '#tfjs';
import { GELU, GELU_GRAD } from '../backend/wasm-gelu.ts';
import { transposesAreFree } from '../backend/wasm-gemm.ts';
import { LAYER_NORM, LAYER_NORM_GRAD, SUM_ROWS } from '../backend/wasm-layer-norm.ts';
import { saveNonVariables } from './tape.ts';

/** LayerNorm parameters, PyTorch's `norm.weight` / `norm.bias`, each `[C]`. */
export interface NormWeights {
  weight: tf.Tensor1D;
  bias: tf.Tensor1D;
}

/** Linear parameters: `weight` is `[in, out]` (PyTorch's transposed), `bias` `[out]` or absent. */
export interface LinearWeights {
  weight: tf.Tensor2D;
  bias?: tf.Tensor1D;
}

/** MLP parameters (`mlp.fc1`, `mlp.fc2`): fc1 `[C, hidden]`, fc2 `[hidden, C]`. */
export interface MlpWeights {
  fc1: LinearWeights;
  fc2: LinearWeights;
}

export const LAYER_NORM_EPS = 1e-5;

/** Whether the current backend has kernel `name` (ours: wasm and webgpu register them, cpu and webgl do not). */
const onCurrentBackend = (name: string) => tf.getKernel(name, tf.getBackend()) !== undefined;

/**
 * Sums over the rows of `[M, n]` → `[n]`, for gradients (no gradient of its
 * own on wasm): there one pass of the backend's row-sum kernel
 * (src/backend/wasm-layer-norm.ts), elsewhere the product `1ᵀ·t` (wasm's
 * Sum over the first axis would transpose the whole array first).
 */
export function sumRows(t: tf.Tensor2D): tf.Tensor1D {
  if (tf.getBackend() === 'wasm' && tf.getKernel(SUM_ROWS, 'wasm'))
    return tf.engine().runKernel(SUM_ROWS, { x: t }) as tf.Tensor1D;
  return tf.reshape(tf.matMul(tf.fill([1, t.shape[0]], 1), t), [t.shape[1]]);
}

/** Swaps the last two axes. */
export function swapLast<T extends tf.Tensor>(x: T): T {
  const perm = [...Array(x.rank).keys()];
  [perm[x.rank - 2], perm[x.rank - 1]] = [perm[x.rank - 1], perm[x.rank - 2]];
  return tf.transpose(x, perm);
}

/** A batch of one: rank 2, or leading axes of size 1. */
const single = (t: tf.Tensor) => t.shape.slice(0, -2).every((d) => d === 1);

/**
 * a·b over the last two axes with either operand transposed (the products of
 * a matMul gradient). Where the flags cost nothing the product takes them:
 * on webgpu/webgl/cpu (one kernel, one WebGPU dispatch, no transpose) and
 * for a batch of one on wasm, where our kernel reads either operand through
 * strides (src/backend/wasm-gemm.ts). tfjs-wasm's own (XNNPACK: batched
 * products, or no SIMD) runs a transposed operand 7–12× slower than
 * transposing first, so there the transposes are explicit. Its right operand
 * is packed on every call (its tensor is new each step), which costs ~2.5 ns
 * an element more than the ~1 of a transpose: so aᵀ·b (a `[…, M, p]`, b
 * `[…, M, q]`, as in a weight gradient xᵀ·dy with M rows the large side)
 * packs the narrower of the two, transposing the wider and then, when a was
 * the narrower, the small `[p, q]` result.
 */
export function transposedProduct<T extends tf.Tensor>(a: T, b: T, ta: boolean, tb: boolean): T {
  if (tf.getBackend() !== 'wasm' || (single(a) && single(b) && transposesAreFree()))
    return tf.matMul(a, b, ta, tb) as T;
  if (ta && !tb && a.shape[a.rank - 1] < b.shape[b.rank - 1])
    return swapLast(tf.matMul(swapLast(b), a)) as T;
  return tf.matMul(ta ? swapLast(a) : a, tb ? swapLast(b) : b) as T;
}

/** `t` as `shape` (the same tensor when it has that shape already: a reshape is a kernel call). */
export function reshapeTo<T extends tf.Tensor>(t: tf.Tensor, shape: number[]): T {
  return (
    t.shape.length === shape.length && t.shape.every((n, i) => n === shape[i])
      ? t
      : tf.reshape(t, shape)
  ) as T;
}

/**
 * `a·b (+ bias)` of `[1, M, K]` and `[1, K, N]`, the bias added in the
 * product's output pass (one kernel: no second pass over `[M, N]`, one
 * WebGPU dispatch), for a custom gradient's forward: off the tape.
 */
export function productPlusBias(a: tf.Tensor, b: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  if (!bias) return tf.matMul(a, b);
  const attrs = { transposeA: false, transposeB: false, activation: 'linear' };
  return tf.engine().runKernel(tf._FusedMatMul, { a, b, bias }, attrs) as tf.Tensor;
}

/**
 * `x·W (+ b)` over the last axis of x, any rank ≥ 2, as one custom gradient
 * (one node on the tape, x and W saved): the reshapes to and from the rows
 * `[M, in]` run inside it, off the tape, where a reshape recorded on the tape
 * also saves its input and adds a reshape to the backward pass. The gradient
 * is written as products (dx = dy·Wᵀ, dW = xᵀ·dy, db = 1ᵀ·dy; see
 * transposedProduct): no Sum over the rows for the bias, slow on wasm, and no
 * transpose where the products take the flags. The forward is one product
 * kernel ({@link productPlusBias}).
 */
const affine = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const save = args[args.length - 1] as tf.GradSaveFunc;
  const [x, w, b] = args.slice(0, -1) as [tf.Tensor, tf.Tensor2D, tf.Tensor1D | undefined];
  const [K, N] = w.shape;
  const M = x.size / K;
  const restore = saveNonVariables(save, [x, w]);
  const a = tf.reshape(x, [1, M, K]);
  const w3 = tf.reshape(w, [1, K, N]);
  return {
    value: tf.reshape(productPlusBias(a, w3, b), [...x.shape.slice(0, -1), N]),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [xs, ws] = restore(saved) as [tf.Tensor, tf.Tensor2D];
        const d = reshapeTo<tf.Tensor2D>(dy, [M, N]);
        const grads = [
          reshapeTo(transposedProduct(d, ws, false, true), xs.shape),
          transposedProduct(reshapeTo<tf.Tensor2D>(xs, [M, K]), d, true, false),
        ];
        return b ? [...grads, sumRows(d)] : grads;
      }),
  };
});

/**
 * `a + b` for tensors of one shape (a residual connection), one custom
 * gradient: tfjs's Add saves both inputs (for a broadcast it does not have
 * here) and reshapes dy once per input in its backward pass. The gradient of
 * each is a copy of dy (a buffer shared, no kernel work): not dy itself, which
 * the caller may own (tf.grads's dy) or the tape may free when it adds to it.
 */
const addSameShape = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.add(args[0] as tf.Tensor, args[1] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => [tf.clone(dy), tf.clone(dy)],
}));

/** `a + b`, both of one shape. */
export function addSame<T extends tf.Tensor>(a: T, b: T): T {
  if (a.shape.join() !== b.shape.join())
    throw new Error(`addSame: shapes ${a.shape.join('×')} and ${b.shape.join('×')} differ`);
  return addSameShape(a, b) as T;
}

/** `x · W + b` on the last axis of a tensor of any rank ≥ 2. */
export function linear<T extends tf.Tensor>(x: T, w: LinearWeights): T {
  const inF = x.shape[x.rank - 1];
  const wIn = w.weight.shape[0];
  if (wIn !== inF) throw new Error(`linear: input has ${inF} features, weight expects ${wIn}`);
  return (w.bias ? affine(x, w.weight, w.bias) : affine(x, w.weight)) as T;
}

/**
 * LayerNorm of rows `[M, C]` with its analytic gradient: with g = dy·γ and
 * x̂ the normalised rows, dx = (g − mean(g) − x̂·mean(g·x̂))/σ, dγ = Σ dy·x̂,
 * dβ = Σ dy (row sums as products): a third of the kernels autodiff runs,
 * and no transposes.
 */
const layerNormRows = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, gamma, beta, eps, save] = args as [
    tf.Tensor2D,
    tf.Tensor1D,
    tf.Tensor1D,
    tf.Scalar,
    tf.GradSaveFunc,
  ];
  const mean = tf.mean(x, 1, true);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.square(xc), 1, true);
  const rstd = tf.rsqrt(tf.add(variance, eps));
  const xhat = tf.mul(xc, rstd);
  const restore = saveNonVariables(save, [xhat, rstd, gamma]);
  return {
    value: tf.add(tf.mul(xhat, gamma), beta),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [xh, rs, ga] = restore(saved) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
        const d = dy as tf.Tensor2D;
        const g = tf.mul(d, ga);
        const gx = tf.mean(tf.mul(g, xh), 1, true);
        const centred = tf.sub(tf.sub(g, tf.mean(g, 1, true)), tf.mul(xh, gx));
        return [
          tf.mul(centred, rs),
          sumRows(tf.mul(d, xh) as tf.Tensor2D),
          sumRows(d),
          tf.zerosLike(eps),
        ];
      }),
  };
});

/**
 * LayerNorm as fused kernels where the backend has them (wasm:
 * src/backend/wasm-layer-norm.ts; webgpu: webgpu-fused.ts): one kernel
 * forward, one backward, on x of any rank; it saves only x and γ
 * (the backward computes the rows' moments again).
 */
function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number) {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, ga, be, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const restore = saveNonVariables(save, [xx, ga]);
    return {
      value: tf
        .engine()
        .runKernel(LAYER_NORM, { x: xx, gamma: ga, beta: be }, { eps }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, gs] = restore(saved);
        return tf
          .engine()
          .runKernel(LAYER_NORM_GRAD, { dy, x: xs, gamma: gs }, { eps }) as tf.Tensor[];
      },
    };
  });
  return op(x, gamma, beta);
}

/** LayerNorm over the last axis, biased variance, eps 1e-5 (PyTorch's nn.LayerNorm). */
export function layerNorm<T extends tf.Tensor>(x: T, w: NormWeights, eps = LAYER_NORM_EPS): T {
  return tf.tidy(() => {
    if (onCurrentBackend(LAYER_NORM)) return fusedLayerNorm(x, w.weight, w.bias, eps) as T;
    const C = x.shape[x.rank - 1];
    const rows = tf.reshape(x, [-1, C]) as tf.Tensor2D;
    return tf.reshape(layerNormRows(rows, w.weight, w.bias, tf.scalar(eps)), x.shape) as T;
  });
}

const GELU_PDF_SCALE = 1 / Math.sqrt(2 * Math.PI);

/**
 * e^z for z ≤ 0. On wasm as elu(z) + 1 (elu is e^z − 1 below 0): its Elu
 * runs vectorised (XNNPACK), ~7× faster than its element-by-element Exp.
 */
export function expNonPositive(z: tf.Tensor): tf.Tensor {
  return tf.getBackend() === 'wasm' ? tf.add(tf.elu(z), 1) : tf.exp(z);
}

/**
 * Exact GELU with its analytic gradient: GELU(x) = x·Φ(x), GELU'(x) =
 * Φ(x) + x·φ(x) with Φ(x) = ½(1 + erf(x/√2)) and φ(x) = e^(−x²/2)/√(2π).
 * Autodiff through erf runs three times the kernels.
 */
const geluExact = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5);
  save([x, cdf]);
  return {
    value: tf.mul(x, cdf),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.tidy(() => {
        const [xs, c] = saved;
        const pdf = tf.mul(expNonPositive(tf.mul(tf.square(xs), -0.5)), GELU_PDF_SCALE);
        return [tf.mul(dy, tf.add(c, tf.mul(xs, pdf)))];
      }),
  };
});

/**
 * GELU as one kernel each way where the backend has them (wasm:
 * src/backend/wasm-gelu.ts; webgpu: webgpu-fused.ts); the backward
 * recomputes Φ from x.
 */
const fusedGelu = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.engine().runKernel(GELU, { x }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      tf.engine().runKernel(GELU_GRAD, { dy, x: saved[0] }) as tf.Tensor,
  };
});

/** Exact GELU, `0.5·x·(1 + erf(x/√2))` (PyTorch's default nn.GELU). */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => (onCurrentBackend(GELU) ? (fusedGelu(x) as T) : (geluExact(x) as T)));
}

/** Linear → GELU → Linear. */
export function mlp<T extends tf.Tensor>(x: T, w: MlpWeights): T {
  return tf.tidy(() => linear(gelu(linear(x, w.fc1)), w.fc2));
}

/**
 * Drop-path (stochastic depth) settings. `training` false (inference) or
 * `rate` 0 makes drop-path the identity. `seed` makes the draw reproducible.
 */
export interface DropPathOptions {
  rate: number;
  training: boolean;
  seed?: number;
}

/**
 * Per-sample drop-path: each sample of the batch (axis 0) is kept with
 * probability `1 − rate` and then scaled by `1 / (1 − rate)`, or zeroed.
 */
export function dropPath<T extends tf.Tensor>(x: T, opts?: DropPathOptions): T {
  if (!opts || !opts.training || opts.rate <= 0) return tf.clone(x);
  if (opts.rate >= 1) throw new Error(`dropPath: rate ${opts.rate} must be < 1`);
  const keep = 1 - opts.rate;
  const shape = [x.shape[0], ...new Array(x.rank - 1).fill(1)];
  // one node on the tape, the scaled mask saved: the mask's kernels run off the tape
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xx, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const u = tf.randomUniform(shape, 0, 1, 'float32', opts.seed);
    const mask = tf.floor(tf.add(u, keep)); // 1 with probability keep, else 0
    const scaled = tf.div(mask, keep);
    save([scaled]);
    return {
      value: tf.mul(xx, scaled),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(dy, saved[0]),
    };
  });
  return tf.tidy(() => op(x) as T);
}

/**
 * A residual branch after drop-path with the block's seed moved by `offset`
 * (the attention branch 0, the MLP branch 1), or the branch itself (no copy)
 * when nothing is dropped.
 */
export function dropBranch<T extends tf.Tensor>(
  t: T,
  opts: DropPathOptions | undefined,
  offset: number,
): T {
  if (!opts || !opts.training || opts.rate <= 0) return t;
  return dropPath(t, opts.seed === undefined ? opts : { ...opts, seed: opts.seed + offset });
}

/** Adds a learned position table `[L, C]` to tokens `[B, L, C]`. */
export function addPositionEmbedding(x: tf.Tensor3D, table: tf.Tensor2D): tf.Tensor3D {
  if (x.shape[1] !== table.shape[0] || x.shape[2] !== table.shape[1]) {
    throw new Error(`position embedding ${table.shape} does not fit tokens ${x.shape}`);
  }
  return tf.add(x, table);
}

/** PyTorch Linear weight `[out, in]` → ours `[in, out]`. */
export function linearWeightFromTorch(w: tf.Tensor2D): tf.Tensor2D {
  return tf.transpose(w, [1, 0]);
}

/**
 * PyTorch conv weight `[out, in, k1, k2]` (k×k kernel, stride k) → Linear
 * weight `[k1·k2·in, out]` for tokens patchified in (row, col, channel)
 * order: `W_lin[(i·k + j)·Cin + c, o] = W_conv[o, c, i, j]`. A 1×1 conv gives
 * `W_lin[c, o] = W[o, c, 0, 0]`.
 */
export function convWeightToLinear(w: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const [o, c, k1, k2] = w.shape;
    return tf.reshape(tf.transpose(w, [2, 3, 1, 0]), [k1 * k2 * c, o]) as tf.Tensor2D;
  });
}
