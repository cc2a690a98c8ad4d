/** Small pieces the kernels share. */
import type * as tf from '@tensorflow/tfjs-core';
import type { Shape } from '../../graph/node-kind.ts';
import {
  layerNorm,
  linear,
  pixelShuffle,
  type MemoryResampleOptions,
  type MemoryLayout,
} from '../../ops/index.ts';
import type { ForwardContext } from './types.ts';

export function gridOf(shape: Shape | undefined): number[] {
  if (!shape || (shape.kind !== 'tokens' && shape.kind !== 'memory'))
    throw new Error('forward without a token shape');
  return shape.grid;
}

export const vector = (ctx: ForwardContext, name: string) => ctx.weight(name) as tf.Tensor1D;

export const matrix = (ctx: ForwardContext, name: string) => ctx.weight(name) as tf.Tensor2D;

export const norm = (ctx: ForwardContext, prefix: string) => ({
  weight: vector(ctx, `${prefix}weight`),
  bias: vector(ctx, `${prefix}bias`),
});

/** Linear C → s^dims·C_out, pixel shuffle s×s, LayerNorm (patch expanding ×2, final expanding ×s). */
export function expandForward(ctx: ForwardContext, scale: number): Record<string, tf.Tensor> {
  const x = ctx.inputs.in as tf.Tensor3D;
  const up = pixelShuffle(
    linear(x, { weight: matrix(ctx, 'expand.weight') }),
    gridOf(ctx.inShapes.in),
    scale,
  );
  const out = layerNorm(up, norm(ctx, 'norm.'));
  up.dispose();
  return { out };
}

/** How a resampling node reads and writes memory in its chain's layout. */
export function memoryOptions(ctx: ForwardContext): MemoryResampleOptions {
  const m = ctx.inShapes.memIn;
  if (!m || m.kind !== 'memory') throw new Error('memory resampling without a memory shape');
  const out = ctx.memoryWindowOut ?? m.window;
  return {
    grid: m.grid,
    layout: m.layout as MemoryLayout,
    window: m.window || out,
    windowOut: out,
  };
}
