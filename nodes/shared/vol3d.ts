/**
 * What the 3D node kinds (SwinUNETR, nnFormer; 3D-MAM-SPEC.md) share: the
 * volume input check, conv / transposed-conv weights named as the reference
 * state dicts name them, and their cost. A conv's MACs are
 * out voxels · Cout · Cin · kD·kH·kW; a transposed conv with kernel = stride
 * costs out voxels · Cout · Cin (each output voxel sees one input voxel).
 */
import {
  type InferContext,
  type InferResult,
  type KindProblem,
  type ParamSpec,
  type WeightSpec,
  isProblem,
  product,
  unknownResult,
} from '../../src/graph/node-kind.ts';
import type { Triple } from '../../src/graph/geometry3d.ts';

export interface Volume {
  grid: Triple;
  channels: number;
}

/** A 3D image or 3D token grid on `port`, or a problem naming what arrived instead. */
export function volumeIn(
  ctx: InferContext,
  socket: 'image' | 'tokens',
  port = 'in',
): Volume | KindProblem | undefined {
  const s = ctx.inputs[port];
  if (!s) return undefined;
  if (s.kind !== socket) return { port, message: `expects ${socket}, got ${s.kind}` };
  const grid = s.kind === 'image' ? s.spatial : s.kind === 'tokens' ? s.grid : [];
  if (grid.length !== 3)
    return {
      port,
      message: `expects a 3D ${socket === 'image' ? 'volume' : 'token grid'}, got ${grid.length}D`,
    };
  return { grid: grid as Triple, channels: s.channels };
}

/** A kind's rule on its volume input(s): unknown until all are known, problems when not volumes. */
export function onVolumes(
  ctx: InferContext,
  ports: [string, 'image' | 'tokens'][],
  rule: (...v: Volume[]) => InferResult,
): InferResult {
  const vs = ports.map(([p, s]) => volumeIn(ctx, s, p));
  const bad = vs.filter((v): v is KindProblem => v !== undefined && isProblem(v));
  if (bad.length) return unknownResult(bad);
  if (vs.some((v) => v === undefined)) return unknownResult();
  return rule(...(vs as Volume[]));
}

/** A kernel weight of `shape` and its bias of `cout`, PyTorch's default init for `fanIn`. */
function kernelWeights(
  prefix: string,
  shape: number[],
  cout: number,
  fanIn: number,
  bias: boolean,
): WeightSpec[] {
  const w: WeightSpec[] = [{ name: `${prefix}weight`, shape, init: 'conv-uniform', fanIn }];
  if (bias) w.push({ name: `${prefix}bias`, shape: [cout], init: 'conv-uniform', fanIn });
  return w;
}

/** Conv3d weight `(Cout, Cin, kD, kH, kW)` (+ bias). */
export const conv3dWeights = (
  prefix: string,
  cout: number,
  cin: number,
  k: Triple,
  bias: boolean,
): WeightSpec[] => kernelWeights(prefix, [cout, cin, ...k], cout, cin * product(k), bias);

/** ConvTranspose3d weight `(Cin, Cout, kD, kH, kW)` (+ bias); PyTorch's fan-in is Cout·k³. */
export const convT3dWeights = (
  prefix: string,
  cin: number,
  cout: number,
  k: Triple,
  bias: boolean,
): WeightSpec[] => kernelWeights(prefix, [cin, cout, ...k], cout, cout * product(k), bias);

export const conv3dOut = (n: number, k: number, s: number, p: number): number =>
  Math.floor((n + 2 * p - k) / s) + 1;

export const conv3dMacs = (out: readonly number[], cout: number, cin: number, k: Triple): number =>
  product(out) * cout * cin * product(k);

export const triple = (ps: Record<string, unknown>, name: string): Triple =>
  String(ps[name]).split(/[,x×]/).map(Number) as Triple;

/** A per-axis integer triple written `2,4,4`. */
export const tripleParam = (name: string, label: string, def: string, help: string): ParamSpec => ({
  name,
  label,
  type: 'string',
  default: def,
  help,
});

/** Problems with a triple parameter: three positive integers. */
export function tripleProblems(t: number[], what: string, min = 1): KindProblem[] {
  return t.length === 3 && t.every((v) => Number.isInteger(v) && v >= min)
    ? []
    : [{ message: `${what} must be three integers ≥ ${min} (D,H,W), e.g. 2,2,2` }];
}

export { outChannelsParam as outChannels3d } from './cnn.ts';
