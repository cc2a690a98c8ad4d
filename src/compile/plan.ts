/**
 * Pass 1 of compilation: a checked graph becomes an ordered list of steps,
 * each knowing its inputs, shapes, weights and (for memory resampling) the
 * window of the unit that will read its output.
 */
import { analyzeGraph, type Analysis } from '../graph/infer.ts';
import { effectiveWindow } from '../graph/geometry.ts';
import type { Catalogue, MemoryLayout, NodeKind, Shape, WeightSpec } from '../graph/node-kind.ts';
import type { GraphDoc, GraphIssue, ParamValue, PortRef } from '../graph/types.ts';
import type { Kernel, KernelTable } from './kernels/types.ts';

export interface Step {
  id: string;
  type: string;
  kind: NodeKind;
  /** The forward pass; absent for a kind that computes nothing (the output node). */
  kernel?: Kernel;
  params: Record<string, ParamValue>;
  inputs: Record<string, PortRef>;
  inShapes: Record<string, Shape | undefined>;
  outShapes: Record<string, Shape>;
  weights: WeightSpec[];
  memoryWindowOut?: number;
}

export interface Plan {
  steps: Step[];
  input: { node: string; shape: number[] };
  /** Where the logits come from, and their NHWC shape with batch 1. */
  output: { node: string; from: PortRef; shape: number[] };
  classNames: string[];
  analysis: Analysis;
}

export type PlanResult = { ok: true; plan: Plan } | { ok: false; errors: GraphIssue[] };

/**
 * Plans `doc` with the node kinds of `catalogue` and their forward passes
 * from `kernels` (both by type id; a host may add its own kinds to both).
 */
export function planGraph(doc: GraphDoc, catalogue: Catalogue, kernels: KernelTable): PlanResult {
  const a = analyzeGraph(doc, catalogue);
  const errors = a.issues.filter((i) => i.severity === 'error');
  if (errors.length) return { ok: false, errors };
  const fail = (message: string, path = '$.nodes'): PlanResult => ({
    ok: false,
    errors: [{ path, severity: 'error', message }],
  });
  const noKernel = doc.nodes.findIndex((n) => {
    const kind = a.nodes.get(n.id)?.kind;
    return kind !== undefined && kind.outputs.length > 0 && !kernels.has(kind.type);
  });
  if (noKernel >= 0) {
    const n = doc.nodes[noKernel];
    return fail(
      `node '${n.id}': no kernel for node kind '${n.type}', so the graph cannot be compiled`,
      `$.nodes[${noKernel}]`,
    );
  }
  if (a.inputs.length !== 1)
    return fail(
      `the graph needs exactly one Image input node to compile, it has ${a.inputs.length}`,
    );
  if (a.outputs.length !== 1)
    return fail(
      `the graph needs exactly one Segmentation output node to compile, it has ${a.outputs.length}`,
    );

  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const feeds = new Map<string, PortRef>(
    doc.links.map((l) => [`${l.to.node}\u0000${l.to.port}`, l.from]),
  );
  const memTargets = new Map<string, string>(); // resampler/unit id → id its memOut feeds
  for (const l of doc.links) if (l.from.port === 'memOut') memTargets.set(l.from.node, l.to.node);

  /** Window of the first unit downstream of a resampler on its chain. */
  const readerWindow = (id: string): number | undefined => {
    for (
      let cur = memTargets.get(id), hops = 0;
      cur !== undefined && hops < 1000;
      cur = memTargets.get(cur), hops++
    ) {
      const info = a.nodes.get(cur);
      if (info?.kind?.role === 'memory-unit') {
        const m = info.outputs.memOut;
        return m?.kind === 'memory' ? m.window : undefined;
      }
    }
    return undefined;
  };

  const steps: Step[] = a.order.map((id) => {
    const info = a.nodes.get(id)!;
    const kind = info.kind!;
    const inputs: Record<string, PortRef> = {};
    for (const p of kind.inputs) {
      const from = feeds.get(`${id}\u0000${p.name}`);
      if (from) inputs[p.name] = from;
    }
    const step: Step = {
      id,
      type: kind.type,
      kind,
      kernel: kernels.get(kind.type),
      params: byId.get(id)!.params,
      inputs,
      inShapes: info.inputs,
      outShapes: info.outputs,
      weights: info.weights,
    };
    if (kind.role === 'memory-resampling') {
      const w = readerWindow(id);
      if (w !== undefined) step.memoryWindowOut = w;
    }
    return step;
  });
  const outNode = a.outputs[0].node;
  const outputStep = steps.find((s) => s.id === outNode)!;
  return {
    ok: true,
    plan: {
      steps,
      input: a.inputs[0],
      output: { node: outNode, from: outputStep.inputs.logits, shape: a.outputs[0].shape },
      classNames: outputStep.params.classNames as string[],
      analysis: a,
    },
  };
}

/** One step of the plan as plain data. */
export interface StepIR {
  id: string;
  type: string;
  /** Where each input port is fed from. */
  inputs: Record<string, PortRef>;
  outputs: Record<string, Shape>;
  /** The window and shift a window-attention step really uses on its grid. */
  window?: { window: number; shift: number };
  /** The memory a step hands on: its layout and, in window layout, the window it is partitioned in. */
  memoryOut?: { layout: MemoryLayout; window: number };
}

/** The plan as plain, serialisable data (`mam inspect --plan`): steps in execution order. */
export interface PlanIR {
  input: Plan['input'];
  output: Plan['output'];
  classNames: string[];
  steps: StepIR[];
}

export function planIR(plan: Plan): PlanIR {
  const steps = plan.steps.map((s): StepIR => {
    const ir: StepIR = {
      id: s.id,
      type: s.type,
      inputs: structuredClone(s.inputs),
      outputs: structuredClone(s.outShapes),
    };
    const x = s.inShapes.in;
    if (
      typeof s.params.window === 'number' &&
      typeof s.params.shift === 'number' &&
      x?.kind === 'tokens'
    )
      ir.window = effectiveWindow(x.grid, s.params.window, s.params.shift);
    const m = s.outShapes.memOut;
    if (m?.kind === 'memory')
      ir.memoryOut = {
        layout: m.layout,
        window: m.layout === 'window' ? (s.memoryWindowOut ?? m.window) : 0,
      };
    return ir;
  });
  return {
    input: structuredClone(plan.input),
    output: structuredClone(plan.output),
    classNames: [...plan.classNames],
    steps,
  };
}
