/**
 * Shared by the compile-*.test.ts files: the small Swin-Unet-MAM graphs they
 * verify, random weights that make every path matter, and state-dict
 * conversion to float64 for the reference executor.
 */
import * as tf from '#tfjs';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph, type Plan } from '../../src/compile/plan.ts';
import { swinUnet, type MemoryWiring } from '../../src/graph/presets.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { Rng } from '../reference/math.ts';
import type { RefState } from '../reference/graph.ts';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';

/** 2 stages (16² × 8 → 8² × 16), window 4 with shifted blocks in both stages, 2 input channels. */
export const SMALL = {
  imageSize: 32,
  inChannels: 2,
  classes: 3,
  embedDim: 8,
  depths: [2, 2],
  heads: [2, 4],
  window: 4,
  patchSize: 2,
} as const;

export function smallMam(
  wiring: MemoryWiring,
  memoryLayout: 'window' | 'spatial',
  mergeMode: 'conv' | 'avg' | 'max' = 'conv',
  cfg: {
    imageSize: number;
    inChannels: number;
    classes: number;
    embedDim: number;
    depths: readonly number[];
    heads: readonly number[];
    window: number;
    patchSize: number;
  } = SMALL,
): GraphDoc {
  return swinUnet(
    {
      title: `small ${wiring} ${memoryLayout}`,
      description: '',
      imageSize: cfg.imageSize,
      inChannels: cfg.inChannels,
      classNames: Array.from({ length: cfg.classes }, (_, i) => `c${i}`),
      embedDim: cfg.embedDim,
      depths: [...cfg.depths],
      heads: [...cfg.heads],
      window: cfg.window,
      patchSize: cfg.patchSize,
      dropPath: 0.1,
      encoder: wiring,
      decoder: wiring,
      memoryLayout,
      mergeMode,
    },
    catalogue,
  );
}

export function compileDoc(doc: GraphDoc, seed = 0): { plan: Plan; model: CompiledModel } {
  const p = planGraph(doc, catalogue, kernels);
  if (!p.ok) throw new Error(p.errors.map((e) => e.message).join('\n'));
  return { plan: p.plan, model: CompiledModel.create(p.plan, { seed }) };
}

/**
 * Random weights larger than the initialisation's (std 0.02 makes attention
 * uniform and memory negligible): LN scales 1 ± 0.2, biases ± 0.2, bias
 * tables ± 0.5, matrices 0.8/√fan_in. Float32-exact values.
 */
export function randomizeWeights(model: CompiledModel, seed: number): void {
  const rng = new Rng(seed);
  for (const w of model.weights.values()) {
    const s = w.spec.shape;
    const n = s.reduce((a, b) => a * b, 1);
    let values;
    if (w.spec.init === 'ones') values = rng.array(n, 0.2, 1);
    else if (s.length === 1) values = rng.array(n, 0.2);
    else if (w.spec.name.endsWith('relative_position_bias_table')) values = rng.array(n, 0.5);
    else values = rng.array(n, 0.8 / Math.sqrt(s.slice(1).reduce((a, b) => a * b, 1)));
    const t = tf.tensor(Float32Array.from(values), s);
    model.assignTorch(w.key, t);
    t.dispose();
  }
}

/** The model's state dict (PyTorch layout) in float64 for the reference. */
export function refStateOf(model: CompiledModel): RefState {
  const out: RefState = new Map();
  for (const [k, t] of model.stateDict()) {
    out.set(k, { data: Float64Array.from(t.dataSync()), shape: t.shape });
    t.dispose();
  }
  return out;
}
