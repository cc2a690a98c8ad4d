/**
 * Kernels of the convolutional 3D kinds (nodes/vol3d-cnn.ts, nodes/nnformer-3d.ts;
 * 3D-MAM-SPEC.md §c.1, c.2, c.8–c.11) on the ops of src/ops/vol3d.ts.
 * Volumes are `[B, D, H, W, C]`; 3D tokens are `[B, L, C]` with L row-major
 * over the grid of their shape. Conv weights arrive in the ops layout
 * `[kD·kH·kW·Cin, Cout]` (src/compile/layout.ts), which reshapes to tfjs's
 * conv3d filter `[kD, kH, kW, Cin, Cout]`; transposed-conv weights arrive as
 * `[kD·kH·kW·Cout, Cin]`.
 */
import * as tf from '#tfjs';
import { bool, num, str, type Shape } from '../../graph/node-kind.ts';
import type { Triple } from '../../graph/geometry3d.ts';
import { gelu, layerNorm, linear } from '../../ops/layers.ts';
import { concatFlat } from '../../ops/flat-slice.ts';
import { tapeActive, thenFree } from '../../ops/tape.ts';
import {
  conv3d,
  convTranspose3d,
  instanceNorm3d,
  leakyRelu,
  mergeGather3d,
  padEnd3d,
  windowPartition3d,
  type MergeOrder,
  type Vol,
} from '../../ops/vol3d.ts';
import { matrix, norm, vector } from './shared.ts';
import { recomputed, type ForwardContext, type Kernel } from './types.ts';

/** The 3D grid of a tokens or image shape. */
export function grid3d(shape: Shape | undefined): Triple {
  const g =
    shape?.kind === 'image' ? shape.spatial : shape?.kind === 'tokens' ? shape.grid : undefined;
  if (!g || g.length !== 3) throw new Error('3D forward without a 3D shape');
  return g as Triple;
}

/** A per-axis triple parameter written `2,4,4` (as nodes/shared/vol3d.ts reads it). */
export const triple = (params: ForwardContext['params'], name: string): Triple =>
  str(params, name).split(/[,x×]/).map(Number) as Triple;

/** Tokens `[B, L, C]` on `grid` → volume `[B, D, H, W, C]`. */
export const toVolume = (x: tf.Tensor, grid: Triple): Vol =>
  tf.reshape(x, [x.shape[0], ...grid, x.shape[x.rank - 1]]);

/** Volume → tokens `[B, L, C]`. */
export const toTokens = (x: Vol): tf.Tensor3D =>
  tf.reshape(x, [x.shape[0], x.shape[1] * x.shape[2] * x.shape[3], x.shape[4]]);

/** The input on port `in` as a volume (tokens reshaped onto their grid). */
export const volumeInput = (ctx: ForwardContext, port = 'in'): Vol =>
  toVolume(ctx.inputs[port] as tf.Tensor, grid3d(ctx.inShapes[port]));

/** A conv weight `(Cout, Cin, kD, kH, kW)` as tfjs's filter `[kD, kH, kW, Cin, Cout]`. */
function filter(ctx: ForwardContext, name: string, k: Triple): tf.Tensor5D {
  const w = matrix(ctx, name);
  return tf.reshape(w, [...k, w.shape[0] / (k[0] * k[1] * k[2]), w.shape[1]]);
}

/** A transposed-conv weight back in PyTorch's `(Cin, Cout, kD, kH, kW)`, as convTranspose3d takes it. */
function transposedFilter(ctx: ForwardContext, name: string, k: Triple): tf.Tensor5D {
  const w = matrix(ctx, name);
  const cout = w.shape[0] / (k[0] * k[1] * k[2]);
  return tf.transpose(tf.reshape(w, [...k, cout, w.shape[1]]), [4, 3, 0, 1, 2]);
}

const optionalBias = (ctx: ForwardContext, prefix: string, on: boolean) =>
  on ? vector(ctx, `${prefix}bias`) : undefined;

export interface Conv3dSpec {
  kernel: Triple;
  stride?: Triple;
  padding?: Triple;
  bias?: boolean;
}

/**
 * A conv of the node's `<prefix>weight` (+ bias). Kernel = stride without
 * padding is a patchify matmul (a window partition of the patch), 1³ a
 * matmul; other kernels go through conv3d.
 */
