/**
 * 3D window-attention blocks of SwinUNETR and nnFormer (3D-MAM-SPEC.md
 * §c.3–c.7, c.9): the SAM block, its MAM unit (same weights, plus memory in
 * and out), nnFormer's decoder cross-attention block, and 3D patch merging
 * in both of SwinUNETR's merge orders.
 */
import type {
  InferContext,
  InferResult,
  KindProblem,
  NodeKind,
  ParamSpec,
  Shape,
  WeightSpec,
} from '../src/graph/node-kind.ts';
import {
  bool,
  layerNormWeights,
  linearWeights,
  num,
  product,
  str,
} from '../src/graph/node-kind.ts';
import {
  nnformerIndex3d,
  nnformerWindows3d,
  swinIndex3d,
  swinWindows3d,
  type Triple,
  type Windows3d,
} from '../src/graph/geometry3d.ts';
import { blockParams, headsParam, memoryPorts, tokenPorts } from './shared/transformer.ts';
import { onVolumes, type Volume } from './shared/vol3d.ts';

const flavourParam: ParamSpec = {
  name: 'flavour',
  label: 'Flavour',
  type: 'enum',
  default: 'swinunetr',
  options: ['swinunetr', 'nnformer'],
  help: "swinunetr: windows clamped per axis at run time, a 13³-row bias table indexed by the 7³ rule (the top-left N×N block on smaller windows), MLP keys mlp.linear1/2. nnformer: one cubic window clamped to the grid's smallest side, a (2w−1)³ table with nnFormer's non-injective index, MLP keys mlp.fc1/2.",
};

const window3dParams: ParamSpec[] = [
  { name: 'window', label: 'Window', type: 'int', default: 7, min: 1, max: 16 },
  {
    name: 'shift',
    label: 'Shift',
    type: 'int',
    default: 0,
    min: 0,
    max: 15,
    help: '0 for W-MSA; ⌊window/2⌋ for SW-MSA. Axes the window covers whole are not shifted.',
  },
];

export function windows3d(ctx: InferContext, grid: Triple): Windows3d {
  const [w, s] = [num(ctx.params, 'window'), num(ctx.params, 'shift')];
  return str(ctx.params, 'flavour') === 'nnformer'
    ? nnformerWindows3d(grid, w, s)
    : swinWindows3d(grid, w, s);
}

function tableRows(ctx: InferContext, win: Windows3d): number {
  return str(ctx.params, 'flavour') === 'nnformer'
    ? nnformerIndex3d(win.window[0]).rows
    : swinIndex3d(num(ctx.params, 'window')).rows;
}

function attentionWeights(
  ctx: InferContext,
  c: number,
  win: Windows3d,
  cross: boolean,
): WeightSpec[] {
  const heads = num(ctx.params, 'heads');
  const hidden = Math.floor(c * num(ctx.params, 'mlpRatio'));
  const fc = str(ctx.params, 'flavour') === 'nnformer' ? ['fc1', 'fc2'] : ['linear1', 'linear2'];
  return [
    ...layerNormWeights('norm1.', c),
    {
      name: 'attn.relative_position_bias_table',
      shape: [tableRows(ctx, win), heads],
      init: 'trunc-normal',
    },
    ...(cross
      ? linearWeights('attn.kv.', c, 2 * c, bool(ctx.params, 'qkvBias'))
      : linearWeights('attn.qkv.', c, 3 * c, bool(ctx.params, 'qkvBias'))),
    ...linearWeights('attn.proj.', c, c, true),
    ...layerNormWeights('norm2.', c),
    ...linearWeights(`mlp.${fc[0]}.`, c, hidden, true),
    ...linearWeights(`mlp.${fc[1]}.`, hidden, c, true),
  ];
}

function checks(ctx: InferContext, v: Volume, win: Windows3d): KindProblem[] {
  const heads = num(ctx.params, 'heads');
  const problems: KindProblem[] = [];
  if (v.channels % heads !== 0)
    problems.push({ message: `${v.channels} channels are not divisible by ${heads} heads` });
  if (win.shift.some((s, a) => s >= win.window[a]))
    problems.push({
      message: `shift ${win.shift.join(',')} must be smaller than window ${win.window.join(',')}`,
    });
  return problems;
}

/** Linear MACs on padded windows (qkv or kv, proj), the MLP on real tokens; attention on padded windows. */
function blockMacs(ctx: InferContext, v: Volume, win: Windows3d, cross: boolean) {
  const c = v.channels;
  const hidden = Math.floor(c * num(ctx.params, 'mlpRatio'));
  const padded = product(win.padded);
  return {
    linearConv: padded * (cross ? 3 : 4) * c * c + product(v.grid) * 2 * hidden * c,
    attention: 2 * padded * win.tokens * c,
  };
}

