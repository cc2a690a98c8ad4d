/** Training steps of a compiled graph for the DA-TransUNet tests: plain SGD on mean cross-entropy. */
import * as tf from '#tfjs';
import type { CompiledModel } from '../../src/compile/model.ts';

export interface TrainedState {
  /** Logits of the first step (training mode), NHWC flattened. */
  first: Float32Array;
  /** The state dict after the steps, weights and running statistics. */
  state: Map<string, Float32Array>;
}

/** `steps` SGD steps (lr, no momentum) in training mode; async reads, as webgpu in Node needs. */
export async function trainSteps(
  model: CompiledModel,
  x: tf.Tensor4D,
  labels: Int32Array,
  labelShape: number[],
  o: { classes: number; steps: number; lr: number },
): Promise<TrainedState> {
  const onehot = tf.tidy(() => tf.oneHot(tf.tensor(labels, labelShape, 'int32'), o.classes));
  let first: Float32Array | undefined;
  for (let s = 0; s < o.steps; s++) {
    let logits: tf.Tensor | undefined;
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const l = model.forward(x, { training: true, seed: s }).logits;
        if (s === 0) logits = tf.keep(l);
        return tf.neg(tf.mean(tf.sum(tf.mul(onehot, tf.logSoftmax(l)), -1))) as tf.Scalar;
      }, model.variables);
      for (const v of model.variables) v.assign(tf.sub(v, tf.mul(grads[v.name], o.lr)));
    });
    if (logits) {
      first = Float32Array.from(await logits.data());
      logits.dispose();
    }
  }
  const state = new Map<string, Float32Array>();
  const sd = model.stateDict();
  for (const [k, t] of sd) state.set(k, Float32Array.from(await t.data()));
  tf.dispose([...sd.values(), onehot]);
  return { first: first!, state };
}
