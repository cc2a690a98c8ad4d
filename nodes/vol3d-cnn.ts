/**
 * The convolutional 3D node kinds of SwinUNETR (3D-MAM-SPEC.md §c.1, §c.2,
 * §c.11): conv3d, transposed conv3d, MONAI's residual blocks and the
 * parameter-free channel LayerNorm of the hidden states.
 */
import type { NodeKind, WeightSpec } from '../src/graph/node-kind.ts';
import { bool, num, product, unknownResult } from '../src/graph/node-kind.ts';
import type { Triple } from '../src/graph/geometry3d.ts';
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

const volumePorts = {
  inputs: [{ name: 'in', label: 'volume', socket: 'image' as const }],
  outputs: [{ name: 'out', label: 'volume', socket: 'image' as const }],
};

export const conv3dKind: NodeKind = {
  type: 'conv3d',
  title: 'Convolution 3D',
  category: 'cnn',
  volume: true,
  role: 'plain',
  description:
    'kD×kH×kW convolution of a volume with per-axis stride and explicit zero padding on both sides (PyTorch\'s padding, not TF\'s "same"), optional bias.',
  params: [
    outChannels3d(48),
    tripleParam('kernel', 'Kernel', '3,3,3', 'Kernel per axis (D,H,W).'),
    tripleParam('stride', 'Stride', '1,1,1', 'Stride per axis (D,H,W).'),
    tripleParam('padding', 'Padding', '1,1,1', 'Zeros before and after, per axis (D,H,W).'),
    { name: 'bias', label: 'Bias', type: 'bool', default: true },
  ],
  ...volumePorts,
  infer: (ctx) =>
    onVolumes(ctx, [['in', 'image']], (v) => {
      const [k, s, p] = ['kernel', 'stride', 'padding'].map((n) => triple(ctx.params, n));
      const problems = [
        ...tripleProblems(k, 'kernel'),
        ...tripleProblems(s, 'stride'),
        ...tripleProblems(p, 'padding', 0),
      ];
      if (problems.length) return unknownResult(problems);
      const o = num(ctx.params, 'outChannels');
      const out = v.grid.map((n, a) => conv3dOut(n, k[a], s[a], p[a]));
      if (out.some((n) => n < 1))
        return unknownResult([
          { message: `a ${k.join('×')} kernel does not fit the ${v.grid.join('×')} volume` },
        ]);
      return {
        outputs: { out: { kind: 'image', spatial: out, channels: o } },
        problems: [],
        weights: conv3dWeights('', o, v.channels, k, bool(ctx.params, 'bias')),
        macs: { linearConv: conv3dMacs(out, o, v.channels, k), attention: 0 },
      };
    }),
};

export const convTranspose3dKind: NodeKind = {
  type: 'conv-transpose-3d',
  title: 'Transposed convolution 3D',
  category: 'resampling',
  volume: true,
  role: 'upsample',
  description:
    'Transposed convolution with kernel = stride per axis (no overlap): every input voxel becomes a kD×kH×kW block. Weight (Cin, Cout, kD, kH, kW) as PyTorch stores it.',
  params: [
    outChannels3d(48),
    tripleParam('kernel', 'Kernel = stride', '2,2,2', 'Kernel and stride per axis (D,H,W).'),
    { name: 'bias', label: 'Bias', type: 'bool', default: true },
  ],
  ...volumePorts,
  infer: (ctx) => transposed(ctx, 'image'),
};

/** Shared by the transposed conv and nnFormer's head (which reads tokens). */
export function transposed(
  ctx: Parameters<NodeKind['infer']>[0],
  socket: 'image' | 'tokens',
  prefix = '',
) {
  return onVolumes(ctx, [['in', socket]], (v) => {
    const k = triple(ctx.params, 'kernel');
    const problems = tripleProblems(k, 'kernel');
    if (problems.length) return unknownResult(problems);
    const o = num(ctx.params, 'outChannels');
    const out = v.grid.map((n, a) => n * k[a]);
    return {
      outputs: { out: { kind: 'image' as const, spatial: out, channels: o } },
      problems: [],
      weights: convT3dWeights(prefix, v.channels, o, k, bool(ctx.params, 'bias')),
      macs: { linearConv: product(out) * o * v.channels, attention: 0 },
    };
  });
}

const K3: Triple = [3, 3, 3];
const K1: Triple = [1, 1, 1];

/** MONAI's UnetResBlock (§c.11): conv 3³ → IN → LReLU → conv 3³ → IN, + (conv 1³ → IN) or identity, LReLU. */
function resBlock(prefix: string, cin: number, cout: number, voxels: number) {
  const weights: WeightSpec[] = [
    ...conv3dWeights(`${prefix}conv1.conv.`, cout, cin, K3, false),
    ...conv3dWeights(`${prefix}conv2.conv.`, cout, cout, K3, false),
    ...(cin !== cout ? conv3dWeights(`${prefix}conv3.conv.`, cout, cin, K1, false) : []),
  ];
  const macs = voxels * cout * (cin * 27 + cout * 27 + (cin !== cout ? cin : 0));
  return { weights, macs };
}

