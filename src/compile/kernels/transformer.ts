/** Kernels of the SAM blocks and MAM units (Swin window attention, ViT global attention). */
import type * as tf from '@tensorflow/tfjs-core';
import { bool, num, str, type MemoryLayout } from '../../graph/node-kind.ts';
import { swinBlock, vitBlock, type BlockWeights } from '../../ops/index.ts';
import { matrix, norm, vector } from './shared.ts';
import type { ForwardContext, Kernel } from './types.ts';

/** Block weights for src/ops, from the node's named weights. */
function blockWeightsOf(ctx: ForwardContext, windowed: boolean): BlockWeights {
  const lin = (p: string, bias = true) => ({
    weight: matrix(ctx, `${p}.weight`),
    ...(bias ? { bias: vector(ctx, `${p}.bias`) } : {}),
  });
  return {
    norm1: norm(ctx, 'norm1.'),
    attn: {
      qkv: lin('attn.qkv', bool(ctx.params, 'qkvBias')),
      proj: lin('attn.proj'),
      ...(windowed ? { relTable: matrix(ctx, 'attn.relative_position_bias_table') } : {}),
    },
    norm2: norm(ctx, 'norm2.'),
    mlp: { fc1: lin('mlp.fc1'), fc2: lin('mlp.fc2') },
  };
}

function forwardBlock(
  ctx: ForwardContext,
  form: 'window' | 'global',
  withMemory: boolean,
): Record<string, tf.Tensor> {
  const x = ctx.inputs.in as tf.Tensor3D;
  const shape = ctx.inShapes.in;
  if (!shape || shape.kind !== 'tokens') throw new Error('block forward without a token shape');
  const dp = { rate: num(ctx.params, 'dropPath'), training: ctx.training, seed: ctx.seed };
  const weights = blockWeightsOf(ctx, form === 'window');
  const mem = withMemory
    ? {
        in: (ctx.inputs.memIn as tf.Tensor3D | undefined) ?? null,
        layout: str(ctx.params, 'memoryLayout') as MemoryLayout,
      }
    : undefined;
  const r =
    form === 'window'
      ? swinBlock(
          x,
          weights,
          {
            heads: num(ctx.params, 'heads'),
            window: num(ctx.params, 'window'),
            shift: num(ctx.params, 'shift'),
            grid: shape.grid,
            dropPath: dp,
            constants: ctx.constants,
            probe: ctx.attentionProbe,
          },
          mem,
        )
      : vitBlock(
          x,
          weights,
          { heads: num(ctx.params, 'heads'), dropPath: dp, probe: ctx.attentionProbe },
          mem,
        );
  return r.memOut ? { out: r.y, memOut: r.memOut } : { out: r.y };
}

export const transformerKernels: Record<string, Kernel> = {
  'swin-block': (ctx) => forwardBlock(ctx, 'window', false),
  'mam-swin-block': (ctx) => forwardBlock(ctx, 'window', true),
  'vit-block': (ctx) => forwardBlock(ctx, 'global', false),
  'mam-vit-block': (ctx) => forwardBlock(ctx, 'global', true),
};
