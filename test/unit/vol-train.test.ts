/**
 * The training engine on volumes (a graph whose input has a depth axis):
 * whole-volume evaluation by sliding window with the data set's intensity
 * range, checked against a hand-set model whose prediction is a known
 * threshold of the scaled image (so Dice per class follows from plain
 * counts), and training on random crops: the loss falls, validation runs on
 * whole volumes, no tensor leaks across steps, and the same seed repeats
 * the same run. Uses the tiny 3D graph (test/helpers/tiny-3d.ts) until the
 * 3D presets' kernels land.
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { resolveRun, resolveVolumeRun } from '../../src/session/settings.ts';
import { evaluateCases, predictVolume } from '../../src/train/evaluate.ts';
import { train, type TrainEvent } from '../../src/train/loop.ts';
import { kernels3d, phantom3dCase as phantomCase, tiny3dGraph } from '../helpers/tiny-3d.ts';

const CLASSES = ['background', 'organ1', 'organ2'];

function compile(seed = 0) {
  const r = planGraph(tiny3dGraph(), catalogue, kernels3d);
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('; '));
  return CompiledModel.create(r.plan, { seed });
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('whole-volume evaluation of a 3D graph', () => {
  it('predicts every voxel by sliding window (volume not divisible by the 8³ input), scaled by the data set’s intensity range; Dice per class as counted by hand', async () => {
    const model = compile();
    // enc channel 0 = the scaled image x (centre tap 1); head: logits [0, 10x − 3, 40x − 28.88]
    const enc = new Float32Array(4 * 27);
    enc[13] = 1;
    model.assignTorch('enc/weight', tf.tensor(enc, [4, 1, 3, 3, 3]));
    model.assignTorch('enc/bias', tf.zeros([4]));
    const head = new Float32Array(12);
    head[4] = 10; // class 1 from channel 0
    head[8] = 40; // class 2 from channel 0
    model.assignTorch('head/weight', tf.tensor(head, [3, 4, 1, 1, 1]));
    model.assignTorch('head/bias', tf.tensor([0, -3, -28.88]));
    // the data set's range 0..510 → 0..2 (x = v / 255): the 'auto' normalisation follows it
    const range = { aMin: 0, aMax: 510, bMin: 0, bMax: 2, clip: true };
    const c = phantomCase('p', [13, 11, 17], range);
    const before = tf.memory().numTensors;
    const pred = await predictVolume(model, c, { batchSize: 3 });
    expect(tf.memory().numTensors).toBe(before);
    // by hand: background (40 ± 5) → 0, organ1 (120 ± 5) → 1, organ2 (220 ± 5) → 2 from 220 up, else 1
    const want = Uint8Array.from(c.channels[0].data, (v) => {
      const x = v / 255;
      const l = [0, 10 * x - 3, 40 * x - 28.88];
      return l.indexOf(Math.max(...l));
    });
    expect(Array.from(pred)).toEqual(Array.from(want));
    const report = await evaluateCases(model, [c], { classNames: CLASSES, convention: 'monai' });
    const gt = c.label!.data;
    for (const k of [1, 2]) {
      let inter = 0;
      let p = 0;
      let g = 0;
      for (let i = 0; i < gt.length; i++) {
        p += want[i] === k ? 1 : 0;
        g += gt[i] === k ? 1 : 0;
        inter += want[i] === k && gt[i] === k ? 1 : 0;
      }
      expect(report.summary.perClass[CLASSES[k]].dice).toBeCloseTo((2 * inter) / (p + g), 10);
    }
    const dice2 = report.summary.perClass.organ2.dice;
    expect(dice2).toBeGreaterThan(0.3);
    expect(dice2).toBeLessThan(0.9);
    model.dispose();
  });
});

describe('a volume run’s settings (3D-MAM-SPEC.md §f)', () => {
  it('an epoch is one step per volume, batch = crops; constant lr; DiceCE 1 : 1; ten validations per run', () => {
    const r = resolveVolumeRun({ batchSize: 2, epochs: 40, optimizer: 'adamw' }, {}, 3);
    expect(r.stepsPerEpoch).toBe(3);
    expect(r.settings.steps).toBe(120);
    expect(r.settings.batchSize).toBe(2);
    expect(r.settings.schedule).toBe('constant');
    expect(r.settings.loss).toEqual({ ce: 1, dice: 1 });
    expect(r.settings.valEvery).toBe(12);
    // what the user or the graph says wins
    const own = resolveVolumeRun({ loss: { ce: 0.3, dice: 0.7 } }, { valEvery: 5, steps: 7 }, 1);
    expect(own.settings.loss).toEqual({ ce: 0.3, dice: 0.7 });
    expect(own.settings.valEvery).toBe(5);
    expect(own.settings.steps).toBe(7);
  });
});

describe('training on volume crops', () => {
  async function run(steps: number) {
    const model = compile(3);
    const trainCase = phantomCase('train', [14, 12, 16]);
    const valCase = phantomCase('val', [10, 13, 11]);
    const settings = resolveRun(
      undefined,
      { steps, batchSize: 2, learningRate: 0.05, optimizer: 'adamw', valEvery: steps, seed: 3 },
      2,
    ).settings;
    const events: TrainEvent[] = [];
    const tensors: number[] = [];
    const r = await train({
      model,
      data: {
        classNames: CLASSES,
        train: [],
        volumes: [trainCase],
        val: [valCase],
        fingerprint: 'phantom',
      },
      settings,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'step') tensors.push(tf.memory().numTensors);
      },
    });
    model.dispose();
    return { r, events, tensors };
  }

  it('the loss falls, tensors stay flat, validation scores whole volumes, and the same seed repeats the run', async () => {
    const a = await run(30);
    expect(a.r.reason).toBe('completed');
    const losses = a.events.flatMap((e) => (e.type === 'step' ? [e.loss] : []));
    expect(losses).toHaveLength(30);
    const first = losses.slice(0, 5).reduce((s, v) => s + v, 0) / 5;
    const last = losses.slice(-5).reduce((s, v) => s + v, 0) / 5;
    expect(last).toBeLessThan(0.8 * first);
    expect(new Set(a.tensors.slice(1)).size).toBe(1);
    const val = a.events.find((e) => e.type === 'validation');
    expect(val && Object.keys(val.perClass)).toEqual(['organ1', 'organ2']);
    const b = await run(30);
    expect(b.events.flatMap((e) => (e.type === 'step' ? [e.loss] : []))).toEqual(losses);
  });
});