const resBlockKind = (type: string, title: string, prefix: string, what: string): NodeKind => ({
  type,
  title,
  category: 'cnn',
  volume: true,
  role: 'plain',
  description: `${what} conv 3³ → InstanceNorm → LeakyReLU(0.01) → conv 3³ → InstanceNorm, plus a residual (conv 1³ → InstanceNorm when the channels change), then LeakyReLU. No biases; the InstanceNorms have no weights.`,
  params: [outChannels3d(48)],
  ...volumePorts,
  infer: (ctx) =>
    onVolumes(ctx, [['in', 'image']], (v) => {
      const o = num(ctx.params, 'outChannels');
      const r = resBlock(prefix, v.channels, o, product(v.grid));
      return {
        outputs: { out: { kind: 'image', spatial: v.grid, channels: o } },
        problems: [],
        weights: r.weights,
        macs: { linearConv: r.macs, attention: 0 },
      };
    }),
});

export const unetrBasicBlock = resBlockKind(
  'unetr-basic-block',
  'UNETR basic block',
  'layer.',
  "MONAI's UnetrBasicBlock with a residual block (SwinUNETR's encoderK):",
);

export const unetResBlock = resBlockKind(
  'unet-res-block',
  'U-Net residual block',
  '',
  "MONAI's UnetResBlock:",
);

export const unetrUpBlock: NodeKind = {
  type: 'unetr-up-block',
  title: 'UNETR up block',
  category: 'cnn',
  volume: true,
  role: 'upsample',
  description:
    "MONAI's UnetrUpBlock (SwinUNETR's decoderK): transposed conv 2³ stride 2 without bias, concatenated with the skip (up-sampled first), then a residual block to the out channels.",
  params: [outChannels3d(48)],
  inputs: [
    { name: 'in', label: 'volume', socket: 'image' },
    { name: 'skip', label: 'skip', socket: 'image' },
  ],
  outputs: volumePorts.outputs,
  infer: (ctx) =>
    onVolumes(
      ctx,
      [
        ['in', 'image'],
        ['skip', 'image'],
      ],
      (v, skip) => {
        const o = num(ctx.params, 'outChannels');
        const up = v.grid.map((n) => 2 * n) as Triple;
        if (up.join() !== skip.grid.join())
          return unknownResult([
            {
              port: 'skip',
              message: `the skip is ${skip.grid.join('×')} but the up-sampled input is ${up.join('×')}`,
            },
          ]);
        const r = resBlock('conv_block.', o + skip.channels, o, product(up));
        return {
          outputs: { out: { kind: 'image', spatial: up, channels: o } },
          problems: [],
          weights: [
            ...convT3dWeights('transp_conv.conv.', v.channels, o, [2, 2, 2], false),
            ...r.weights,
          ],
          macs: { linearConv: product(up) * o * v.channels + r.macs, attention: 0 },
        };
      },
    ),
};

export const hiddenNorm3d: NodeKind = {
  type: 'hidden-norm-3d',
  title: 'Hidden-state norm',
  category: 'norm',
  volume: true,
  role: 'plain',
  description:
    "SwinUNETR's hidden-state normalisation (§c.2): LayerNorm over the channels of every voxel, eps 1e-5, without weights; tokens in, a volume out for the CNN path.",
  params: [],
  inputs: [{ name: 'in', label: 'tokens', socket: 'tokens' }],
  outputs: volumePorts.outputs,
  infer: (ctx) =>
    onVolumes(ctx, [['in', 'tokens']], (v) => ({
      ...unknownResult(),
      outputs: { out: { kind: 'image', spatial: v.grid, channels: v.channels } },
    })),
};

export const patchEmbed3d: NodeKind = {
  type: 'patch-embed-3d',
  title: 'Patch embedding 3D',
  category: 'embedding',
  volume: true,
  role: 'plain',
  description:
    "SwinUNETR's patch embedding (§c.1): conv with kernel = stride = patch on the volume (ends zero-padded to a multiple of the patch), with bias; no norm, no position embedding.",
  params: [
    { name: 'patch', label: 'Patch', type: 'int', default: 2, min: 1, max: 16 },
    { name: 'embedDim', label: 'Embed dim', type: 'int', default: 48, min: 1, max: 4096 },
  ],
  inputs: volumePorts.inputs,
  outputs: [{ name: 'out', label: 'tokens', socket: 'tokens' }],
  infer: (ctx) =>
    onVolumes(ctx, [['in', 'image']], (v) => {
      const p = num(ctx.params, 'patch');
      const e = num(ctx.params, 'embedDim');
      const k: Triple = [p, p, p];
      const grid = v.grid.map((n) => Math.ceil(n / p));
      return {
        outputs: { out: { kind: 'tokens', grid, channels: e } },
        problems: [],
        weights: conv3dWeights('proj.', e, v.channels, k, true),
        macs: { linearConv: conv3dMacs(grid, e, v.channels, k), attention: 0 },
      };
    }),
};
