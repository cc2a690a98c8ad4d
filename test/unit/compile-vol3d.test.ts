/**
 * The 3D presets compile (3D-MAM-SPEC.md): the FLARE presets' weights are the
 * reference state dicts' names and counts (without the `relative_position_index`
 * buffers, which the kernels compute from the spec's index rule), the demo
 * presets count what the arithmetic below gives, carry the reference's protocol,
 * and one AdamW step (lr 1e-4) of each demo on a fixed batch lowers the loss, on
 * wasm and cpu, with the tensor count flat.
 */
import * as tf from '#tfjs';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { initBackend } from '../../src/backend/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { segmentationLoss } from '../../src/train/loss.ts';
import { ADAMW_DEFAULTS } from '../../src/train/rules.ts';
import { Optimizer } from '../../src/train/optim.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { DEMO_CLASSES } from '../../src/graph/classes.ts';
import { nnformerDemo, swinUnetrDemo } from '../../src/graph/presets-3d.ts';
import { Rng } from '../reference/math.ts';
import { compileDoc } from './compile-fixtures.ts';

const preset = (name: string): GraphDoc => {
  const r = loadGraph(readFileSync(`presets/${name}.json`, 'utf8'), catalogue);
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('\n'));
  return r.graph;
};

function plannedWeights(name: string) {
  const p = planGraph(preset(name), catalogue, kernels);
  if (!p.ok) throw new Error(p.errors.map((e) => e.message).join('\n'));
  return p.plan.steps.flatMap((s) => s.weights.map((w) => ({ key: `${s.id}.${w.name}`, w })));
}

const count = (ws: ReturnType<typeof plannedWeights>) =>
  ws.reduce((a, { w }) => a + w.shape.reduce((x, y) => x * y, 1), 0);

describe('3D presets compile with the reference state dicts’ names', () => {
  // §d: 159 keys for SwinUNETR, 246 for nnFormer, among them one index buffer per
  // attention block (8 in SwinUNETR; 8 encoder + 6 decoder blocks in nnFormer)
  for (const [family, keys, params] of [
    ['swinunetr', 159 - 8, 62_186_855],
    ['nnformer', 246 - 14, 149_265_629],
  ] as const)
    for (const name of [family, `${family}-mam`])
      it(`${name}: ${keys} weights, ${params} parameters, keys under §b's module paths`, () => {
        const ws = plannedWeights(name);
        expect(ws).toHaveLength(keys);
        expect(count(ws)).toBe(params);
        const tops =
          family === 'swinunetr'
            ? /^(swinViT\.(patch_embed|layers[1-4]\.0)|encoder(1|2|3|4|10)|decoder[1-5]|out)\./
            : /^(model_down\.(patch_embed|layers\.[0-3]|norm[0-3])|decoder\.layers\.[0-2]|final\.0)\./;
        for (const { key } of ws) expect(key).toMatch(tops);
      });

  it('a SAM block and its MAM unit declare the same weights (a SAM checkpoint loads into MAM)', () => {
    for (const family of ['swinunetr', 'nnformer'])
      expect(plannedWeights(`${family}-mam`).map(({ key, w }) => `${key}:${w.shape}`)).toEqual(
        plannedWeights(family).map(({ key, w }) => `${key}:${w.shape}`),
      );
  });

  it('swinunetr-mam-demo counts 3,911,282 parameters (by hand, below)', () => {
    // Swin block at C channels, h heads, 343-row table (window 4: 7³ rows):
    //   norms 4C + table 343h + qkv 3C²+3C + proj C²+C + MLP 4C²+4C + 4C²+C = 12C² + 13C + 343h
    // merging: norm 16C + reduction 16C² (no bias); stage = 2 blocks + merging = 40C² + 42C + 686h
    const stage = (C: number, h: number) => 40 * C * C + 42 * C + 686 * h;
    const swinViT = 12 * 8 + 12 + stage(12, 3) + stage(24, 6) + stage(48, 12) + stage(96, 24);
    // residual block: conv1 27·cin·cout + conv2 27·cout² (+ conv3 cin·cout when cin ≠ cout)
    const res = (cin: number, cout: number) =>
      27 * cin * cout + 27 * cout * cout + (cin !== cout ? cin * cout : 0);
    const encoders = res(1, 12) + res(12, 12) + res(24, 24) + res(48, 48) + res(192, 192);
    // up block: transposed conv 8·cin·cout + residual block (2cout → cout)
    const up = (cin: number, cout: number) => 8 * cin * cout + res(2 * cout, cout);
    const decoders = up(192, 96) + up(96, 48) + up(48, 24) + up(24, 12) + up(12, 12);
    const out = 12 * 8 + 8;
    expect(swinViT).toBe(528_138);
    expect(count(plannedWeights('swinunetr-mam-demo'))).toBe(swinViT + encoders + decoders + out);
    expect(swinViT + encoders + decoders + out).toBe(3_911_282);
  });

  it('nnformer-mam-demo counts 2,369,740 parameters (by hand, below)', () => {
    // grids 32×16×16, 16×8×8, 8×4×4, 4×2×2; windows 4, 4, 4 (8 clamped), 2 (4 clamped):
    // tables 7³, 7³, 7³, 3³ rows
    const block = (C: number, h: number, rows: number) => 12 * C * C + 13 * C + rows * h;
    const conv = (cin: number, cout: number) => 27 * cin * cout + cout;
    const stem = conv(1, 12) + conv(12, 12) + conv(12, 24) + conv(24, 24) + 2 * 24 + 2 * 48;
    const down = (C: number) => 2 * C + conv(C, 2 * C); // norm + conv 3³ stride 2
    const encoder =
      2 * block(24, 2, 343) +
      48 +
      down(24) +
      2 * block(48, 4, 343) +
      96 +
      down(48) +
      2 * block(96, 8, 343) +
      192 +
      down(96) +
      2 * block(192, 16, 27) +
      384;
    // expanding: norm 2·2C + transposed conv 2C·C·8 + C; cross block: 11C² + 12C + rows·h
    const layer = (C: number, h: number) =>
      4 * C + 16 * C * C + C + (11 * C * C + 12 * C + 343 * h) + block(C, h, 343);
    const decoder = layer(96, 8) + layer(48, 4) + layer(24, 2);
    const head = 24 * 8 * 2 * 4 * 4 + 8;
    expect(stem).toBe(27_756);
    expect(count(plannedWeights('nnformer-mam-demo'))).toBe(stem + encoder + decoder + head);
    expect(stem + encoder + decoder + head).toBe(2_369_740);
  });

  it('the demos carry the reference protocol (DiceCE, AdamW) at 3e-3 on one crop a step for 400 steps, saying why, and the demo classes', () => {
    for (const name of ['swinunetr-mam-demo', 'nnformer-mam-demo']) {
      const doc = preset(name);
      // 3e-3 and one crop, not the reference's 1e-4 and two: a demo runs 400 steps, the reference 40,000
      expect(doc.metadata?.training).toMatchObject({
        optimizer: 'adamw',
        learningRate: 3e-3,
        samplesPerVolume: 1,
        epochs: 400,
        loss: { ce: 1, dice: 1 },
      });
      expect(doc.metadata?.description).toContain(
        "Trains 400 steps of one crop with AdamW at 3e-3, thirty times the reference's 1e-4",
      );
      const input = doc.nodes.find((n) => n.type === 'image-input')!;
      expect(input.params).toMatchObject({ depth: 64, height: 64, width: 64, channels: 1 });
      const demo = JSON.parse(readFileSync('data/demo/dataset.json', 'utf8'));
      expect(doc.nodes.find((n) => n.type === 'output')!.params.classNames).toEqual(demo.classes);
    }
  });
});

