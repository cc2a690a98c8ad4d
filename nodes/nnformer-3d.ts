/**
 * nnFormer's convolutional pieces (3D-MAM-SPEC.md §c.8–c.10): the conv
 * stem, the stride-2 conv down-sampling, the transposed-conv expanding step
 * and the transposed-conv head. Tokens are (S, H, W) grids.
 */
import type { NodeKind, Shape } from '../src/graph/node-kind.ts';
import { layerNormWeights, num, product, unknownResult } from '../src/graph/node-kind.ts';
import type { Triple } from '../src/graph/geometry3d.ts';
import { transposed } from './vol3d-cnn.ts';
import {
  conv3dMacs,
  conv3dOut,
  conv3dWeights,
  convT3dWeights,
  onVolumes,
  outChannels3d,
  triple,
  tripleParam,
  tripleProblems,
} from './shared/vol3d.ts';
import { tokenPorts } from './shared/transformer.ts';

const K3: Triple = [3, 3, 3];
const conv3Out = (grid: readonly number[], s: Triple) =>
  grid.map((n, a) => conv3dOut(n, 3, s[a], 1));

export const nnformerStem: NodeKind = {
  type: 'nnformer-stem',
  title: 'nnFormer stem',
  category: 'embedding',
  volume: true,
  role: 'plain',
  description:
    "nnFormer's convolutional embedding (§c.10): proj1 = conv 3³ (stride 2) → GELU → LN → conv 3³ → GELU → LN; proj2 = conv 3³ (stride 1,2,2) → GELU → LN → conv 3³; then tokens → LN. Padding 1 before and after every conv; ends zero-padded to a multiple of the patch.",
  params: [
    { name: 'embedDim', label: 'Embed dim', type: 'int', default: 192, min: 2, max: 4096 },
    tripleParam(
      'patch',
      'Patch',
      '2,4,4',
      'Total stride per axis (S,H,W): proj1 strides 2, proj2 the rest.',
    ),
  ],
  inputs: [{ name: 'in', label: 'volume', socket: 'image' }],
  outputs: tokenPorts.outputs,
  infer: (ctx) =>
    onVolumes(ctx, [['in', 'image']], (v) => {
      const p = triple(ctx.params, 'patch');
      const problems = tripleProblems(p, 'patch');
      if (problems.length) return unknownResult(problems);
      const e = num(ctx.params, 'embedDim');
      const h = e / 2;
      const s1: Triple = [2, 2, 2];
      const s2 = p.map((n) => n / 2) as Triple;
      const padded = v.grid.map((n, a) => Math.ceil(n / p[a]) * p[a]);
      const g1 = conv3Out(padded, s1);
      const g2 = conv3Out(g1, s2);
      return {
        outputs: { out: { kind: 'tokens', grid: g2, channels: e } },
        problems: [],
        weights: [
          ...conv3dWeights('proj1.conv1.', h, v.channels, K3, true),
          ...conv3dWeights('proj1.conv2.', h, h, K3, true),
          ...layerNormWeights('proj1.norm1.', h),
          ...layerNormWeights('proj1.norm2.', h),
          ...conv3dWeights('proj2.conv1.', e, h, K3, true),
          ...conv3dWeights('proj2.conv2.', e, e, K3, true),
          ...layerNormWeights('proj2.norm1.', e),
          ...layerNormWeights('norm.', e),
        ],
        macs: {
          linearConv:
            conv3dMacs(g1, h, v.channels, K3) +
            conv3dMacs(g1, h, h, K3) +
            conv3dMacs(g2, e, h, K3) +
            conv3dMacs(g2, e, e, K3),
          attention: 0,
        },
      };
    }),
};

export const nnformerMerging: NodeKind = {
  type: 'nnformer-merging',
  title: 'nnFormer down-sampling',
  category: 'resampling',
  volume: true,
  role: 'downsample',
  description:
    "nnFormer's patch merging (§c.8): GELU (before the norm) → LayerNorm → conv 3³, stride 2, padding 1, C → 2C, with bias.",
  params: [],
  ...tokenPorts,
  infer: (ctx) =>
    onVolumes(ctx, [['in', 'tokens']], (v) => {
      const c = v.channels;
      const grid = conv3Out(v.grid, [2, 2, 2]);
      return {
        outputs: { out: { kind: 'tokens', grid, channels: 2 * c } },
        problems: [],
        weights: [
          ...layerNormWeights('norm.', c),
          ...conv3dWeights('reduction.', 2 * c, c, K3, true),
        ],
        macs: { linearConv: conv3dMacs(grid, 2 * c, c, K3), attention: 0 },
      };
    }),
};

export const nnformerExpanding: NodeKind = {
  type: 'nnformer-expanding',
  title: 'nnFormer expanding',
  category: 'resampling',
  volume: true,
  role: 'upsample',
  description:
    "nnFormer's Patch_Expanding (§c.9): LayerNorm(C) → transposed conv 2³, stride 2, C → C/2, with bias; doubles the grid.",
  params: [],
  ...tokenPorts,
  infer: (ctx) =>
    onVolumes(ctx, [['in', 'tokens']], (v) => {
      const c = v.channels;
      if (c % 2 !== 0)
        return unknownResult([{ message: `${c} channels cannot be halved by nnFormer expanding` }]);
      const grid = v.grid.map((n) => 2 * n);
      const out: Shape = { kind: 'tokens', grid, channels: c / 2 };
      return {
        outputs: { out },
        problems: [],
        weights: [
          ...layerNormWeights('norm.', c),
          ...convT3dWeights('up.', c, c / 2, [2, 2, 2], true),
        ],
        macs: { linearConv: product(grid) * (c / 2) * c, attention: 0 },
      };
    }),
};

export const nnformerHead: NodeKind = {
  type: 'nnformer-head',
  title: 'nnFormer head',
  category: 'head',
  volume: true,
  role: 'upsample',
  description:
    "nnFormer's final_patch_expanding (§c.10): the decoder's tokens as a volume → transposed conv with kernel = stride = the patch, C → classes, with bias; no norm before it.",
  params: [
    outChannels3d(5),
    tripleParam('kernel', 'Kernel = stride', '2,4,4', "The stem's patch per axis (S,H,W)."),
    { name: 'bias', label: 'Bias', type: 'bool', default: true },
  ],
  inputs: tokenPorts.inputs,
  outputs: [{ name: 'out', label: 'logits', socket: 'image' }],
  infer: (ctx) => transposed(ctx, 'tokens', 'up.'),
};
