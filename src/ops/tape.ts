/** Whether tfjs's gradient tape is recording (tf.grad, variableGrads, a custom gradient's backward). */
import * as tf from '#tfjs';

export function tapeActive(): boolean {
  return (tf.engine().state as unknown as { gradientDepth: number }).gradientDepth > 0;
}

/**
 * `next` of `prev`; without a tape `prev` is freed at once (nothing will read
 * it again), under one it stays for the backward pass.
 */
export function thenFree<T extends tf.Tensor>(prev: tf.Tensor, next: (t: tf.Tensor) => T): T {
  const out = next(prev);
  if (!tapeActive() && out !== prev) prev.dispose();
  return out;
}

/** What {@link customGradOutputs}'s forward returns: its outputs, and their gradient. */
export interface MultiOutputGrad {
  value: tf.Tensor[];
  /** The gradients of the inputs, in order, from those of the outputs (zeros for an unused one). */
  gradFunc: (dys: tf.Tensor[], saved: tf.Tensor[]) => tf.Tensor[];
}

interface EngineInternals {
  runKernelFunc(params: {
    forwardFunc: (backend: unknown, save: tf.GradSaveFunc) => tf.Tensor[];
    backwardsFunc: (
      dy: tf.Tensor | tf.Tensor[],
      saved: tf.Tensor[],
    ) => Record<string, () => tf.Tensor>;
    inputs: Record<string, tf.Tensor>;
  }): tf.Tensor | tf.Tensor[];
}

/**
 * tf.customGrad for a forward with several outputs (tf.customGrad takes one):
 * one node on the tape, through the engine call tf.customGrad itself makes.
 * `forward` runs off the tape, in a tidy, with `save` as tf.customGrad's.
 */
export function customGradOutputs(
  inputs: tf.Tensor[],
  forward: (save: tf.GradSaveFunc) => MultiOutputGrad,
): tf.Tensor[] {
  let res: MultiOutputGrad | undefined;
  const out = (tf.engine() as unknown as EngineInternals).runKernelFunc({
    forwardFunc: (_backend, save) => {
      res = forward(save);
      return res.value;
    },
    backwardsFunc: (dy, saved) => {
      const grads = res!.gradFunc(Array.isArray(dy) ? dy : [dy], saved);
      if (grads.length !== inputs.length)
        throw new Error(`customGradOutputs: ${grads.length} gradients for ${inputs.length} inputs`);
      return Object.fromEntries(grads.map((g, i) => [String(i), () => g]));
    },
    inputs: Object.fromEntries(inputs.map((t, i) => [String(i), t])),
  });
  return Array.isArray(out) ? out : [out];
}

/**
 * A custom gradient's `save` of `tensors`, but for the variables among them:
 * the tape copies each saved tensor (an Identity call, and a node on the
 * tape of its own), while a variable can be read as it is in the backward
 * pass (it outlives the step, and training assigns it only after the
 * gradients). Returns what gives the gradient all of `tensors` back from its
 * `saved`.
 */
export function saveNonVariables(
  save: tf.GradSaveFunc,
  tensors: tf.Tensor[],
): (saved: tf.Tensor[]) => tf.Tensor[] {
  const isVariable = tensors.map((t) => t instanceof tf.Variable);
  save(tensors.filter((_, i) => !isVariable[i]));
  return (saved) => {
    let next = 0;
    return tensors.map((t, i) => (isVariable[i] ? t : saved[next++]));
  };
}
