/**
 * The contract between the compiler and a node kind's tensor math. A node
 * kind's spec (nodes/) says what it is; its kernel, registered here by the
 * kind's type id, says how it computes on tfjs.
 */
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Shape } from '../../graph/node-kind.ts';
import type { ParamValue } from '../../graph/types.ts';
import type { ConstantCache } from '../../ops/windows.ts';
import type { AttentionProbe } from '../../ops/attention.ts';

/**
 * What a node's forward pass sees. Tensors: images NHWC `[B, H, W, C]`,
 * tokens and memory `[B, L, C]` (memory in its layout, see src/ops/attention.ts).
 */
export interface ForwardContext {
  params: Record<string, ParamValue>;
  inputs: Record<string, Tensor | undefined>;
  inShapes: Record<string, Shape | undefined>;
  outShapes: Record<string, Shape>;
  /** A weight in the ops layout (Linear `[in, out]`, convs flattened), see src/compile/layout.ts. */
  weight(name: string): Tensor;
  training: boolean;
  /** Seed for this node's randomness in this step (drop-path). */
  seed: number;
  /**
   * Training only: the new value of a state weight (BatchNorm running
   * statistics), by its name; applied to the model as the step runs.
   */
  updateState?(name: string, value: Tensor): void;
  /** For memory resampling in window layout: the window of the unit that reads the output. */
  memoryWindowOut?: number;
  /** The model's constant tensors (masks, index matrices), built once and kept with it. */
  constants?: ConstantCache;
  /** Attention units: hands their softmax to an analysis (src/analysis/maps.ts); absent in training and inference. */
  attentionProbe?: AttentionProbe;
}

/**
 * A node kind's forward pass: its output tensors by port name. With
 * `recompute` (single-output kernels), training keeps only the node's inputs
 * and its backward pass runs it again (src/compile/recompute.ts).
 */
export type Kernel = ((ctx: ForwardContext) => Record<string, Tensor>) & { recompute?: boolean };

/** The kernel, marked to be recomputed in the backward pass of training. */
export const recomputed = (k: Kernel): Kernel => Object.assign(k, { recompute: true });

/** Kernels by node kind type id. A kind with no outputs (the output node) needs none. */
export type KernelTable = ReadonlyMap<string, Kernel>;