function inferBlock3d(ctx: InferContext, withMemory: boolean): InferResult {
  return onVolumes(ctx, [['in', 'tokens']], (v) => {
    const win = windows3d(ctx, v.grid);
    const problems = checks(ctx, v, win);
    const outputs: Record<string, Shape> = {
      out: { kind: 'tokens', grid: v.grid, channels: v.channels },
    };
    if (withMemory) {
      const mem = ctx.inputs.memIn;
      const window = Math.max(...win.window);
      if (
        mem &&
        (mem.kind !== 'memory' || mem.grid.join() !== v.grid.join() || mem.channels !== v.channels)
      )
        problems.push({
          port: 'memIn',
          message: `memory ${mem.kind === 'memory' ? `${mem.grid.join('×')}×${mem.channels}` : mem.kind} cannot feed a 3D stage at ${v.grid.join('×')}×${v.channels}: memory is reset per stage`,
        });
      outputs.memOut = {
        kind: 'memory',
        grid: v.grid,
        channels: v.channels,
        layout: 'window',
        window,
        shift: Math.max(...win.shift),
      };
    }
    return {
      outputs,
      problems,
      weights: attentionWeights(ctx, v.channels, win, false),
      macs: blockMacs(ctx, v, win, false),
    };
  });
}

const blockDescription =
  'LayerNorm → (pad, cyclic shift, 3D window partition) → window attention with the 3D relative-position bias and the −100 shift mask → reverse → residual; LayerNorm → MLP (GELU) → residual.';

export const swin3dBlock: NodeKind = {
  type: 'swin3d-block',
  title: 'Swin block 3D',
  category: 'attention',
  volume: true,
  role: 'attention',
  description: `3D Swin block (SwinUNETR / nnFormer): ${blockDescription}`,
  params: [headsParam, ...window3dParams, flavourParam, ...blockParams],
  ...tokenPorts,
  swapWith: 'mam-swin3d-block',
  infer: (ctx) => inferBlock3d(ctx, false),
};

export const mamSwin3dBlock: NodeKind = {
  type: 'mam-swin3d-block',
  title: 'Memory-attention unit 3D',
  category: 'attention',
  volume: true,
  role: 'memory-unit',
  description: `3D Swin block with memory-attention: q̂ = q + memory (in window layout, carried across the shift unaligned, as the reference does), and q̂ (before scaling) is the memory out. Same weights as the 3D Swin block. ${blockDescription}`,
  params: [headsParam, ...window3dParams, flavourParam, ...blockParams],
  ...memoryPorts,
  swapWith: 'swin3d-block',
  infer: (ctx) => inferBlock3d(ctx, true),
};

export const nnformerKvBlock: NodeKind = {
  type: 'nnformer-kv-block',
  title: 'Cross-attention block 3D',
  category: 'attention',
  volume: true,
  role: 'plain',
  description:
    "nnFormer's decoder block 0 (§c.9): x = up + skip; keys and values from LN(skip), queries are LN(up) split into heads without a projection (one norm1 for both), never shifted; then the MLP.",
  params: [headsParam, window3dParams[0], { ...flavourParam, default: 'nnformer' }, ...blockParams],
  inputs: [
    { name: 'in', label: 'up-sampled', socket: 'tokens' },
    { name: 'skip', label: 'skip', socket: 'tokens' },
  ],
  outputs: tokenPorts.outputs,
  infer: (ctx) =>
    onVolumes(
      ctx,
      [
        ['in', 'tokens'],
        ['skip', 'tokens'],
      ],
      (v, skip) => {
        const c2 = { ...ctx, params: { ...ctx.params, shift: 0 } };
        const win = windows3d(c2, v.grid);
        const problems = checks(c2, v, win);
        if (skip.grid.join() !== v.grid.join() || skip.channels !== v.channels)
          problems.push({
            port: 'skip',
            message: `the skip is ${skip.grid.join('×')}×${skip.channels} but the up-sampled tokens are ${v.grid.join('×')}×${v.channels}`,
          });
        return {
          outputs: { out: { kind: 'tokens', grid: v.grid, channels: v.channels } },
          problems,
          weights: attentionWeights(c2, v.channels, win, true),
          macs: blockMacs(c2, v, win, true),
        };
      },
    ),
};

export const patchMerging3d: NodeKind = {
  type: 'patch-merging-3d',
  title: 'Patch merging 3D',
  category: 'resampling',
  volume: true,
  role: 'downsample',
  description:
    "SwinUNETR's patch merging (§c.8): odd sides zero-padded, the 8 sub-grids y[a::2, b::2, c::2] concatenated (8C), LayerNorm, Linear 8C → 2C without bias. 'monai-0.9' is the reference's order, which takes (0,1,0) and (0,0,1) twice and never sees (1,1,0) and (0,1,1) (fixed in MONAI 1.5); 'all-eight' is MONAI ≥ 1.5's order (SwinUNETR's default PatchMerging), which sees every neighbour.",
  params: [
    {
      name: 'order',
      label: 'Merge order',
      type: 'enum',
      default: 'monai-0.9',
      options: ['monai-0.9', 'all-eight'],
    },
  ],
  ...tokenPorts,
  infer: (ctx) =>
    onVolumes(ctx, [['in', 'tokens']], (v) => {
      const c = v.channels;
      const grid = v.grid.map((n) => Math.ceil(n / 2));
      return {
        outputs: { out: { kind: 'tokens', grid, channels: 2 * c } },
        problems: [],
        weights: [
          ...layerNormWeights('norm.', 8 * c),
          ...linearWeights('reduction.', 8 * c, 2 * c, false),
        ],
        macs: { linearConv: product(grid) * 16 * c * c, attention: 0 },
      };
    }),
};
