/**
 * Multi-head self-attention (SAM) and memory-attention (MAM), in window form
 * (Swin W-MSA / SW-MSA) and global form (ViT). MAM-SPEC.md §1–2.
 *
 * ## Weights (`AttentionWeights`)
 * - `qkv.weight` `[C, 3C]` (PyTorch's `attn.qkv.weight` `[3C, C]` transposed);
 *   its 3C output channels are ordered (q|k|v, head, d): channel
 *   `part·C + head·d + j`. `qkv.bias` `[3C]`.
 * - `proj.weight` `[C, C]` (transposed), `proj.bias` `[C]`.
 * - `relTable` `[(2w_eff−1)², h]`, `attn.relative_position_bias_table` as is
 *   (window form only; absent = no bias).
 *
 * ## Memory contract (what the compiler relies on)
 * A memory tensor is always `[B, L, C]`, `L = H·W`, channels = heads
 * concatenated (`head·d + j`, the same channel order as q). `memOut` is q̂ =
 * q + m_in before the `d^-0.5` scaling. The token axis depends on the layout:
 *
 * - `'window'` (default; the public code): token row `win·N + n` holds the
 *   query of token `n` (row-major in the `w_eff×w_eff` window) of window
 *   `win` (row-major over the `(H/w_eff)×(W/w_eff)` window grid) of the
 *   block's *rolled* grid, i.e. after its own roll by `−shift`. Equivalently:
 *   the public code's `[B·nW, h, N, d]` tensor transposed to
 *   `[B·nW, N, h, d]` and reshaped to `[B, nW·N, C]`. A block reads `m_in`
 *   the same way with its own windows, so memory crosses a shift change
 *   displaced (as the public code does). Requires equal `w_eff` and grid at
 *   both ends.
 * - `'spatial'` (our variant): token row `t = r·W + c` holds pixel (r, c),
 *   i.e. q̂ window-reversed and rolled back by `+shift`; a block partitions
 *   `m_in` with its own shift. Token i's memory is always pixel i's.
 *
 * For global attention the two layouts coincide (grid order).
 *
 * A unit is a MAM unit when `mem` is given (then `memOut` is returned; with
 * `mem.in` absent, `m_in = 0` and no addition is made, so the result equals
 * SAM bit for bit); with `mem` undefined it is SAM and `memOut` is null.
 */
import * as tf from '#tfjs';
import { attentionCore } from './attention-core.ts';
import { batchedProduct, stridedProductsHere } from './batched-product.ts';
import {
  addSame,
  linear,
  productPlusBias,
  sumRows,
  transposedProduct,
  type LinearWeights,
} from './layers.ts';
import { customGradOutputs, saveNonVariables } from './tape.ts';
import {
  fitWindow,
  relativePositionBias,
  shiftMask,
  tokensToWindows,
  windowsToTokens,
  type ConstantCache,
  type Grid,
} from './windows.ts';

export type MemoryLayout = 'window' | 'spatial';

export interface AttentionWeights {
  qkv: LinearWeights;
  proj: LinearWeights;
  relTable?: tf.Tensor2D;
}

/** The memory port of a MAM unit. `in` absent = unconnected (m_in = 0). */
export interface MemoryPort {
  in?: tf.Tensor3D | null;
  layout?: MemoryLayout;
}

export interface AttentionResult {
  y: tf.Tensor3D;
  /** q̂ in the port's layout (see module doc); null for SAM (no `mem`). */
  memOut: tf.Tensor3D | null;
}

/**
 * What a probe sees of one attention unit (only when asked: the normal path
 * computes none of it). `probs` `[Bw, h, N, N]` is the softmax the unit uses;
 * `probsWithoutMemory` the softmax of the same logits without the memory
 * term (q·kᵀ instead of q̂·kᵀ), null for SAM or an unconnected memory.
 * Window rows and slots follow the module doc; `window`/`shift` are the
 * effective ones (global attention: one window of all tokens, shift 0).
 */
export interface AttentionProbeData {
  probs: tf.Tensor4D;
  probsWithoutMemory: tf.Tensor4D | null;
  window: number;
  shift: number;
}

/** Called inside the forward's tidy: read the tensors there (e.g. dataSync), do not keep them. */
export type AttentionProbe = (data: AttentionProbeData) => void;

export interface WindowAttentionOptions {
  heads: number;
  probe?: AttentionProbe;
  /** nominal window; the effective one is `min(window, H, W)` */
  window: number;
  /** nominal shift (0 or ⌊w/2⌋); forced to 0 when `min(H, W) ≤ window` */
  shift: number;
  grid: Grid;
  /** Where the mask and the bias's one-hot matrix are kept (default: built per call). */
  constants?: ConstantCache;
}

