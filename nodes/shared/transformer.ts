/**
 * What SAM blocks and MAM units share: parameters, weights (named as the
 * reference PyTorch Swin/ViT block names them), shape rule and cost. A MAM
 * unit is the same block plus a memory input and output, so a swap keeps
 * every weight.
 */
import {
  type InferContext,
  type InferResult,
  type KindProblem,
  type ParamSpec,
  type PortSpec,
  type Shape,
  type WeightSpec,
  formatGrid,
  isProblem,
  layerNormWeights,
  linearWeights,
  num,
  bool,
  str,
  product,
  tokensIn,
  unknownResult,
  type MemoryLayout,
} from '../../src/graph/node-kind.ts';
import { effectiveWindow, windowProblems } from '../../src/graph/geometry.ts';

export const headsParam: ParamSpec = {
  name: 'heads',
  label: 'Heads',
  type: 'int',
  default: 3,
  min: 1,
  max: 64,
  help: 'Attention heads; the channel count must be divisible by it.',
};

export const windowParams: ParamSpec[] = [
  {
    name: 'window',
    label: 'Window',
    type: 'int',
    default: 7,
    min: 1,
    max: 32,
    help: 'Window side in tokens; when the grid is not larger, the window is the whole grid.',
  },
  {
    name: 'shift',
    label: 'Shift',
    type: 'int',
    default: 0,
    min: 0,
    max: 31,
    help: '0 for W-MSA; ⌊window/2⌋ for SW-MSA (cyclic shift with the -100 mask).',
  },
];

export const blockParams: ParamSpec[] = [
  { name: 'mlpRatio', label: 'MLP ratio', type: 'float', default: 4, min: 0.25, max: 16 },
  { name: 'qkvBias', label: 'QKV bias', type: 'bool', default: true },
  {
    name: 'dropPath',
    label: 'Drop path',
    type: 'float',
    default: 0,
    min: 0,
    max: 0.95,
    help: 'Stochastic depth rate in training; off in evaluation.',
  },
];

export const memoryLayoutParam: ParamSpec = {
  name: 'memoryLayout',
  label: 'Memory layout',
  type: 'enum',
  default: 'window',
  options: ['window', 'spatial'],
  help: "'window' keeps the memory in the block's window order, as the paper's code does; 'spatial' (our variant, a deviation from the paper) aligns it to pixels.",
};

export const tokenPorts: { inputs: PortSpec[]; outputs: PortSpec[] } = {
  inputs: [{ name: 'in', label: 'tokens', socket: 'tokens' }],
  outputs: [{ name: 'out', label: 'tokens', socket: 'tokens' }],
};

export const memoryPorts: { inputs: PortSpec[]; outputs: PortSpec[] } = {
  inputs: [
    ...tokenPorts.inputs,
    { name: 'memIn', label: 'memory', socket: 'memory', optional: true },
  ],
  outputs: [...tokenPorts.outputs, { name: 'memOut', label: 'memory', socket: 'memory' }],
};

interface Attention {
  /** Tokens each query attends to: w_eff^dims for windows, L for global. */
  keys: number;
  /** Effective window (0 for global attention) and shift. */
  window: number;
  shift: number;
  table?: WeightSpec;
}

function blockWeights(c: number, hidden: number, qkvBias: boolean, table?: WeightSpec) {
  return [
    ...layerNormWeights('norm1.', c),
    ...(table ? [table] : []),
    ...linearWeights('attn.qkv.', c, 3 * c, qkvBias),
    ...linearWeights('attn.proj.', c, c, true),
    ...layerNormWeights('norm2.', c),
    ...linearWeights('mlp.fc1.', c, hidden, true),
    ...linearWeights('mlp.fc2.', hidden, c, true),
  ];
}

function windowAttention(ctx: InferContext, grid: number[], problems: KindProblem[]): Attention {
  const { window, shift } = effectiveWindow(
    grid,
    num(ctx.params, 'window'),
    num(ctx.params, 'shift'),
  );
  for (const message of windowProblems(grid, { window, shift })) problems.push({ message });
  const dims = grid.length;
  const heads = num(ctx.params, 'heads');
  return {
    keys: window ** dims,
    window,
    shift,
    table: {
      name: 'attn.relative_position_bias_table',
      shape: [(2 * window - 1) ** dims, heads],
      init: 'trunc-normal',
    },
  };
}

function globalAttention(grid: number[]): Attention {
  return { keys: product(grid), window: 0, shift: 0 };
}

/** The memory a unit receives must sit on its own grid, with its channels and layout. */
function checkMemoryIn(
  mem: Shape | undefined,
  grid: number[],
  channels: number,
  layout: MemoryLayout,
  window: number,
  problems: KindProblem[],
) {
  if (!mem) return;
  if (mem.kind !== 'memory') {
    problems.push({ port: 'memIn', message: `expects memory, got ${mem.kind}` });
    return;
  }
  const sameGrid = formatGrid(mem.grid) === formatGrid(grid);
  if (!sameGrid || mem.channels !== channels) {
    const from = `${formatGrid(mem.grid)}×${mem.channels}`;
    const to = `${formatGrid(grid)}×${channels}`;
    const larger = product(mem.grid) > product(grid);
    const smaller = product(mem.grid) < product(grid);
    const fix = larger
      ? 'insert Memory Merging'
      : smaller
        ? 'insert Memory Expanding'
        : 'the channel counts must agree';
    problems.push({
      port: 'memIn',
      message: `memory ${from} cannot feed a stage at ${to}: ${fix}`,
    });
    return;
  }
  if (mem.layout !== layout) {
    problems.push({
      port: 'memIn',
      message: `memory chain mixes layouts: the incoming memory is in ${mem.layout} layout, this unit uses ${layout}`,
    });
    return;
  }
  if (layout === 'window' && mem.window > 0 && mem.window !== window) {
    problems.push({
      port: 'memIn',
      message: `window-layout memory from a window-${mem.window} unit cannot feed a window-${window} unit: use the same window or the spatial layout`,
    });
  }
}

export function inferBlock(
  ctx: InferContext,
  form: 'window' | 'global',
  withMemory: boolean,
): InferResult {
  const t = tokensIn(ctx);
  if (!t) return unknownResult();
  if (isProblem(t)) return unknownResult([t]);
  const { grid, channels: c } = t;
  const problems: KindProblem[] = [];
  const heads = num(ctx.params, 'heads');
  if (c % heads !== 0) {
    problems.push({ message: `${c} channels are not divisible by ${heads} heads` });
  }
  const att = form === 'window' ? windowAttention(ctx, grid, problems) : globalAttention(grid);
  const hidden = Math.floor(c * num(ctx.params, 'mlpRatio'));
  const L = product(grid);
  const outputs: Record<string, Shape> = { out: { kind: 'tokens', grid, channels: c } };
  if (withMemory) {
    const layout = str(ctx.params, 'memoryLayout') as MemoryLayout;
    checkMemoryIn(ctx.inputs.memIn, grid, c, layout, att.window, problems);
    outputs.memOut = {
      kind: 'memory',
      grid,
      channels: c,
      layout,
      window: att.window,
      shift: att.shift,
    };
  }
  return {
    outputs,
    problems,
    weights: blockWeights(c, hidden, bool(ctx.params, 'qkvBias'), att.table),
    macs: {
      linearConv: L * (4 * c * c + 2 * hidden * c),
      attention: 2 * L * att.keys * c,
    },
  };
}
