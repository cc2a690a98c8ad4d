/**
 * DA-TransUNet-MAM trains the same on every backend: three SGD steps in
 * training mode (BatchNorm batch statistics and running-statistic updates,
 * dropout and Dropout2d on) from the same weights on cpu, wasm and webgpu
 * (Dawn on SwiftShader in Node; skipped with a message when there is no
 * adapter) leave every weight and running statistic equal ≤ 1e-4 relative to
 * its max |value|. And training leaks nothing: tf.memory().numTensors after
 * step 3 equals that after step 12 (wasm).
 */
import * as tf from '#tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import type { CompiledModel } from '../../src/compile/model.ts';
import { daTransUnet } from '../../src/graph/presets-da.ts';
import { printMeasured, record, tensor } from '../reference/harness.ts';
import { relErr, Rng } from '../reference/math.ts';
import { compileDoc } from './compile-fixtures.ts';
import { trainSteps, type TrainedState } from './da-train-steps.ts';

/** 32×32×1 → ResNet 16/8/4/2 → ViT 2×2×32 (2 MAM blocks) → CUP → 3 classes. */
const TINY = {
  imageSize: 32,
  inChannels: 1,
  width: 8,
  units: [1, 1, 1],
  groups: 4,
  hidden: 32,
  heads: 2,
  layers: 2,
  mlpRatio: 2,
  headChannels: 16,
  decoderChannels: [16, 8, 8, 4],
  daReduction: 4,
  classNames: ['background', 'a', 'b'],
  memory: true,
  title: 'tiny DA-TransUNet-MAM',
  description: '',
};
const B = 2;
const STEPS = { classes: 3, steps: 3, lr: 0.05 };
const rng = new Rng(21);
const xData = rng.array(B * 32 * 32);
const labels = Int32Array.from({ length: B * 32 * 32 }, (_, i) => (i * 7 + (i >> 5)) % 3);

afterAll(() => printMeasured('compile-da-backends'));

/** Deterministic non-trivial weights: norm scales 1 ± 0.2, biases, γ and running means ± 0.2, running variances 1 ± 0.2. */
function tinyModel(): CompiledModel {
  const { model } = compileDoc(daTransUnet(TINY, catalogue), 3);
  const r = new Rng(17);
  for (const w of model.weights.values()) {
    const s = w.spec.shape;
    const n = s.reduce((a, b) => a * b, 1);
    const std =
      s.length === 1
        ? 0.2
        : w.node.includes('hybrid_model')
          ? 1 // StdConv: the raw scale only scales the gradient
          : 0.8 / Math.sqrt(s.slice(1).reduce((a, b) => a * b, 1));
    const t = tensor(r.array(n, std, w.spec.init === 'ones' ? 1 : 0), s);
    model.assignTorch(w.key, t);
    t.dispose();
  }
  return model;
}

describe('DA-TransUNet-MAM: three SGD steps agree across backends', () => {
  const after = new Map<string, TrainedState>();

  for (const name of ['cpu', 'wasm', 'webgpu'] as const) {
    it(`trains on ${name}`, { timeout: 600_000 }, async (ctx) => {
      const info = await initBackend(name);
      if (info.name !== name) {
        console.warn(
          `compile-da-backends: ${name} skipped, it could not start here: ${info.message}`,
        );
        ctx.skip();
      }
      const model = tinyModel();
      const x = tensor(xData, [B, 32, 32, 1]) as tf.Tensor4D;
      after.set(name, await trainSteps(model, x, labels, [B, 32, 32], STEPS));
      tf.dispose(x);
      model.dispose();
      expect(after.get(name)!.first.every(Number.isFinite)).toBe(true);
    });
  }

  it('every weight and running statistic equal to cpu ≤ 1e-4 (relative to its max |value|)', () => {
    const base = after.get('cpu')!;
    expect(base).toBeDefined();
    for (const [name, r] of after) {
      if (name === 'cpu') continue;
      let worst = 0;
      for (const [k, ref] of base.state) worst = Math.max(worst, relErr(r.state.get(k)!, ref));
      expect(record(`state ${name} vs cpu`, worst), name).toBeLessThanOrEqual(1e-4);
    }
    // the running statistics did move (training mode updates them)
    const fresh = tinyModel();
    const sd = fresh.stateDict();
    const key = 'decoder.blocks.0.da3.conv5a.1.running_mean';
    expect(relErr(base.state.get(key)!, sd.get(key)!.dataSync())).toBeGreaterThan(1e-3);
    tf.dispose([...sd.values()]);
    fresh.dispose();
  });
});

describe('training leaks no tensors', () => {
  it('numTensors after step 3 = after step 12 (wasm)', async () => {
    const info = await initBackend('wasm');
    expect(info.name).toBe('wasm');
    const model = tinyModel();
    const x = tensor(xData, [B, 32, 32, 1]) as tf.Tensor4D;
    const counts: number[] = [];
    for (let s = 1; s <= 4; s++) {
      await trainSteps(model, x, labels, [B, 32, 32], { ...STEPS, steps: 3 });
      counts.push(tf.memory().numTensors);
    }
    console.log(`compile-da-backends: numTensors after 3, 6, 9, 12 steps = ${counts.join(', ')}`);
    expect(new Set(counts).size).toBe(1);
    tf.dispose(x);
    model.dispose();
  });
});