export interface GlobalAttentionOptions {
  heads: number;
  probe?: AttentionProbe;
}

function checkMemory(x: tf.Tensor3D, m: tf.Tensor3D): void {
  if (m.shape.join() !== x.shape.join()) {
    throw new Error(`memory ${m.shape.join('×')} does not match tokens ${x.shape.join('×')}`);
  }
}

/**
 * q, k and v as three products of the input with the column blocks of the
 * qkv weight: slicing the small weight costs far less than slicing the
 * `[Bw, N, 3C]` product. The attention scale `d^-0.5` is folded into k's
 * weight and bias (q̂, the memory, stays unscaled, as the spec wants). One
 * custom gradient with three outputs (one node on the tape, x and the weight
 * saved): the slices, the scaling and the reshapes run off the tape, and
 * the backward joins the three gradients into one `[M, 3C]` for its two
 * products (dx = dY·W̃ᵀ, dW̃ = xᵀ·dY, W̃ the scaled weight) instead of
 * padding three weight gradients and adding them.
 */
function projectQkv(x: tf.Tensor3D, qkv: LinearWeights, scale: number): tf.Tensor3D[] {
  const [Bw, N, C] = x.shape;
  const M = Bw * N;
  const { weight, bias } = qkv;
  // 1 for q and v, `scale` for k: the columns of the weight and bias
  const columnScale = () =>
    tf.tensor1d(Float32Array.from({ length: 3 * C }, (_, j) => (j >= C && j < 2 * C ? scale : 1)));
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return customGradOutputs(inputs, (save) => {
    const restore = saveNonVariables(save, [x, weight]);
    const rows = tf.reshape(x, [1, M, C]);
    const w3 = tf.reshape(weight, [1, C, 3 * C]);
    const value = [0, 1, 2].map((i) => {
      let wi = tf.slice(w3, [0, 0, i * C], [1, C, C]);
      let bi: tf.Tensor | undefined = bias && tf.slice(bias, [i * C], [C]);
      if (i === 1) {
        wi = tf.mul(wi, scale);
        bi = bi && tf.mul(bi, scale);
      }
      const y = productPlusBias(rows, wi, bi);
      return tf.reshape(y, [Bw, N, C]);
    });
    return {
      value,
      gradFunc: (dys, saved) =>
        tf.tidy(() => {
          const [xs, ws] = restore(saved) as [tf.Tensor3D, tf.Tensor2D];
          const s = columnScale();
          const dY = tf.reshape(tf.concat(dys, 2), [M, 3 * C]) as tf.Tensor2D;
          const x2 = tf.reshape(xs, [M, C]) as tf.Tensor2D;
          const grads = [
            tf.reshape(transposedProduct(dY, tf.mul(ws, s) as tf.Tensor2D, false, true), xs.shape),
            tf.mul(transposedProduct(x2, dY, true, false), s),
          ];
          return bias ? [...grads, tf.mul(sumRows(dY), s)] : grads;
        }),
    };
  }) as tf.Tensor3D[];
}

/**
 * The per-window, per-head products: on wasm our strided batched product
 * (batched-product.ts: wasm's BatchMatMul loops over the batch, 2–9× slower
 * here), elsewhere BatchMatMul (one kernel, and one dispatch on WebGPU).
 */
