/** Small pieces the node kinds' forward passes share. */
import type * as tf from '@tensorflow/tfjs';
import type { ForwardContext, Shape } from '../../src/graph/node-kind.ts';
import {
  layerNorm,
  linear,
  pixelShuffle,
  type MemoryResampleOptions,
  type MemoryLayout,
} from '../../src/ops/index.ts';

export function gridOf(shape: Shape | undefined): number[] {
  if (!shape || (shape.kind !== 'tokens' && shape.kind !== 'memory'))
    throw new Error('forward without a token shape');
  return shape.grid;
}

export const norm = (ctx: ForwardContext, prefix: string) => ({
  weight: ctx.weight(`${prefix}.weight`) as tf.Tensor1D,
  bias: ctx.weight(`${prefix}.bias`) as tf.Tensor1D,
});

/** Linear C → s^dims·C_out, pixel shuffle s×s, LayerNorm (patch expanding ×2, final expanding ×s). */
export function expandForward(ctx: ForwardContext, scale: number): Record<string, tf.Tensor> {
  const x = ctx.inputs.in as tf.Tensor3D;
  const up = pixelShuffle(
    linear(x, { weight: ctx.weight('expand.weight') as tf.Tensor2D }),
    gridOf(ctx.inShapes.in),
    scale,
  );
  const out = layerNorm(up, norm(ctx, 'norm'));
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
