/**
 * The compile plan as a pipeline of named passes. Each pass is a pure
 * function from one plain object to the next; the last one's output is the
 * plan IR (`mam inspect --plan`), which `planGraph` binds to node kinds and
 * kernels.
 *
 *   analyse → order → resolveWindows → memoryHandOffs → weights
 */
import { analyzeGraph, type Analysis } from '../graph/infer.ts';
import { effectiveWindow } from '../graph/geometry.ts';
import type { Catalogue, MemoryLayout, NodeRole, Shape, WeightSpec } from '../graph/node-kind.ts';
import type { GraphDoc, GraphIssue, ParamValue, PortRef } from '../graph/types.ts';
import type { KernelTable } from './kernels/types.ts';

/** What planning starts from. */
export interface PlanSource {
  doc: GraphDoc;
  catalogue: Catalogue;
  kernels: KernelTable;
}

/** A pass that can refuse the graph says why, as graph issues. */
export type PassResult<T> = { ok: true; value: T } | { ok: false; errors: GraphIssue[] };

/** After `analyse`: a graph with no errors, one input, one output and a kernel for every kind. */
export interface Analysed extends PlanSource {
  analysis: Analysis;
}

/** After `order`: the steps in execution order, each with what feeds it and its shapes. */
export interface OrderedStep {
  id: string;
  type: string;
  role: NodeRole;
  params: Record<string, ParamValue>;
  /** Where each input port is fed from. */
  inputs: Record<string, PortRef>;
  inShapes: Record<string, Shape | undefined>;
  outputs: Record<string, Shape>;
}

interface Stage<S> {
  input: { node: string; shape: number[] };
  /** Where the logits come from, and their NHWC shape with batch 1. */
  output: { node: string; from: PortRef; shape: number[] };
  classNames: string[];
  steps: S[];
}

export type Ordered = Stage<OrderedStep>;

/** After `resolveWindows`: the window and shift a window-attention step really uses on its grid. */
export interface WindowedStep extends OrderedStep {
  window?: { window: number; shift: number };
}
export type Windowed = Stage<WindowedStep>;

/** One memory link: who hands memory to whom, and in which order it travels. */
export interface HandOff {
  from: PortRef;
  to: PortRef;
  grid: number[];
  channels: number;
  layout: MemoryLayout;
  /** In window layout, the window the memory is partitioned in on the way (0 in spatial layout). */
  window: number;
  /** The shift of the unit that wrote it (window layout order); 0 in spatial layout. */
  shift: number;
}

export interface HandOffStep extends WindowedStep {
  /**
   * The memory a step hands on: its layout and, in window layout, the window
   * it is partitioned in; for memory resampling that is the window of
   * `reader`, the first unit downstream on its chain.
   */
  memoryOut?: { layout: MemoryLayout; window: number; reader?: string };
}
export interface WithHandOffs extends Stage<HandOffStep> {
  handOffs: HandOff[];
}

/** After `weights`: every step's weights (names and shapes as PyTorch stores them) and the total. */
export interface StepIR extends HandOffStep {
  weights: WeightSpec[];
}
export interface PlanIR extends Stage<StepIR> {
  handOffs: HandOff[];
  params: number;
}

const issue = (message: string, path = '$.nodes'): GraphIssue => ({
  path,
  severity: 'error',
  message,
});

/** Analyses the graph and refuses what cannot be compiled. */
export function analyse(src: PlanSource): PassResult<Analysed> {
  const { doc, catalogue, kernels } = src;
  const analysis = analyzeGraph(doc, catalogue);
  const errors = analysis.issues.filter((i) => i.severity === 'error');
  if (errors.length) return { ok: false, errors };
  const noKernel = doc.nodes.findIndex((n) => {
    const kind = analysis.nodes.get(n.id)?.kind;
    return kind !== undefined && kind.outputs.length > 0 && !kernels.has(kind.type);
  });
  if (noKernel >= 0) {
    const n = doc.nodes[noKernel];
    const msg = `node '${n.id}': no kernel for node kind '${n.type}', so the graph cannot be compiled`;
    return { ok: false, errors: [issue(msg, `$.nodes[${noKernel}]`)] };
  }
  const count = (what: string, n: number) =>
    `the graph needs exactly one ${what} node to compile, it has ${n}`;
  if (analysis.inputs.length !== 1)
    return { ok: false, errors: [issue(count('Image input', analysis.inputs.length))] };
  if (analysis.outputs.length !== 1)
    return { ok: false, errors: [issue(count('Segmentation output', analysis.outputs.length))] };
  return { ok: true, value: { ...src, analysis } };
}

