/**
 * Transformer blocks: `x + attn(LN(x))`, then `x + MLP(LN(x))` (pre-norm,
 * exact GELU, LN eps 1e-5), with optional drop-path on both branches.
 * Swin blocks use window attention, ViT blocks global attention; both are
 * MAM units when `mem` is given (see attention.ts for the memory contract).
 *
 * Weight names map to the PyTorch module: `norm1.{weight,bias}`,
 * `attn.qkv.*`, `attn.proj.*`, `attn.relative_position_bias_table`,
 * `norm2.*`, `mlp.fc1.*`, `mlp.fc2.*` (Linear weights transposed to `[in, out]`).
 */
import * as tf from '#tfjs';
import {
  globalAttention,
  windowAttention,
  type AttentionResult,
  type AttentionWeights,
  type GlobalAttentionOptions,
  type MemoryPort,
  type WindowAttentionOptions,
} from './attention.ts';
import {
  addSame,
  dropBranch,
  layerNorm,
  mlp,
  type DropPathOptions,
  type MlpWeights,
  type NormWeights,
} from './layers.ts';

export interface BlockWeights {
  norm1: NormWeights;
  attn: AttentionWeights;
  norm2: NormWeights;
  mlp: MlpWeights;
}

/** Drop-path of the attention branch uses `seed`, the MLP branch `seed + 1`. */
export interface BlockDropPath {
  dropPath?: DropPathOptions;
}

export type SwinBlockOptions = WindowAttentionOptions & BlockDropPath;
export type VitBlockOptions = GlobalAttentionOptions & BlockDropPath;

function block(
  x: tf.Tensor3D,
  w: BlockWeights,
  attend: (t: tf.Tensor3D) => AttentionResult,
  dp: DropPathOptions | undefined,
): AttentionResult {
  const out = tf.tidy(() => {
    const a = attend(layerNorm(x, w.norm1));
    const x1 = addSame(x, dropBranch(a.y, dp, 0));
    const y = addSame(x1, dropBranch(mlp(layerNorm(x1, w.norm2), w.mlp), dp, 1));
    return a.memOut ? [y, a.memOut] : [y];
  });
  return { y: out[0], memOut: out[1] ?? null };
}

/** Swin block (SAM, or MAM when `mem` is given) on tokens `[B, L, C]` of `opts.grid`. */
export function swinBlock(
  x: tf.Tensor3D,
  weights: BlockWeights,
  opts: SwinBlockOptions,
  mem?: MemoryPort,
): AttentionResult {
  return block(x, weights, (t) => windowAttention(t, weights.attn, opts, mem), opts.dropPath);
}

/** ViT block (global attention, no bias table), SAM or MAM. */
export function vitBlock(
  x: tf.Tensor3D,
  weights: BlockWeights,
  opts: VitBlockOptions,
  mem?: MemoryPort,
): AttentionResult {
  return block(x, weights, (t) => globalAttention(t, weights.attn, opts, mem), opts.dropPath);
}
