/**
 * Small SwinUNETR / nnFormer graphs (the presets' builders, src/graph/presets-3d.ts, at test
 * sizes) for the torch runtime's 3D tests.
 */
import { catalogue } from '../../nodes/index.ts';
import { nnformer, swinUnetr, type SwinUnetrOptions } from '../../src/graph/presets-3d.ts';
import type { GraphDoc } from '../../src/graph/types.ts';

export const TEST_CLASSES = ['background', 'organ1', 'organ2'];

const common = (size: number, memory: boolean) => ({
  title: `test graph ${size}³`,
  description: 'a small 3D test graph',
  size,
  inChannels: 1,
  classNames: TEST_CLASSES,
  memory,
});

/** SwinUNETR(-MAM) with the reference's depths, heads and window, at `size`³ and `featureSize`. */
export const smallSwinUnetr = (
  size: number,
  featureSize: number,
  memory: boolean,
  mergeOrder: SwinUnetrOptions['mergeOrder'] = 'monai-0.9',
): GraphDoc =>
  swinUnetr(
    {
      ...common(size, memory),
      featureSize,
      depths: [2, 2, 2, 2],
      heads: [3, 6, 12, 24],
      window: 7,
      mergeOrder,
    },
    catalogue,
  );

/** nnFormer(-MAM) with the reference's windows and patch, embed `embedDim`, heads `heads`·2^i. */
export const smallNnformer = (
  size: number,
  embedDim: number,
  heads: number,
  memory: boolean,
  dropPathRate = 0,
): GraphDoc =>
  nnformer(
    {
      ...common(size, memory),
      embedDim,
      depths: [2, 2, 2, 2],
      heads: [heads, 2 * heads, 4 * heads, 8 * heads],
      windows: [4, 4, 8, 4],
      patch: [2, 4, 4],
      dropPathRate,
    },
    catalogue,
  );
