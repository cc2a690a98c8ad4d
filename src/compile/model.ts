/**
 * Pass 2: a plan becomes a model: one set of named variables per node
 * (`<nodeId>/<weight name>`, the same for a SAM block and the MAM unit that
 * replaces it) and a forward pass that can hand back any port's tensor.
 */
import * as tf from '#tfjs';
import { hashString, initialValues } from './init.ts';
import { fromTorch, opsShape, toTorch } from './layout.ts';
import { runRecomputed } from './recompute.ts';
import { isWasmOutOfMemory, OutOfMemoryError, wasmDamaged } from '../backend/out-of-memory.ts';
import { LiveValues, portKey, releaseSchedule, tapeActive } from './release.ts';
import type { ForwardContext } from './kernels/types.ts';
import type { Plan, Step } from './plan.ts';
import type { WeightSpec } from '../graph/node-kind.ts';
import type { PortRef } from '../graph/types.ts';
import type { ConstantCache } from '../ops/windows.ts';
import type { AttentionProbeData } from '../ops/attention.ts';

let modelCounter = 0;

export interface ForwardOptions {
  training?: boolean;
  /** Seed of this step's randomness (drop-path); vary it per training step. */
  seed?: number;
  /** Extra ports to return (previews), as `node:port` keys. */
  keep?: PortRef[];
  /** Attention units hand their softmax to this (by node id); for analyses only (src/analysis/maps.ts). */
  attentionProbe?: (nodeId: string, data: AttentionProbeData) => void;
}

export interface NamedWeight {
  key: string;
  node: string;
  spec: WeightSpec;
  variable: tf.Variable;
}

export const weightKey = (node: string, name: string): string => `${node}/${name}`;

export class CompiledModel {
  readonly weights = new Map<string, NamedWeight>();
  /** Constant tensors of the forward pass (masks, index matrices), built on first use, kept until dispose. */
  private readonly constantTensors = new Map<string, tf.Tensor>();
  private readonly uid = ++modelCounter;
  private disposed = false;
  /** Which outputs each step reads for the last time (see ./release.ts), made on first use. */
  private releaseAfter?: string[][];

  private constructor(readonly plan: Plan) {}

  /** Builds the variables, initialised from `seed` as MAM-SPEC.md section 5 describes. */
  static create(plan: Plan, { seed = 0 }: { seed?: number } = {}): CompiledModel {
    const m = new CompiledModel(plan);
    for (const step of plan.steps) {
      for (const spec of step.weights) {
        const key = weightKey(step.id, spec.name);
        const value = tf.tidy(() =>
          fromTorch(spec, tf.tensor(initialValues(spec, key, seed), spec.shape)),
        );
        const variable = tf.variable(value, !spec.state, `m${m.uid}/${key}`);
        value.dispose();
        m.weights.set(key, { key, node: step.id, spec, variable });
      }
    }
    return m;
  }

  /** The trained variables (what optimisers and gradients see): every weight but state. */
  get variables(): tf.Variable[] {
    return [...this.weights.values()].filter((w) => !w.spec.state).map((w) => w.variable);
  }

  /** The trained variables by weight key: what an optimiser keeps slots for (state has none). */
  get trainedByKey(): Map<string, tf.Variable> {
    return new Map(
      [...this.weights.values()].filter((w) => !w.spec.state).map((w) => [w.key, w.variable]),
    );
  }

  get parameterCount(): number {
    return this.variables.reduce((a, v) => a + v.size, 0);
  }