/** The steps in topological order, each with the ports that feed it. */
export function order({ doc, analysis }: Analysed): Ordered {
  const byId = new Map(doc.nodes.map((n) => [n.id, n]));
  const feeds = new Map<string, PortRef>(
    doc.links.map((l) => [`${l.to.node}\u0000${l.to.port}`, l.from]),
  );
  const steps = analysis.order.map((id): OrderedStep => {
    const info = analysis.nodes.get(id)!;
    const kind = info.kind!;
    const inputs: Record<string, PortRef> = {};
    for (const p of kind.inputs) {
      const from = feeds.get(`${id}\u0000${p.name}`);
      if (from) inputs[p.name] = structuredClone(from);
    }
    return {
      id,
      type: kind.type,
      role: kind.role,
      params: structuredClone(byId.get(id)!.params),
      inputs,
      inShapes: structuredClone(info.inputs),
      outputs: structuredClone(info.outputs),
    };
  });
  const out = analysis.outputs[0];
  const outStep = steps.find((s) => s.id === out.node)!;
  return {
    input: structuredClone(analysis.inputs[0]),
    output: { node: out.node, from: outStep.inputs.logits, shape: [...out.shape] },
    classNames: [...(outStep.params.classNames as string[])],
    steps,
  };
}

/** MAM-SPEC §1: a block's window is min(window, grid), with no shift when one window covers the grid. */
export function resolveWindows(plan: Ordered): Windowed {
  const steps = plan.steps.map((s): WindowedStep => {
    const x = s.inShapes.in;
    const { window, shift } = s.params;
    if (typeof window !== 'number' || typeof shift !== 'number' || x?.kind !== 'tokens') return s;
    return { ...s, window: effectiveWindow(x.grid, window, shift) };
  });
  return { ...plan, steps };
}

/** Every memory link with its layout, and what each step hands on. */
export function memoryHandOffs(plan: Windowed): WithHandOffs {
  const byId = new Map(plan.steps.map((s) => [s.id, s]));
  /** The step a step's memory output feeds (the first reader found). */
  const memTarget = new Map<string, string>();
  for (const s of plan.steps)
    for (const from of Object.values(s.inputs))
      if (byId.get(from.node)?.outputs[from.port]?.kind === 'memory' && !memTarget.has(from.node))
        memTarget.set(from.node, s.id);
  /** The first memory unit downstream of a resampler on its chain. */
  const readerOf = (id: string): WindowedStep | undefined => {
    for (let cur = memTarget.get(id), hops = 0; cur !== undefined && hops <= byId.size; hops++) {
      const s = byId.get(cur)!;
      if (s.role === 'memory-unit') return s;
      cur = memTarget.get(cur);
    }
    return undefined;
  };
  const steps = plan.steps.map((s): HandOffStep => {
    const m = s.outputs.memOut;
    if (m?.kind !== 'memory') return s;
    if (m.layout !== 'window') return { ...s, memoryOut: { layout: m.layout, window: 0 } };
    const reader = s.role === 'memory-resampling' ? readerOf(s.id) : undefined;
    const rm = reader?.outputs.memOut;
    if (reader && rm?.kind === 'memory')
      return { ...s, memoryOut: { layout: 'window', window: rm.window, reader: reader.id } };
    return { ...s, memoryOut: { layout: 'window', window: m.window } };
  });
  const outBy = new Map(steps.map((s) => [s.id, s]));
  const handOffs: HandOff[] = [];
  for (const s of steps)
    for (const [port, from] of Object.entries(s.inputs)) {
      const m = outBy.get(from.node)?.outputs[from.port];
      if (m?.kind !== 'memory') continue;
      const win = m.layout === 'window';
      handOffs.push({
        from: structuredClone(from),
        to: { node: s.id, port },
        grid: [...m.grid],
        channels: m.channels,
        layout: m.layout,
        window: win ? outBy.get(from.node)!.memoryOut!.window : 0,
        shift: win ? m.shift : 0,
      });
    }
  return { ...plan, steps, handOffs };
}

/** Each step's weights, and the number of parameters of the whole plan. */
export function weights(plan: WithHandOffs, { analysis }: Analysed): PlanIR {
  let params = 0;
  const steps = plan.steps.map((s): StepIR => {
    const ws = structuredClone(analysis.nodes.get(s.id)!.weights);
    for (const w of ws) params += w.shape.reduce((a, b) => a * b, 1);
    return { ...s, weights: ws };
  });
  return { ...plan, steps, params };
}

/** The passes in the order `planPasses` runs them (`mam inspect --plan --passes`). */
export const PASS_NAMES = [
  'analyse',
  'order',
  'resolveWindows',
  'memoryHandOffs',
  'weights',
] as const;

/** Runs the passes; the analysis comes along for the compiler's binding step. */
export function planPasses(
  src: PlanSource,
): { ok: true; ir: PlanIR; analysed: Analysed } | { ok: false; errors: GraphIssue[] } {
  const a = analyse(src);
  if (!a.ok) return a;
  const ir = weights(memoryHandOffs(resolveWindows(order(a.value))), a.value);
  return { ok: true, ir, analysed: a.value };
}
