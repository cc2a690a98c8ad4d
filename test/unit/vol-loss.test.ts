/**
 * The 3D loss (src/train/loss-volume.ts) against MONAI's DiceCELoss(to_onehot_y, softmax)
 * (test/python/monai_dicece_oracle.py): value, its two parts and the gradient with respect
 * to the logits, on cpu and wasm; and by hand on a case small enough to compute.
 */
import * as tf from '#tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../../src/compile/init.ts';
import { diceCeLoss } from '../../src/train/loss-volume.ts';
import { describeOracle, runOracle } from './data-oracle.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('DiceCE by hand', () => {
  it('two voxels, two classes, equal logits: CE ln 2; Dice per class 1 − (2·½ + s)/(1 + 1 + s)', () => {
    const parts = diceCeLoss(tf.zeros([1, 1, 1, 2, 2]), tf.tensor([[[[0, 1]]]]));
    const s = 1e-5;
    const dice = 1 - (1 + s) / (2 + s);
    expect(parts.ce.dataSync()[0]).toBeCloseTo(Math.log(2), 6);
    expect(parts.dice.dataSync()[0]).toBeCloseTo(dice, 6);
    expect(parts.loss.dataSync()[0]).toBeCloseTo(Math.log(2) + dice, 6);
    tf.dispose([parts.loss, parts.ce, parts.dice]);
  });
});

describeOracle('DiceCE = MONAI’s DiceCELoss (needs .venv with monai)', () => {
  const shape = [2, 3, 4, 5, 4];
  const r = rng(3);
  const logits = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => 4 * r() - 2);
  // class 3 absent from sample 1: Dice's smoothing decides that class's term
  const labels = Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) =>
    i < 60 ? Math.floor(r() * 4) : Math.floor(r() * 3),
  );
  let ref: { loss: number; ce: number; dice: number; grad: number[] };
  beforeAll(() => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mam-dicece-')), 'case.json');
    writeFileSync(file, JSON.stringify({ shape, logits, labels }));
    ref = JSON.parse(runOracle('monai_dicece_oracle.py', [file])) as typeof ref;
  });

  for (const backend of ['cpu', 'wasm'] as const)
    it(`value, parts and gradient ≤ 1e-5 on ${backend}`, async () => {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      const z = tf.tensor(logits, shape);
      const y = tf.tensor(labels, shape.slice(0, 4), 'int32');
      const parts = diceCeLoss(z, y);
      const grad = tf.grad((x: tf.Tensor) => diceCeLoss(x, y).loss)(z);
      expect(Math.abs(parts.loss.dataSync()[0] - ref.loss)).toBeLessThan(1e-5);
      expect(Math.abs(parts.ce.dataSync()[0] - ref.ce)).toBeLessThan(1e-5);
      expect(Math.abs(parts.dice.dataSync()[0] - ref.dice)).toBeLessThan(1e-5);
      const g = grad.dataSync();
      let worst = 0;
      for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i] - ref.grad[i]));
      expect(worst).toBeLessThan(1e-5);
      tf.dispose([z, y, parts.loss, parts.ce, parts.dice, grad]);
      expect(tf.memory().numTensors).toBe(before);
    });
});
