/**
 * A training step of the tiny 3D graph (tiny-3d.ts) at batch 2, 16³, run as
 * the training loop runs it: forward and gradients in one tidy, an error
 * told by stepOutOfMemory. Its node 'enc' (4 channels out) first calls
 * `greedy`, which is where a test makes memory run out.
 */
import * as tf from '#tfjs';
import { catalogue } from '../../nodes/index.ts';
import { stepOutOfMemory } from '../../src/backend/out-of-memory.ts';
import type { Kernel } from '../../src/compile/kernels/types.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { kernels3d, tiny3dGraph } from './tiny-3d.ts';

export function greedyStep(greedy: () => void) {
  const conv = kernels3d.get('conv3d')!;
  const kernel: Kernel = (ctx) => {
    if (ctx.params.outChannels === 4) greedy();
    return conv(ctx);
  };
  const table = new Map(kernels3d).set('conv3d', kernel);
  const planned = planGraph(tiny3dGraph({ size: [16, 16, 16] }), catalogue, table);
  if (!planned.ok) throw new Error(planned.errors[0].message);
  const model = CompiledModel.create(planned.plan, { seed: 0 });
  const x = tf.zeros([2, 16, 16, 16, 1]) as unknown as tf.Tensor4D; // forward is typed for 2D
  const run = (): tf.Scalar => {
    try {
      return tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => tf.sum(model.forward(x, { training: true }).logits),
          model.variables,
        );
        tf.dispose(grads);
        return value;
      });
    } catch (e) {
      throw stepOutOfMemory(e, 2, x.shape);
    }
  };
  const dispose = () => {
    x.dispose();
    model.dispose();
  };
  return { run, dispose };
}
