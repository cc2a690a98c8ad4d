/**
 * What the CNN node kinds of DA-TransUNet share (DA-TRANSUNET-MAM-SPEC.md
 * §b–c): the image input check, conv / norm weights named as the reference
 * state dict names them, and conv cost. A conv's MACs are
 * Ho·Wo·Cout·Cin·k² (bias not counted), as the spec counts them.
 */
import {
  type InferContext,
  type InferResult,
  type KindProblem,
  type ParamSpec,
  type PortSpec,
  type WeightSpec,
  isProblem,
  unknownResult,
} from '../../src/graph/node-kind.ts';

export interface ImageShape {
  spatial: number[];
  channels: number;
}

/** The 2D image input of a kind, or a problem naming what arrived instead. */
export function imageIn(ctx: InferContext, port = 'in'): ImageShape | KindProblem | undefined {
  const s = ctx.inputs[port];
  if (!s) return undefined;
  if (s.kind !== 'image') return { port, message: `expects an image, got ${s.kind}` };
  if (s.spatial.length !== 2)
    return { port, message: `expects a 2D image, got ${s.spatial.length}D` };
  return s;
}

export { isProblem };

/** Output side of a convolution or pooling window: ⌊(n + 2p − k)/s⌋ + 1. */
export const convOut = (n: number, kernel: number, stride = 1, padding = 0): number =>
  Math.floor((n + 2 * padding - kernel) / stride) + 1;

export function convWeights(
  prefix: string,
  cout: number,
  cin: number,
  k: number,
  bias: boolean,
): WeightSpec[] {
  const fanIn = cin * k * k;
  const w: WeightSpec[] = [
    { name: `${prefix}weight`, shape: [cout, cin, k, k], init: 'conv-uniform', fanIn },
  ];
  if (bias) w.push({ name: `${prefix}bias`, shape: [cout], init: 'conv-uniform', fanIn });
  return w;
}

/** GroupNorm / affine norm weights. */
export const affineWeights = (prefix: string, c: number): WeightSpec[] => [
  { name: `${prefix}weight`, shape: [c], init: 'ones' },
  { name: `${prefix}bias`, shape: [c], init: 'zeros' },
];

/** BatchNorm2d: affine weights and the running statistics (state, not parameters). */
export const batchNormWeights = (prefix: string, c: number): WeightSpec[] => [
  ...affineWeights(prefix, c),
  { name: `${prefix}running_mean`, shape: [c], init: 'zeros', state: true },
  { name: `${prefix}running_var`, shape: [c], init: 'ones', state: true },
];

/** Conv MACs on an output grid. */
export const convMacs = (out: number[], cout: number, cin: number, k: number): number =>
  out[0] * out[1] * cout * cin * k * k;

export const outChannelsParam = (def: number): ParamSpec => ({
  name: 'outChannels',
  label: 'Out channels',
  type: 'int',
  default: def,
  min: 1,
  max: 8192,
});

export const bnParams = (eps: number, momentum: number): ParamSpec[] => [
  {
    name: 'bnEps',
    label: 'BatchNorm eps',
    type: 'float',
    default: eps,
    min: 0,
    max: 1,
  },
  {
    name: 'bnMomentum',
    label: 'BatchNorm momentum',
    type: 'float',
    default: momentum,
    min: 0,
    max: 1,
    help: "PyTorch's convention: running ← (1 − momentum)·running + momentum·batch.",
  },
];

export const groupsParam: ParamSpec = {
  name: 'groups',
  label: 'GroupNorm groups',
  type: 'int',
  default: 32,
  min: 1,
  max: 1024,
};

export const imagePorts: { inputs: PortSpec[]; outputs: PortSpec[] } = {
  inputs: [{ name: 'in', label: 'image', socket: 'image' }],
  outputs: [{ name: 'out', label: 'image', socket: 'image' }],
};

/** A kind's shape rule on its image input: unknown until the input is, a problem when it is not an image. */
export function onImage(ctx: InferContext, rule: (img: ImageShape) => InferResult): InferResult {
  const img = imageIn(ctx);
  if (!img) return unknownResult();
  if (isProblem(img)) return unknownResult([img]);
  return rule(img);
}

/** Kernel, stride and padding parameters of a convolution or pooling window. */
export const windowParams = (kernel: number, stride: number, padding: number): ParamSpec[] => [
  { name: 'kernel', label: 'Kernel', type: 'int', default: kernel, min: 1, max: 15 },
  { name: 'stride', label: 'Stride', type: 'int', default: stride, min: 1, max: 8 },
  { name: 'padding', label: 'Padding', type: 'int', default: padding, min: 0, max: 7 },
];
