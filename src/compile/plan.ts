/**
 * The compile plan: the IR the passes of `./passes.ts` build, bound to each
 * step's node kind and kernel for the model to run.
 */
import type { Analysis } from '../graph/infer.ts';
import type { Catalogue, NodeKind, Shape, WeightSpec } from '../graph/node-kind.ts';
import type { GraphDoc, GraphIssue, ParamValue, PortRef } from '../graph/types.ts';
import type { Kernel, KernelTable } from './kernels/types.ts';
import { planPasses, type PlanIR } from './passes.ts';

export type { HandOff, PlanIR, StepIR } from './passes.ts';

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
  /** The same plan as plain data, as the passes built it. */
  ir: PlanIR;
}

export type PlanResult = { ok: true; plan: Plan } | { ok: false; errors: GraphIssue[] };

/**
 * Plans `doc` with the node kinds of `catalogue` and their forward passes
 * from `kernels` (both by type id; a host may add its own kinds to both):
 * runs the passes of `./passes.ts` and binds each step of the IR to its kind
 * and kernel.
 */
export function planGraph(doc: GraphDoc, catalogue: Catalogue, kernels: KernelTable): PlanResult {
  const r = planPasses({ doc, catalogue, kernels });
  if (!r.ok) return r;
  const { ir, analysed } = r;
  const steps = ir.steps.map((s): Step => {
    const step: Step = {
      id: s.id,
      type: s.type,
      kind: analysed.analysis.nodes.get(s.id)!.kind!,
      kernel: kernels.get(s.type),
      params: s.params,
      inputs: s.inputs,
      inShapes: s.inShapes,
      outShapes: s.outputs,
      weights: s.weights,
    };
    if (s.memoryOut?.reader !== undefined) step.memoryWindowOut = s.memoryOut.window;
    return step;
  });
  return {
    ok: true,
    plan: {
      steps,
      input: ir.input,
      output: ir.output,
      classNames: ir.classNames,
      analysis: analysed.analysis,
      ir,
    },
  };
}

/** The plan as plain, serialisable data (`mam inspect --plan`): steps in execution order. */
export function planIR(plan: Plan): PlanIR {
  return structuredClone(plan.ir);
}
