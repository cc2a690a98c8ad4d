/**
 * What a node kind declares: parameters, ports, its shape rule and its cost.
 * Kinds live in nodes/, one file each, and are pure (no tensor library); the
 * tensor math of each kind is its kernel in src/compile/kernels/. This module
 * holds the contract and the small helpers every kind uses.
 */
import { formatGrid, product } from './geometry.ts';
import type { ParamValue } from './types.ts';

export type SocketKind = 'image' | 'tokens' | 'memory' | 'mask' | 'scalar';
export type MemoryLayout = 'window' | 'spatial';

/** Shapes are per sample (no batch). Grids have 2 (H,W) or 3 (D,H,W) entries. */
export type Shape =
  | { kind: 'image'; spatial: number[]; channels: number }
  | { kind: 'tokens'; grid: number[]; channels: number }
  | {
      kind: 'memory';
      grid: number[];
      channels: number;
      layout: MemoryLayout;
      /** Effective window and shift of the unit that produced it (window layout order). */
      window: number;
      shift: number;
    }
  | { kind: 'mask'; spatial: number[]; classes: number }
  | { kind: 'scalar' };

export type ParamType = 'int' | 'float' | 'enum' | 'bool' | 'string' | 'string[]';

export interface ParamSpec {
  name: string;
  label: string;
  type: ParamType;
  default: ParamValue;
  min?: number;
  max?: number;
  options?: readonly string[];
  help?: string;
}

export interface PortSpec {
  name: string;
  label: string;
  socket: SocketKind;
  /** An optional input may stay unconnected (the memory input of a MAM unit). */
  optional?: boolean;
}

export type WeightInit =
  | 'trunc-normal' // normal std 0.02, truncated at ±2 absolute (Linear weights, bias tables)
  | 'zeros'
  | 'ones'
  | 'conv-uniform'; // PyTorch's default conv rule: uniform ±1/sqrt(fanIn)

export interface WeightSpec {
  /** Name as in the reference PyTorch module (`attn.qkv.weight`). */
  name: string;
  /** Shape as PyTorch stores it (Linear `[out, in]`, Conv `[out, in, k, k]`). */
  shape: number[];
  init: WeightInit;
  fanIn?: number;
  /**
   * State, not a trained weight (BatchNorm's running statistics): saved in
   * checkpoints and state dicts, updated by the forward pass in training,
   * never by the optimiser, and not counted as a parameter.
   */
  state?: boolean;
}

export interface Macs {
  linearConv: number;
  attention: number;
}

export interface KindProblem {
  message: string;
  /** The input port the problem is about; the engine also marks the link into it. */
  port?: string;
}

export interface InferContext {
  params: Record<string, ParamValue>;
  inputs: Record<string, Shape | undefined>;
}

export interface InferResult {
  outputs: Record<string, Shape>;
  problems: KindProblem[];
  weights: WeightSpec[];
  macs: Macs;
}

export type NodeCategory =
  | 'input'
  | 'embedding'
  | 'attention'
  | 'memory'
  | 'resampling'
  | 'skip'
  | 'cnn'
  | 'dual-attention'
  | 'norm'
  | 'head'
  | 'output';

/** Roles the graph analysis needs to know about, independent of the kind id. */
export type NodeRole =
  | 'attention' // a self-attention block (SAM)
  | 'memory-unit' // a memory-attention unit (MAM)
  | 'memory-resampling' // memory merging / expanding
  | 'downsample' // patch merging: starts a new encoder stage
  | 'upsample' // patch expanding / final expanding: marks the decoder
  | 'input'
  | 'output'
  | 'plain';

export interface NodeKind {
  type: string;
  title: string;
  category: NodeCategory;
  /** Works on volumes (a depth axis): the palette lists it in its category's 3D section. */
  volume?: boolean;
  role: NodeRole;
  description: string;
  params: readonly ParamSpec[];
  inputs: readonly PortSpec[];
  outputs: readonly PortSpec[];
  /** Kind to swap with (SAM ↔ MAM): same weights, same ids. */
  swapWith?: string;
  /** Which backends can train it, when not all four. */
  trainableOn?: readonly string[];
  infer(ctx: InferContext): InferResult;
}

/** The node kinds a host offers, by type id (in palette order). */
export type Catalogue = ReadonlyMap<string, NodeKind>;

export const NO_MACS: Macs = { linearConv: 0, attention: 0 };

export { formatGrid, product } from './geometry.ts';

export function describeShape(s: Shape): string {
  switch (s.kind) {
    case 'image':
      return `${formatGrid(s.spatial)}×${s.channels}`;
    case 'tokens':
    case 'memory':
      return `${formatGrid(s.grid)}×${s.channels}`;
    case 'mask':
      return `${formatGrid(s.spatial)} (${s.classes} classes)`;
    case 'scalar':
      return 'scalar';
  }
}

/** Parameter accessors: values were validated on load; these only narrow types. */
export const num = (p: Record<string, ParamValue>, name: string): number => Number(p[name]);
export const str = (p: Record<string, ParamValue>, name: string): string => String(p[name]);
export const bool = (p: Record<string, ParamValue>, name: string): boolean => p[name] === true;

export function linearWeights(
  prefix: string,
  inF: number,
  outF: number,
  bias: boolean,
): WeightSpec[] {
  const w: WeightSpec[] = [{ name: `${prefix}weight`, shape: [outF, inF], init: 'trunc-normal' }];
  if (bias) w.push({ name: `${prefix}bias`, shape: [outF], init: 'zeros' });
  return w;
}

export function layerNormWeights(prefix: string, c: number): WeightSpec[] {
  return [
    { name: `${prefix}weight`, shape: [c], init: 'ones' },
    { name: `${prefix}bias`, shape: [c], init: 'zeros' },
  ];
}

/** Trainable parameters: every weight but state (running statistics). */
export const paramCount = (weights: readonly WeightSpec[]): number =>
  weights.reduce((a, w) => a + (w.state ? 0 : product(w.shape)), 0);

/** Result for a node whose inputs are not all known: nothing to say beyond the problems. */
export const unknownResult = (problems: KindProblem[] = []): InferResult => ({
  outputs: {},
  problems,
  weights: [],
  macs: { ...NO_MACS },
});

/** The token input of a kind, or a problem naming what arrived instead. */
export function tokensIn(
  ctx: InferContext,
  port = 'in',
): { grid: number[]; channels: number } | KindProblem | undefined {
  const s = ctx.inputs[port];
  if (!s) return undefined;
  if (s.kind !== 'tokens') return { port, message: `expects tokens, got ${s.kind}` };
  return s;
}

export const isProblem = (x: unknown): x is KindProblem =>
  typeof x === 'object' && x !== null && 'message' in x;