/**
 * wasm at the demos' 64³; cpu (tfjs's reference backend, ~100× slower here) on the same
 * graphs at 32³, the smallest input the four-stage encoders take.
 */
describe('one AdamW step of each 3D demo lowers the loss on a fixed batch; no tensor leaks', () => {
  afterAll(async () => {
    await initBackend('cpu');
  });
  const demos = {
    'swinunetr-mam-demo': (size: number) => swinUnetrDemo(DEMO_CLASSES, true, catalogue, size),
    'nnformer-mam-demo': (size: number) => nnformerDemo(DEMO_CLASSES, true, catalogue, size),
  };
  for (const [backend, size] of [
    ['wasm', 64],
    ['cpu', 32],
  ] as const)
    for (const [name, doc] of Object.entries(demos))
      it(`${name} on ${backend} at ${size}³`, { timeout: 1_800_000 }, async () => {
        await initBackend(backend);
        const { model } = compileDoc(doc(size), 0);
        const x = tf.tensor(Float32Array.from(new Rng(3).array(size ** 3)), [
          1,
          size,
          size,
          size,
          1,
        ]) as unknown as tf.Tensor4D;
        // labels: 8 slabs along D, so every class is present
        const labels = tf.tidy(() =>
          tf.reshape(
            tf.tile(tf.reshape(tf.range(0, 8, 1, 'int32'), [8, 1, 1]), [1, size / 8, size * size]),
            [1, size * size, size],
          ),
        );
        const lossOf = (logits: tf.Tensor) =>
          segmentationLoss(tf.reshape(logits, [1, size * size, size, 8]) as tf.Tensor4D, labels, {
            ceWeight: 1,
            diceWeight: 1,
          }).loss;
        const opt = new Optimizer(ADAMW_DEFAULTS, new Map(model.variables.map((v) => [v.name, v])));
        const before = tf.memory().numTensors;
        const first = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(
            () => lossOf(model.forward(x, { training: true }).logits),
            model.variables,
          );
          opt.apply(grads, 1e-4);
          return value;
        });
        const loss0 = (await first.data())[0];
        first.dispose();
        expect(tf.memory().numTensors).toBe(before);
        const after = tf.tidy(() => lossOf(model.forward(x, { training: true }).logits));
        const loss1 = (await after.data())[0];
        after.dispose();
        console.log(`${name} ${backend} ${size}³: loss ${loss0} → ${loss1}`);
        expect(loss1).toBeLessThan(loss0);
        expect(tf.memory().numTensors).toBe(before);
        tf.dispose([x, labels]);
        opt.dispose();
        model.dispose();
      });
});
