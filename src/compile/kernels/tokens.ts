/** Kernels of the kinds that make, resample, join and read out tokens. */
import type * as tf from '@tensorflow/tfjs-core';
import { bool, num, str } from '../../graph/node-kind.ts';
import {
  addPositionEmbedding,
  layerNorm,
  linearSkip,
  memoryExpanding,
  memoryMerging,
  patchEmbed,
  patchMerging,
  segmentationHead,
} from '../../ops/index.ts';
import { expandForward, gridOf, matrix, memoryOptions, norm, vector } from './shared.ts';
import type { Kernel } from './types.ts';

export const tokenKernels: Record<string, Kernel> = {
  'image-input': (ctx) => ({ out: ctx.inputs.feed as tf.Tensor }),

  'patch-embed': (ctx) => ({
    out: patchEmbed(
      ctx.inputs.in as tf.Tensor4D,
      {
        proj: { weight: matrix(ctx, 'proj.weight'), bias: vector(ctx, 'proj.bias') },
        ...(bool(ctx.params, 'norm') ? { norm: norm(ctx, 'norm.') } : {}),
      },
      num(ctx.params, 'patchSize'),
    ),
  }),

  'position-embedding': (ctx) => ({
    out: addPositionEmbedding(ctx.inputs.in as tf.Tensor3D, matrix(ctx, 'pos_embed')),
  }),

  'patch-merging': (ctx) => ({
    out: patchMerging(
      ctx.inputs.in as tf.Tensor3D,
      { norm: norm(ctx, 'norm.'), reduction: { weight: matrix(ctx, 'reduction.weight') } },
      gridOf(ctx.inShapes.in),
    ),
  }),

  'patch-expanding': (ctx) => expandForward(ctx, 2),

  'final-expanding': (ctx) => expandForward(ctx, num(ctx.params, 'scale')),

  'memory-merging': (ctx) => ({
    memOut: memoryMerging(
      ctx.inputs.memIn as tf.Tensor3D,
      { norm: norm(ctx, 'norm.'), reduction: { weight: matrix(ctx, 'reduction.weight') } },
      { ...memoryOptions(ctx), mode: str(ctx.params, 'mode') as 'conv' | 'avg' | 'max' },
    ),
  }),

  'memory-expanding': (ctx) => ({
    memOut: memoryExpanding(
      ctx.inputs.memIn as tf.Tensor3D,
      { expand: { weight: matrix(ctx, 'expand.weight') }, norm: norm(ctx, 'norm.') },
      memoryOptions(ctx),
    ),
  }),

  skip: (ctx) => ({
    out: linearSkip(ctx.inputs.decoder as tf.Tensor3D, ctx.inputs.encoder as tf.Tensor3D, {
      weight: matrix(ctx, 'weight'),
      bias: vector(ctx, 'bias'),
    }),
  }),

  'layer-norm': (ctx) => ({ out: layerNorm(ctx.inputs.in as tf.Tensor3D, norm(ctx, '')) }),

  'seg-head': (ctx) => {
    const x = ctx.inputs.in as tf.Tensor3D;
    const logits = segmentationHead(x, { weight: matrix(ctx, 'weight') });
    return { out: logits.reshape([x.shape[0], ...gridOf(ctx.inShapes.in), logits.shape[2]]) };
  },
};
