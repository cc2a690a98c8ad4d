/**
 * The training loop on wasm running out of its 4 GiB heap, for real, outside
 * a node's forward pass and after a trap: the tiny 3D graph (8³, batch 2)
 * trains two steps on a phantom volume, a checkpoint after each, validation
 * after the second. Its node 'enc' (4 channels out) calls a hook in its
 * forward and its backward pass; a test arms the hook after step 1, so the
 * checkpoint of step 1 is written before memory runs out (nothing lost).
 *
 * - tf.fill of 2³⁰ floats asks for a view over the heap longer than the heap
 *   (`RangeError: Invalid typed array length`): the module is unharmed.
 * - trapInMove (test/helpers/wasm-trap.ts): a real trap in BackendWasm.move,
 *   as a full-size SwinUNETR step met it. The heap may be damaged after it,
 *   so that test runs last here and the line says to start afresh.
 *
 * The expected lines are written out by hand from outOfMemoryMessage's form:
 * batch 2, 8³ for a step; validation's window batch is max(batch, 4) = 4.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { OutOfMemoryError, outOfMemoryLine, withRestart } from '../../src/backend/out-of-memory.ts';
import type { Kernel } from '../../src/compile/kernels/types.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { resolveRun } from '../../src/session/settings.ts';
import { train } from '../../src/train/loop.ts';
import { kernels3d, phantom3dCase, tiny3dGraph } from '../helpers/tiny-3d.ts';
import { trapInMove } from '../helpers/wasm-trap.ts';

type Pass = 'forward' | 'backward';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Two steps of the tiny graph; from step 1 on, `greedy` runs in enc's `pass` (training or validation). */
async function runOutOfMemory(pass: Pass, greedy: () => void) {
  let armed = false;
  const hook = (p: Pass) => {
    if (armed && p === pass) greedy();
  };
  const conv = kernels3d.get('conv3d')!;
  const kernel: Kernel = (ctx) => {
    const { out } = conv(ctx);
    if (ctx.params.outChannels !== 4) return { out };
    hook('forward');
    const watched = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      (args[1] as tf.GradSaveFunc)([]);
      return {
        value: tf.clone(args[0] as tf.Tensor),
        gradFunc: (dy: tf.Tensor) => {
          hook('backward');
          return dy;
        },
      };
    });
    return { out: watched(out) };
  };
  const planned = planGraph(tiny3dGraph(), catalogue, new Map(kernels3d).set('conv3d', kernel));
  if (!planned.ok) throw new Error(planned.errors[0].message);
  const model = CompiledModel.create(planned.plan, { seed: 3 });
  const settings = resolveRun(
    undefined,
    {
      steps: 2,
      batchSize: 2,
      learningRate: 0.05,
      optimizer: 'adamw',
      valEvery: 2,
      checkpointEvery: 1,
      seed: 3,
    },
    2,
  ).settings;
  const saved: number[] = [];
  const error = await train({
    model,
    data: {
      classNames: ['background', 'organ1', 'organ2'],
      train: [],
      volumes: [phantom3dCase('train', [14, 12, 16])],
      val: [phantom3dCase('val', [10, 13, 11])],
      fingerprint: 'phantom',
    },
    settings,
    checkpoint: {
      save: async (c) => {
        saved.push(c.state.step);
        return 'memory';
      },
    },
    onEvent: (e) => {
      if (e.type === 'step') armed = true;
    },
  }).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, saved, model };
}

describe('the training loop out of wasm memory', () => {
  it('in the backward pass: the loop’s line with batch and crop; step 1’s checkpoint is kept; nothing leaks', async () => {
    const tensors = tf.memory().numTensors;
    const r = await runOutOfMemory('backward', () => tf.tidy(() => tf.fill([2 ** 30], 1)));
    expect(r.error).toBeInstanceOf(OutOfMemoryError);
    expect((r.error as OutOfMemoryError).message).toBe(
      'out of WebAssembly memory (4 GiB) in the backward pass at batch 2, 8³: try batch 1 or a smaller crop',
    );
    expect((r.error as OutOfMemoryError).damaged).toBe(false);
    expect(r.saved).toEqual([1]);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('during validation: the node, the window batch and the crop; step 1’s checkpoint is kept; nothing leaks', async () => {
    const tensors = tf.memory().numTensors;
    // armed after step 2's forward has run: validation's forward is the next
    let steps = 0;
    const r = await runOutOfMemory('forward', () => {
      if (++steps > 1) tf.tidy(() => tf.fill([2 ** 30], 1));
    });
    expect((r.error as Error).message).toBe(
      'out of WebAssembly memory (4 GiB) in enc during validation at window batch 4, 8³: try a smaller crop',
    );
    expect(r.saved).toEqual([1]);
    r.model.dispose();
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('a trap in BackendWasm.move (last: the heap may be damaged after it): the line, and the host’s word to start afresh', async () => {
    let raw: unknown;
    const r = await runOutOfMemory('forward', () => {
      try {
        trapInMove();
      } catch (e) {
        raw = e;
        throw e;
      }
    });
    // the real error, as the wasm module raised it
    expect(raw).toBeInstanceOf(WebAssembly.RuntimeError);
    expect((raw as Error).message).toBe('memory access out of bounds');
    expect((raw as Error).stack).toContain('BackendWasm.move');
    const line =
      'out of WebAssembly memory (4 GiB) in enc at batch 2, 8³: try batch 1 or a smaller crop';
    expect(r.error).toBeInstanceOf(OutOfMemoryError);
    expect((r.error as OutOfMemoryError).damaged).toBe(true);
    expect(outOfMemoryLine(r.error)).toBe(line);
    expect(withRestart(r.error, outOfMemoryLine(r.error), 'run it again')).toBe(
      `${line} (WebAssembly's heap may be damaged: run it again)`,
    );
    expect(r.saved).toEqual([1]);
  });
});