export function convOf(ctx: ForwardContext, x: Vol, prefix: string, o: Conv3dSpec): Vol {
  // its views of x and of the weight go with it: a view left behind keeps x's buffer alive
  return tf.tidy(() => {
    const { kernel: k, stride = [1, 1, 1], padding = [0, 0, 0] } = o;
    const bias = optionalBias(ctx, prefix, o.bias ?? false);
    const unpadded = padding.every((p) => p === 0);
    if (unpadded && k.every((n, a) => n === stride[a])) {
      const [B, D, H, W, C] = x.shape;
      const grid: Triple = [D / k[0], H / k[1], W / k[2]];
      if (grid.every(Number.isInteger)) {
        const patches = tf.reshape(windowPartition3d(x, k), [B, grid[0], grid[1], grid[2], -1]);
        const w = { weight: matrix(ctx, `${prefix}weight`), ...(bias ? { bias } : {}) };
        if (patches.shape[4] === k[0] * k[1] * k[2] * C) return linear(patches, w) as Vol;
      }
    }
    return conv3d(x, filter(ctx, `${prefix}weight`, k), bias, { stride, padding });
  });
}

/** The negative slope of the LeakyReLU in MONAI's UnetResBlock (its default `act`). */
const MONAI_NEGATIVE_SLOPE = 0.01;

/**
 * MONAI's UnetResBlock (§c.11) of the node's `<prefix>conv1/2/3.conv.weight`,
 * its LeakyReLUs at `slope`. Without a tape each stage is freed once the next is made
 * (at 96³ a stage of decoder1 is 162–344 MiB), and x too when the block `owns` it.
 */
function resBlock(
  ctx: ForwardContext,
  x: Vol,
  prefix: string,
  cout: number,
  slope: number,
  owns = false,
): Vol {
  const act = (t: tf.Tensor) => leakyRelu(t, slope);
  const K3 = { kernel: [3, 3, 3] as Triple, padding: [1, 1, 1] as Triple };
  const conv = (p: string, o: Conv3dSpec) => (t: tf.Tensor) => convOf(ctx, t as Vol, p, o);
  const inorm = (t: tf.Tensor) => instanceNorm3d(t as Vol);
  const r =
    x.shape[4] !== cout
      ? thenFree(conv(`${prefix}conv3.conv.`, { kernel: [1, 1, 1] })(x), inorm)
      : x;
  const c1 = conv(`${prefix}conv1.conv.`, K3)(x);
  if (owns && r !== x && !tapeActive()) x.dispose();
  const a = thenFree(thenFree(c1, inorm), act);
  const b = thenFree(thenFree(a, conv(`${prefix}conv2.conv.`, K3)), inorm);
  const sum = thenFree(b, (t) => tf.add(t, r));
  if (r !== x && !tapeActive()) r.dispose();
  return thenFree(sum, act) as Vol;
}

/** GELU → LayerNorm over the channels of every voxel (`<prefix>weight/bias`). */
const geluNorm = (ctx: ForwardContext, x: Vol, prefix: string): Vol =>
  layerNorm(gelu(x), norm(ctx, prefix));

/** nnFormer's stem (§c.10): ends padded to a multiple of the patch, proj1, proj2, tokens → LN. */
function nnformerStem(ctx: ForwardContext): tf.Tensor3D {
  const p = triple(ctx.params, 'patch');
  const x = ctx.inputs.in as Vol;
  const padded = padEnd3d(
    x,
    [1, 2, 3].map((a, i) => Math.ceil(x.shape[a] / p[i]) * p[i]) as Triple,
  );
  const c3 = (stride: Triple) => ({
    kernel: [3, 3, 3] as Triple,
    stride,
    padding: [1, 1, 1] as Triple,
    bias: true,
  });
  let y = geluNorm(ctx, convOf(ctx, padded, 'proj1.conv1.', c3([2, 2, 2])), 'proj1.norm1.');
  y = geluNorm(ctx, convOf(ctx, y, 'proj1.conv2.', c3([1, 1, 1])), 'proj1.norm2.');
  const s2 = p.map((n) => n / 2) as Triple;
  y = geluNorm(ctx, convOf(ctx, y, 'proj2.conv1.', c3(s2)), 'proj2.norm1.');
  y = convOf(ctx, y, 'proj2.conv2.', c3([1, 1, 1]));
  return layerNorm(toTokens(y), norm(ctx, 'norm.'));
}

/**
 * The kernels of the kinds built on MONAI's residual block, their LeakyReLUs at `slope`
 * (MONAI's 0.01 in the built-in table; the torch differential test steps SwinUNETR at 1,
 * where the LeakyReLU has no kink for float32 rounding to flip).
 */
