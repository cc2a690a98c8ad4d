/**
 * An allocation the wasm heap cannot hold, made in JavaScript: tf.fill of
 * 2³⁰ floats (4 GiB) asks for a view over the heap longer than the heap,
 * and fails with `RangeError: Invalid typed array length`. Inside a node's
 * forward pass and the training loop's wrapper (stepOutOfMemory), the user
 * gets the loop's one line naming node, batch and crop. The same words on
 * another backend, or another RangeError on wasm, stay as they are.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { greedyStep } from '../helpers/greedy-step.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

describe('stepOutOfMemory', () => {
  it('tf.fill past the wasm heap: the loop’s one line, naming the node; nothing leaks', () => {
    expect(tf.getBackend()).toBe('wasm');
    const tensors = tf.memory().numTensors;
    const step = greedyStep(() => tf.tidy(() => tf.fill([2 ** 30], 1)));
    expect(step.run).toThrow(
      /^out of WebAssembly memory \(4 GiB\) in enc at batch 2, 16³: try batch 1 or a smaller crop$/,
    );
    step.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('another RangeError on wasm is not memory: it comes through as it was', () => {
    expect(tf.getBackend()).toBe('wasm');
    const step = greedyStep(() => new Array(-1));
    expect(step.run).toThrow(new RangeError('Invalid array length'));
    step.dispose();
  });

  it('an invalid typed array length off wasm is not memory either', async () => {
    await tf.setBackend('cpu');
    try {
      const step = greedyStep(() => new Float32Array(-1));
      expect(step.run).toThrow(new RangeError('Invalid typed array length: -1'));
      step.dispose();
    } finally {
      await tf.setBackend('wasm');
    }
  });
});