const headProduct = (a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D => batchedProduct(a, b);

/**
 * Attention inside windows `[Bw, N, C]` (Bw = B·nW, batch outermost).
 * `bias` `[h, N, N]`, `mask` `[nW, N, N]` (both optional), `memW` in window
 * rows. Returns the projected output and q̂, both `[Bw, N, C]`. On wasm
 * (unless probed) the core is attention-core.ts's, its products read in
 * place without a transpose; elsewhere the heads are transposed out and
 * multiplied by BatchMatMul.
 */
function attendWindows(
  xw: tf.Tensor3D,
  w: AttentionWeights,
  heads: number,
  memW: tf.Tensor3D | null,
  bias: tf.Tensor3D | null,
  mask: tf.Tensor3D | null,
  probe?: (probs: tf.Tensor4D, probsWithoutMemory: tf.Tensor4D | null) => void,
): [tf.Tensor3D, tf.Tensor3D] {
  const [Bw, N, C] = xw.shape;
  if (C % heads !== 0) throw new Error(`channels ${C} not divisible by heads ${heads}`);
  const d = C / heads;
  const [q0, k, v] = projectQkv(xw, w.qkv, d ** -0.5);
  const q: tf.Tensor3D = memW ? addSame(q0, memW) : q0;
  if (stridedProductsHere() && !probe)
    return [linear(attentionCore(q, k, v, heads, bias, mask), w.proj), q];
  const heads4 = (t: tf.Tensor3D, perm: number[]): tf.Tensor4D =>
    tf.transpose(tf.reshape(t, [Bw, N, heads, d]), perm);
  const kT = heads4(k, [0, 2, 3, 1]);
  const softmaxOf = (query: tf.Tensor3D): tf.Tensor4D => {
    // [Bw, h, N, d] · [Bw, h, d, N] → [Bw, h, N, N]
    let attn: tf.Tensor4D = headProduct(heads4(query, [0, 2, 1, 3]), kT);
    if (bias) attn = tf.add(attn, bias);
    if (mask) {
      const nW = mask.shape[0];
      const masked = tf.add(
        tf.reshape(attn, [Bw / nW, nW, heads, N * N]),
        tf.reshape(mask, [nW, 1, N * N]),
      );
      attn = tf.reshape(masked, [Bw, heads, N, N]);
    }
    return tf.softmax(attn);
  };
  const a = softmaxOf(q);
  if (probe) probe(a, memW ? softmaxOf(q0) : null);
  const o = tf.reshape(tf.transpose(headProduct(a, heads4(v, [0, 2, 1, 3])), [0, 2, 1, 3]), [
    Bw,
    N,
    C,
  ]) as tf.Tensor3D;
  return [linear(o, w.proj), q];
}

/**
 * Window multi-head attention (W-MSA, or SW-MSA when the effective shift is
 * non-zero) on tokens `x` `[B, L, C]` of `opts.grid`, with optional memory
 * (MAM). See the module doc for the memory layout contract.
 */
export function windowAttention(
  x: tf.Tensor3D,
  weights: AttentionWeights,
  opts: WindowAttentionOptions,
  mem?: MemoryPort,
): AttentionResult {
  const { grid, heads } = opts;
  const { window: w, shift: s } = fitWindow(grid, opts.window, opts.shift);
  const [B, L, C] = x.shape;
  if (L !== grid.reduce((a, b) => a * b, 1))
    throw new Error(`${L} tokens do not fill grid ${grid.join('×')}`);
  const layout = mem?.layout ?? 'window';
  const out = tf.tidy(() => {
    const xw = tokensToWindows(x, grid, w, s);
    let memW: tf.Tensor3D | null = null;
    if (mem?.in) {
      checkMemory(x, mem.in);
      memW =
        layout === 'window' ? tf.reshape(mem.in, xw.shape) : tokensToWindows(mem.in, grid, w, s);
    }
    const bias = weights.relTable
      ? relativePositionBias(weights.relTable, w, grid.length, opts.constants)
      : null;
    const mask = shiftMask(grid, w, s, opts.constants);
    const probe = opts.probe;
    const [yw, qw] = attendWindows(
      xw,
      weights,
      heads,
      memW,
      bias,
      mask,
      probe &&
        ((probs, probsWithoutMemory) => probe({ probs, probsWithoutMemory, window: w, shift: s })),
    );
    const y = windowsToTokens(yw, grid, w, s);
    if (!mem) return [y];
    const memOut =
      layout === 'window' ? tf.reshape(qw, [B, L, C]) : windowsToTokens(qw, grid, w, s);
    return [y, memOut as tf.Tensor3D];
  });
  return { y: out[0], memOut: out[1] ?? null };
}

/** Global multi-head attention (ViT) on `[B, L, C]`, with optional memory (MAM). */
export function globalAttention(
  x: tf.Tensor3D,
  weights: AttentionWeights,
  opts: GlobalAttentionOptions,
  mem?: MemoryPort,
): AttentionResult {
  const out = tf.tidy(() => {
    let m: tf.Tensor3D | null = null;
    if (mem?.in) {
      checkMemory(x, mem.in);
      m = mem.in;
    }
    const [y, q] = attendWindows(
      x,
      { qkv: weights.qkv, proj: weights.proj },
      opts.heads,
      m,
      null,
      null,
      opts.probe &&
        ((probs, probsWithoutMemory) =>
          opts.probe?.({ probs, probsWithoutMemory, window: 0, shift: 0 })),
    );
    return mem ? [y, q] : [y];
  });
  return { y: out[0], memOut: out[1] ?? null };
}
