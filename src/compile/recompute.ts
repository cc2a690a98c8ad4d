/**
 * Recomputation (gradient checkpointing) of a node in training: its forward
 * pass runs without the gradient tape, keeping only its inputs, and the
 * backward pass runs it again under a tape of its own to get the gradients
 * of its inputs and weights. tfjs keeps every taped tensor a gradient needs
 * and the gradient of every intermediate tensor until the whole backward
 * pass ends, so a 224² DA-TransUNet step held all its CNN activations twice
 * over (DA-TRANSUNET-MAM-SPEC.md §b: 64@112², 16@224², …); recomputed, a node
 * holds its intermediates only while its own backward pass runs. The price is
 * one more forward pass of the node.
 */
import * as tf from '#tfjs';
import type { ForwardContext, Kernel } from './kernels/types.ts';

/** The engine's tape slot (tfjs-core 4.22 `Engine.state.activeTape`). */
interface TapeState {
  state: { activeTape: unknown };
  gradients(
    f: () => tf.Tensor,
    xs: tf.Tensor[],
    dy?: tf.Tensor,
    allowNoGradients?: boolean,
  ): { value: tf.Tensor; grads: (tf.Tensor | undefined)[] };
}

/**
 * Gradients of `f(xs)` against `dy`, from inside another gradient's backward
 * pass. tfjs starts a fresh tape for them and, when done, drops the engine's
 * tape, which the outer backward pass still needs at its end; it is put back.
 */
function nestedGradients(f: (xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor) {
  const engine = tf.engine() as unknown as TapeState;
  const outer = engine.state.activeTape;
  try {
    const { value, grads } = engine.gradients(() => f(xs), xs, dy, true);
    value.dispose();
    return grads.map((g, i) => g ?? tf.zerosLike(xs[i]));
  } finally {
    engine.state.activeTape = outer;
  }
}

/**
 * Runs a single-output kernel (port `out`) so that its backward pass
 * recomputes it. `trained` are the node's trained weights by name (they get
 * gradients); state weights and constants are read through `ctx` as usual,
 * and state is updated once, by the forward pass.
 */
export function runRecomputed(
  kernel: Kernel,
  ctx: ForwardContext,
  trained: [string, tf.Tensor][],
): Record<string, tf.Tensor> {
  const ports = Object.keys(ctx.inputs).filter((p) => ctx.inputs[p]);
  const n = ports.length;
  const run = (ts: tf.Tensor[], updateState: ForwardContext['updateState']) => {
    const byName = new Map(trained.map(([name], i) => [name, ts[n + i]]));
    const out = kernel({
      ...ctx,
      inputs: Object.fromEntries(ports.map((p, i) => [p, ts[i]])),
      weight: (name) => byName.get(name) ?? ctx.weight(name),
      updateState,
    });
    const names = Object.keys(out);
    if (names.length !== 1 || !out.out)
      throw new Error(`a recomputed kernel has one output, 'out'; got ${names.join(', ')}`);
    return out.out;
  };
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const ts = args as tf.Tensor[];
    save(ts);
    return {
      value: run(ts, ctx.updateState),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        nestedGradients((xs) => run(xs, undefined), saved, dy),
    };
  });
  const ins = [...ports.map((p) => ctx.inputs[p]!), ...trained.map(([, t]) => t)];
  return { out: f(...ins) };
}