export const resBlockKernels = (slope: number): Record<string, Kernel> => ({
  'unetr-basic-block': recomputed((ctx) => ({
    out: resBlock(ctx, ctx.inputs.in as Vol, 'layer.', num(ctx.params, 'outChannels'), slope),
  })),

  'unet-res-block': recomputed((ctx) => ({
    out: resBlock(ctx, ctx.inputs.in as Vol, '', num(ctx.params, 'outChannels'), slope),
  })),

  'unetr-up-block': recomputed((ctx) => {
    const up = tf.tidy(() =>
      convTranspose3d(
        ctx.inputs.in as Vol,
        transposedFilter(ctx, 'transp_conv.conv.weight', [2, 2, 2]),
      ),
    );
    const z = thenFree(up, (u) => concatFlat([u as Vol, ctx.inputs.skip as Vol], 4));
    const o = num(ctx.params, 'outChannels');
    return { out: resBlock(ctx, z, 'conv_block.', o, slope, true) };
  }),
});

export const vol3dCnnKernels: Record<string, Kernel> = {
  conv3d: recomputed((ctx) => ({
    out: convOf(ctx, ctx.inputs.in as Vol, '', {
      kernel: triple(ctx.params, 'kernel'),
      stride: triple(ctx.params, 'stride'),
      padding: triple(ctx.params, 'padding'),
      bias: bool(ctx.params, 'bias'),
    }),
  })),

  'conv-transpose-3d': (ctx) => {
    const k = triple(ctx.params, 'kernel');
    return {
      out: convTranspose3d(
        ctx.inputs.in as Vol,
        transposedFilter(ctx, 'weight', k),
        optionalBias(ctx, '', bool(ctx.params, 'bias')),
      ),
    };
  },

  ...resBlockKernels(MONAI_NEGATIVE_SLOPE),

  /** §c.2: LayerNorm over channels without weights, eps 1e-5; tokens → volume. */
  'hidden-norm-3d': (ctx) => {
    const x = volumeInput(ctx);
    const { mean, variance } = tf.moments(x, 4, true);
    return { out: tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))) };
  },

  'patch-embed-3d': (ctx) => {
    const p = num(ctx.params, 'patch');
    const x = ctx.inputs.in as Vol;
    const padded = padEnd3d(x, [1, 2, 3].map((a) => Math.ceil(x.shape[a] / p) * p) as Triple);
    const y = convOf(ctx, padded, 'proj.', { kernel: [p, p, p], stride: [p, p, p], bias: true });
    return { out: toTokens(y) };
  },

  'nnformer-stem': recomputed((ctx) => ({ out: nnformerStem(ctx) })),

  /** §c.8: tokens → GELU → LN → conv 3³ stride 2 padding 1 (C → 2C) → tokens. */
  'nnformer-merging': recomputed((ctx) => {
    const y = geluNorm(ctx, volumeInput(ctx), 'norm.');
    const z = convOf(ctx, y, 'reduction.', {
      kernel: [3, 3, 3],
      stride: [2, 2, 2],
      padding: [1, 1, 1],
      bias: true,
    });
    return { out: toTokens(z) };
  }),

  /** §c.9 step 1: LN(C) → transposed conv 2³ stride 2 (C → C/2, bias) → tokens. */
  'nnformer-expanding': recomputed((ctx) => {
    const y = layerNorm(volumeInput(ctx), norm(ctx, 'norm.'));
    const up = convTranspose3d(
      y,
      transposedFilter(ctx, 'up.weight', [2, 2, 2]),
      vector(ctx, 'up.bias'),
    );
    return { out: toTokens(up) };
  }),

  /** §c.10: the decoder's tokens as a volume → transposed conv, kernel = stride = the patch. */
  'nnformer-head': (ctx) => {
    const k = triple(ctx.params, 'kernel');
    return {
      out: convTranspose3d(
        volumeInput(ctx),
        transposedFilter(ctx, 'up.weight', k),
        optionalBias(ctx, 'up.', bool(ctx.params, 'bias')),
      ),
    };
  },

  /** SwinUNETR's merging (§c.8): 8 sub-grids in the named order → LN(8C) → Linear 8C → 2C. */
  'patch-merging-3d': (ctx) => {
    const g = mergeGather3d(volumeInput(ctx), ctx.params.order as MergeOrder);
    const y = linear(layerNorm(g, norm(ctx, 'norm.')), {
      weight: matrix(ctx, 'reduction.weight'),
    });
    return { out: toTokens(y) };
  },
};
