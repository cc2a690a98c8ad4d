/**
 * Kernels of the 3D window-attention kinds (nodes/swin3d-block.ts;
 * 3D-MAM-SPEC.md §c.3–c.7, c.9): the SAM block and its MAM unit on
 * src/ops/vol3d-block.ts, and nnFormer's decoder cross-attention block.
 *
 * 3D memory travels in the query layout of the window batch,
 * `[B·nW, heads, N, hd]` (§a): it only ever goes from blocks.0 to blocks.1 of
 * one stage (reset per stage, never resampled), so it is not reshaped to tokens.
 *
 * Drop-path (training only) is per sample on both residual branches, as
 * the 2D blocks' (the attention branch drawn from the step's seed, the MLP
 * branch from seed + 1), scaled by 1/keep.
 */
import * as tf from '#tfjs';
import { num, str } from '../../graph/node-kind.ts';
import {
  nnformerIndex3d,
  nnformerWindows3d,
  swinIndex3d,
  swinWindows3d,
  type LinearIndex3d,
  type Windows3d,
} from '../../graph/geometry3d.ts';
import { sliceFlat } from '../../ops/flat-slice.ts';
import { dropBranch, gelu, layerNorm, linear, type LinearWeights } from '../../ops/layers.ts';
import { swin3dBlock, type Block3dOptions, type Block3dWeights } from '../../ops/vol3d-block.ts';
import { windowAttention3d } from '../../ops/vol3d-attention.ts';
import { padEnd3d, relativeBias3d, windowPartition3d, windowReverse3d } from '../../ops/vol3d.ts';
import { matrix, norm, vector } from './shared.ts';
import type { ForwardContext, Kernel } from './types.ts';
import { grid3d, toTokens, toVolume } from './vol3d-cnn.ts';

const nnformer = (ctx: ForwardContext) => str(ctx.params, 'flavour') === 'nnformer';

/** The block's windows on its grid and its bias index rule (as nodes/swin3d-block.ts counts them). */
function geometry(ctx: ForwardContext, shift: number): { win: Windows3d; index: LinearIndex3d } {
  const grid = grid3d(ctx.inShapes.in);
  const w = num(ctx.params, 'window');
  if (nnformer(ctx)) {
    const win = nnformerWindows3d(grid, w, shift);
    return { win, index: nnformerIndex3d(win.window[0]) };
  }
  return { win: swinWindows3d(grid, w, shift), index: swinIndex3d(w) };
}

const lin = (ctx: ForwardContext, p: string, bias = true): LinearWeights => ({
  weight: matrix(ctx, `${p}.weight`),
  ...(bias && ctx.params.qkvBias !== false ? { bias: vector(ctx, `${p}.bias`) } : {}),
});

function mlpOf(ctx: ForwardContext): Pick<Block3dWeights, 'fc1' | 'fc2'> {
  const [a, b] = nnformer(ctx) ? ['mlp.fc1', 'mlp.fc2'] : ['mlp.linear1', 'mlp.linear2'];
  return {
    fc1: { weight: matrix(ctx, `${a}.weight`), bias: vector(ctx, `${a}.bias`) },
    fc2: { weight: matrix(ctx, `${b}.weight`), bias: vector(ctx, `${b}.bias`) },
  };
}

const dropPathOf = (ctx: ForwardContext): NonNullable<Block3dOptions['dropPath']> => ({
  rate: num(ctx.params, 'dropPath'),
  training: ctx.training,
  seed: ctx.seed,
});

function block(ctx: ForwardContext, withMemory: boolean): Record<string, tf.Tensor> {
  const { win, index } = geometry(ctx, num(ctx.params, 'shift'));
  const grid = grid3d(ctx.inShapes.in);
  const weights: Block3dWeights = {
    norm1: norm(ctx, 'norm1.'),
    qkv: lin(ctx, 'attn.qkv'),
    proj: { weight: matrix(ctx, 'attn.proj.weight'), bias: vector(ctx, 'attn.proj.bias') },
    table: matrix(ctx, 'attn.relative_position_bias_table'),
    norm2: norm(ctx, 'norm2.'),
    ...mlpOf(ctx),
  };
  const memory = withMemory ? (ctx.inputs.memIn as tf.Tensor4D | undefined) : undefined;
  const r = swin3dBlock(toVolume(ctx.inputs.in as tf.Tensor, grid), weights, {
    heads: num(ctx.params, 'heads'),
    windows: win,
    index,
    ...(memory ? { memory } : {}),
    withMemoryOut: withMemory,
    dropPath: dropPathOf(ctx),
  });
  const out = toTokens(r.out);
  return r.memory ? { out, memOut: r.memory } : { out };
}

/**
 * nnFormer's decoder block 0 (§c.9): x = up + skip; keys and values from
 * LN(skip; norm1), queries LN(up; norm1) split into heads without a
 * projection; never shifted; then the MLP on x.
 */
function crossBlock(ctx: ForwardContext): tf.Tensor3D {
  const { win, index } = geometry(ctx, 0);
  const grid = grid3d(ctx.inShapes.in);
  const up = ctx.inputs.in as tf.Tensor3D;
  const skip = ctx.inputs.skip as tf.Tensor3D;
  const [B, , C] = up.shape;
  const heads = num(ctx.params, 'heads');
  const hd = C / heads;
  const { window, padded, tokens: N, count: nW } = win;
  const n1 = norm(ctx, 'norm1.');
  const windowsOf = (t: tf.Tensor3D) =>
    windowPartition3d(padEnd3d(toVolume(layerNorm(t, n1), grid), padded), window);
  const byHead = (t: tf.Tensor) =>
    tf.transpose(tf.reshape(t, [B * nW, N, heads, hd]), [0, 2, 1, 3]) as tf.Tensor4D;
  const kv = linear(windowsOf(skip), lin(ctx, 'attn.kv'));
  const k = byHead(tf.slice(kv, [0, 0, 0], [B * nW, N, C]));
  const v = byHead(tf.slice(kv, [0, 0, C], [B * nW, N, C]));
  const q = byHead(windowsOf(up));
  const full = relativeBias3d(matrix(ctx, 'attn.relative_position_bias_table'), index);
  const bias = full.shape[1] === N ? full : tf.slice(full, [0, 0, 0], [heads, N, N]);
  const att = windowAttention3d(q, k, v, { bias, batch: B });
  const merged = tf.reshape(tf.transpose(att, [0, 2, 1, 3]), [B * nW, N, C]);
  const proj = { weight: matrix(ctx, 'attn.proj.weight'), bias: vector(ctx, 'attn.proj.bias') };
  let y = windowReverse3d(linear(merged, proj), window, padded, B);
  if (padded.some((p, a) => p !== grid[a])) y = sliceFlat(y, [0, 0, 0, 0, 0], [B, ...grid, C]);
  const dp = dropPathOf(ctx);
  const x1 = tf.add(tf.add(up, skip), dropBranch(toTokens(y), dp, 0)) as tf.Tensor3D;
  const { fc1, fc2 } = mlpOf(ctx);
  const mlpOut = linear(gelu(linear(layerNorm(x1, norm(ctx, 'norm2.')), fc1)), fc2);
  return tf.add(x1, dropBranch(mlpOut, dp, 1));
}

export const vol3dSwinKernels: Record<string, Kernel> = {
  'swin3d-block': (ctx) => block(ctx, false),
  'mam-swin3d-block': (ctx) => block(ctx, true),
  'nnformer-kv-block': (ctx) => ({ out: crossBlock(ctx) }),
};
