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
import { initBackend } from '../../src/backend/index.ts';
import { profile } from '../../src/backend/profile.ts';
import { greedyStep } from '../helpers/greedy-step.ts';

const profiling = () =>
  (tf.engine() as unknown as { state: { profiling: boolean } }).state.profiling;

beforeAll(async () => {
  await initBackend('wasm');
});

describe('profile', () => {
  it('a kernel out of wasm memory: the training loop’s one line, naming the node; profiling ends, nothing leaks', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const wasm = tf.backend();
    // node 'enc' tiles a scalar 2³⁰ times: wasm's Tile kernel writes past its heap ("memory
    // access out of bounds"), a real failure inside a kernel
    const { run } = greedyStep(() => tf.tidy(() => tf.tile(tf.ones([1]), [2 ** 30])));
    const tensors = tf.memory().numTensors;
    const step = async () => run();
    await expect(profile(step)).rejects.toThrow(
      /^out of WebAssembly memory \(4 GiB\) in enc at batch 2, 16³: try batch 1 or a smaller crop$/,
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