  /** Logits `[B, H, W, classes]` for images `[B, H, W, C]` (plus kept ports). */
  forward(
    x: tf.Tensor4D,
    opts: ForwardOptions = {},
  ): { logits: tf.Tensor4D; ports: Record<string, tf.Tensor> } {
    this.checkInput(x);
    const { training = false, seed = 0, keep = [], attentionProbe } = opts;
    const result = tf.tidy(() => {
      const outKey = portKey(this.plan.output.from);
      const values = new LiveValues(new Set([outKey, ...keep.map(portKey)]), new Set([x.id]));
      // Without a tape nothing reads an output after its last consumer: free it then.
      const release = !tapeActive();
      const releases = (this.releaseAfter ??= releaseSchedule(this.plan));
      for (const [i, step] of this.plan.steps.entries()) {
        if (!step.kernel) {
          if (release) values.release(releases[i]);
          continue;
        }
        const ctx: ForwardContext = {
          params: step.params,
          inputs: this.gather(step, values, x),
          inShapes: step.inShapes,
          outShapes: step.outShapes,
          weight: (name) => this.variableOf(step.id, name),
          // State (running statistics) moves on as the training step runs, as in PyTorch.
          updateState: training
            ? (name, value) => this.stateOf(step.id, name).assign(value)
            : undefined,
          training,
          seed: hashString(`${seed}:${step.id}`),
          memoryWindowOut: step.memoryWindowOut,
          constants: this.constant,
          ...(attentionProbe
            ? { attentionProbe: (d: AttentionProbeData) => attentionProbe(step.id, d) }
            : {}),
        };
        // Without a tape a kernel's intermediates are dead once it returns: free
        // them then, not when the whole pass ends (a 96³ SwinUNETR's encoder1
        // left 1.3 GiB of conv, InstanceNorm and LeakyReLU results behind).
        const out = release
          ? tf.tidy(() => this.runStep(step, ctx, training))
          : this.runStep(step, ctx, training);
        for (const [port, t] of Object.entries(out)) values.set(`${step.id}:${port}`, t);
        if (release) values.release(releases[i]);
      }
      const container: Record<string, tf.Tensor> = { logits: values.get(outKey)! };
      for (const r of keep) {
        const t = values.get(portKey(r));
        if (t) container[portKey(r)] = t;
      }
      return container;
    });
    const { logits, ...ports } = result;
    return { logits: logits as tf.Tensor4D, ports };
  }

  /** Inference-mode logits. */
  predict(x: tf.Tensor4D): tf.Tensor4D {
    return this.forward(x).logits;
  }

  /** Every weight in PyTorch layout, keyed by module path (`layers.0.blocks.1.attn.qkv.weight`). */
  stateDict(): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const w of this.weights.values())
      out.set(`${w.node}.${w.spec.name}`, toTorch(w.spec, w.variable));
    return out;
  }

  /** Set one weight from a PyTorch-layout tensor of its declared shape. */
  assignTorch(key: string, value: tf.Tensor): void {
    const w = this.weights.get(key);
    if (!w) throw new Error(`no weight ${key}`);
    tf.tidy(() => w.variable.assign(fromTorch(w.spec, value)));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const w of this.weights.values()) w.variable.dispose();
    for (const t of this.constantTensors.values()) t.dispose();
    this.constantTensors.clear();
  }

  /** Number of constant tensors kept (masks, index matrices). */
  get constantCount(): number {
    return this.constantTensors.size;
  }

  private readonly constant: ConstantCache = (key, make) => {
    let t = this.constantTensors.get(key);
    if (!t) {
      t = tf.keep(tf.tidy(make));
      this.constantTensors.set(key, t);
    }
    return t as ReturnType<typeof make>;
  };

  private variableOf(node: string, name: string): tf.Tensor {
    const w = this.weights.get(weightKey(node, name));
    if (!w) throw new Error(`node '${node}' has no weight '${name}'`);
    return w.variable;
  }

  /** One step's kernel; running out of wasm memory in it names the node. */
  private runStep(step: Step, ctx: ForwardContext, training: boolean): Record<string, tf.Tensor> {
    try {
      return training && step.kernel!.recompute
        ? runRecomputed(step.kernel!, ctx, this.trainedOf(step))
        : step.kernel!(ctx);
    } catch (e) {
      if (e instanceof OutOfMemoryError || !isWasmOutOfMemory(e)) throw e;
      throw new OutOfMemoryError((e as Error).message, step.id, false, wasmDamaged(e));
    }
  }

  /** A step's trained weights (not state), by weight name. */
  private trainedOf(step: Step): [string, tf.Tensor][] {
    return step.weights
      .filter((w) => !w.state)
      .map((w) => [w.name, this.variableOf(step.id, w.name)]);
  }

  private stateOf(node: string, name: string): tf.Variable {
    const w = this.weights.get(weightKey(node, name));
    if (!w?.spec.state) throw new Error(`node '${node}' has no state '${name}'`);
    return w.variable;
  }

  private gather(step: Step, values: LiveValues, x: tf.Tensor4D) {
    const inputs: Record<string, tf.Tensor | undefined> = {};
    for (const [port, ref] of Object.entries(step.inputs)) inputs[port] = values.get(portKey(ref));
    if (step.kind.role === 'input') inputs.feed = x;
    return inputs;
  }

  private checkInput(x: tf.Tensor) {
    const want = this.plan.input.shape.slice(1);
    const got = x.shape.slice(1);
    if (x.rank !== want.length + 1 || got.some((d, i) => d !== want[i])) {
      throw new Error(
        `the input is ${x.shape.join('×')} but the graph expects B×${want.join('×')} (NHWC)`,
      );
    }
  }
}

export { opsShape };
