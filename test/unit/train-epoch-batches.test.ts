/**
 * An epoch of the training loop against PyTorch's DataLoader(shuffle=True)
 * without `drop_last`, as the Synapse reference trains (DA-TRANSUNET-MAM-SPEC.md:
 * 2,211 slices at batch 24 are 93 steps an epoch): ⌈n/B⌉ steps, every slice
 * once, the last batch holding the n mod B slices left. The loop's batches are
 * watched at the model's input, each slice told by its constant intensity.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { resolveRun } from '../../src/session/settings.ts';
import type { Sample2D } from '../../src/train/augment.ts';
import { train } from '../../src/train/loop.ts';
import { optimizerSettings } from '../../src/train/optim.ts';
import { batchPositions, stepsPerEpoch } from '../../src/train/rules.ts';
import { runPython } from '../helpers/torch-runtime.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';
import { describeOracle } from './data-oracle.ts';

beforeAll(async () => {
  await initBackend('wasm');
});

/** Slice i: every pixel (i + 1)/100, a label of class i mod 3. */
const slice = (i: number, size: number): Sample2D => ({
  image: new Float32Array(size * size).fill((i + 1) / 100),
  label: new Uint8Array(size * size).fill(i % 3),
  height: size,
  width: size,
  channels: 1,
});

describe('the last partial batch of an epoch', () => {
  it('is kept: ⌈n/B⌉ steps an epoch (2,211 at 24 → 93; 7 at 3 → 3; 6 at 3 → 2; 2 at 4 → 1)', () => {
    expect(stepsPerEpoch(2211, 24)).toBe(93);
    expect(stepsPerEpoch(7, 3)).toBe(3);
    expect(stepsPerEpoch(6, 3)).toBe(2);
    expect(stepsPerEpoch(2, 4)).toBe(1);
    // 2,211 = 92·24 + 3: the 93rd step reads the 3 slices left; the next epoch starts again at 0
    expect(batchPositions(92, 2211, 24)).toEqual([2208, 2211]);
    expect(batchPositions(93, 2211, 24)).toEqual([0, 24]);
    // the settings resolver counts the same: 30 epochs of 7 slices at batch 3 are 90 steps
    expect(resolveRun({ epochs: 30, batchSize: 3 }, {}, 7).steps.value).toBe(90);
  });

  it('the loop trains on it: 7 slices at batch 3 are batches of 3, 3, 1, each slice once an epoch', async () => {
    const plan = planGraph(tinyGraph({ dropPath: 0 }), catalogue, kernels);
    if (!plan.ok) throw new Error(plan.errors.map((e) => e.message).join('; '));
    const model = CompiledModel.create(plan.plan, { seed: 1 });
    const size = plan.plan.input.shape[1];
    const n = 7;
    const seen: number[][] = [];
    const forward = model.forward.bind(model);
    model.forward = (x, o) => {
      // each image's first pixel names its slice (the loop neither augments nor resizes here)
      const px = tf.tidy(() => tf.slice(x, [0, 0, 0, 0], [x.shape[0], 1, 1, 1]).dataSync());
      seen.push(Array.from(px, (v) => Math.round(v * 100) - 1));
      return forward(x, o);
    };
    const steps: { step: number; epoch: number }[] = [];
    const r = await train({
      model,
      data: {
        classNames: plan.plan.classNames,
        train: Array.from({ length: n }, (_, i) => slice(i, size)),
        val: [],
        fingerprint: 'constant slices',
      },
      settings: {
        batchSize: 3,
        steps: 6,
        learningRate: 1e-3,
        schedule: 'poly',
        optimizer: optimizerSettings('adamw'),
        seed: 5,
        valEvery: 0,
        checkpointEvery: 0,
        patience: 0,
        augment: false,
        convention: 'synapse',
        normalisation: 'none',
      },
      onEvent: (e) => {
        if (e.type === 'step') steps.push({ step: e.step, epoch: e.epoch });
      },
    });
    expect(r.reason).toBe('completed');
    expect(seen.map((b) => b.length)).toEqual([3, 3, 1, 3, 3, 1]);
    const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
    const all = Array.from({ length: n }, (_, i) => i);
    expect(sorted(seen.slice(0, 3).flat())).toEqual(all);
    expect(sorted(seen.slice(3, 6).flat())).toEqual(all);
    expect(steps.map((s) => s.epoch)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(r.state.epoch).toBe(2);
    model.dispose();
  });
});

describeOracle('the torch runtime counts the same', () => {
  it('steps_per_epoch: ⌈n/B⌉ for slices; volumes: a step per volume (3 crops of one), none dropped', async () => {
    const r = await runPython([
      '-c',
      `
import argparse
from mam_torch.train import new_settings, steps_per_epoch as s
args = argparse.Namespace(batch=3, optimizer=None, lr=None, steps=None, epochs=2, val_every=None,
                          checkpoint_every=None, patience=None, no_augment=False, metrics=None, resize=None)
_, _, spe = new_settings(args, {}, 7, True, 0, 0, "auto")
print(s(2211, 24), s(7, 3), s(6, 3), s(2, 4), spe)
`,
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('93 3 2 1 7');
  });
});
