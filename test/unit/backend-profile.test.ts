/**
 * tf.profile around a step that runs out of wasm memory. tfjs's profiler runs
 * each kernel in the backend's async timer, so a kernel's error became a
 * TypeError ("Cannot read properties of undefined") and left the engine
 * profiling; src/backend/profile.ts lets the kernel's error through, so the
 * step's one line is the training loop's (node, batch, crop: the line
 * cli-vol.test.ts expects of `mam train`), and profiling ends.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { stepOutOfMemory } from '../../src/backend/out-of-memory.ts';
import { profile } from '../../src/backend/profile.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import type { Kernel } from '../../src/compile/kernels/types.ts';
import { kernels3d, tiny3dGraph } from '../helpers/tiny-3d.ts';

const profiling = () =>
  (tf.engine() as unknown as { state: { profiling: boolean } }).state.profiling;

beforeAll(async () => {
  await initBackend('wasm');
});

describe('profile', () => {
  it('a kernel out of wasm memory: the training loop’s one line, naming the node; profiling ends, nothing leaks', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const wasm = tf.backend();
    // node 'enc' (4 channels out) tiles a scalar 2³⁰ times: wasm's Tile kernel writes past its
    // heap ("memory access out of bounds"), a real failure inside a kernel
    const conv = kernels3d.get('conv3d')!;
    const greedy: Kernel = (ctx) => {
      if (ctx.params.outChannels === 4) tf.tidy(() => tf.tile(tf.ones([1]), [2 ** 30]));
      return conv(ctx);
    };
    const table = new Map(kernels3d).set('conv3d', greedy);
    const planned = planGraph(tiny3dGraph({ size: [16, 16, 16] }), catalogue, table);
    if (!planned.ok) throw new Error(planned.errors[0].message);
    const model = CompiledModel.create(planned.plan, { seed: 0 });
    const x = tf.zeros([2, 16, 16, 16, 1]) as unknown as tf.Tensor4D; // forward is typed for 2D
    const tensors = tf.memory().numTensors;
    const step = async () => {
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
    await expect(profile(step)).rejects.toThrow(
      /^out of WebAssembly memory \(4 GiB\) in enc at batch 2, 16³: try --batch 1 or a smaller crop$/,
    );
    expect(profiling()).toBe(false);
    expect(tf.memory().numTensors).toBe(tensors);
    // The backend's own timer is back. The trap left the wasm module dead (README): a
    // profile after it, on cpu, works: one Add kernel, 3 + 4.
    expect(Object.prototype.hasOwnProperty.call(wasm, 'time')).toBe(false);
    await tf.setBackend('cpu');
    const a = tf.scalar(3);
    const b = tf.scalar(4);
    const info = await profile(async () => tf.add(a, b));
    expect(info.kernels.map((k) => k.name)).toEqual(['Add']);
    expect(await (info.result as tf.Tensor).data()).toEqual(new Float32Array([7]));
    tf.dispose([a, b, info.result as tf.Tensor]);
  });
});
