/** The paper's loss against a plain float64 loop, and its gradient against finite differences. */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { rng } from '../../src/compile/init.ts';
import { segmentationLoss } from '../../src/train/loss.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** wCe·CE + wDice·mean_c(1 − (2Σpg + 1e-5)/(Σp² + Σg² + 1e-5)), sums over the whole batch, in float64; the paper's weights 0.4/0.6 by default. */
function referenceLoss(
  logits: Float64Array,
  labels: Int32Array,
  k: number,
  wCe = 0.4,
  wDice = 0.6,
): number {
  const n = labels.length;
  const inter = new Float64Array(k);
  const pp = new Float64Array(k);
  const gg = new Float64Array(k);
  let ce = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[i * k + c]);
    let z = 0;
    for (let c = 0; c < k; c++) z += Math.exp(logits[i * k + c] - max);
    for (let c = 0; c < k; c++) {
      const p = Math.exp(logits[i * k + c] - max) / z;
      const g = labels[i] === c ? 1 : 0;
      inter[c] += p * g;
      pp[c] += p * p;
      gg[c] += g * g;
      if (g) ce -= Math.log(p);
    }
  }
  let dice = 0;
  for (let c = 0; c < k; c++) dice += 1 - (2 * inter[c] + 1e-5) / (pp[c] + gg[c] + 1e-5);
  return wCe * (ce / n) + wDice * (dice / k);
}

function problem(seed: number, shape: [number, number, number, number], absentClass?: number) {
  const r = rng(seed);
  const [b, h, w, k] = shape;
  const logits = Float64Array.from({ length: b * h * w * k }, () => (r() - 0.5) * 6);
  const labels = Int32Array.from({ length: b * h * w }, () => {
    let c = Math.floor(r() * k);
    if (c === absentClass) c = 0;
    return c;
  });
  return { logits, labels };
}

describe('segmentationLoss (0.4·CE + 0.6·Dice)', () => {
  it('matches a float64 loop, including a class absent from the batch', () => {
    for (const [seed, shape, absent] of [
      [1, [2, 4, 5, 3], undefined],
      [2, [3, 3, 3, 9], 4],
      [3, [1, 8, 8, 2], undefined],
    ] as const) {
      const { logits, labels } = problem(seed, shape as [number, number, number, number], absent);
      const [b, h, w, k] = shape;
      const want = referenceLoss(logits, labels, k);
      const got = tf.tidy(() => {
        const parts = segmentationLoss(
          tf.tensor4d(Float32Array.from(logits), [b, h, w, k]),
          tf.tensor3d(labels, [b, h, w], 'int32'),
        );
        return parts.loss.dataSync()[0];
      });
      expect(Math.abs(got - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
    }
  });

  it("DA-TransUNet's 0.5·CE + 0.5·Dice, and Dice alone, match the float64 loop", () => {
    const { logits, labels } = problem(6, [2, 4, 4, 5]);
    for (const [wCe, wDice] of [
      [0.5, 0.5],
      [0, 1],
    ]) {
      const want = referenceLoss(logits, labels, 5, wCe, wDice);
      const got = tf.tidy(
        () =>
          segmentationLoss(
            tf.tensor4d(Float32Array.from(logits), [2, 4, 4, 5]),
            tf.tensor3d(labels, [2, 4, 4], 'int32'),
            { ceWeight: wCe, diceWeight: wDice },
          ).loss.dataSync()[0],
      );
      expect(Math.abs(got - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
    }
  });

  it('takes volumes [B, D, H, W, K]: sums over every voxel of the batch, as the float64 loop', () => {
    const [b, d, h, w, k] = [2, 3, 4, 5, 4];
    // the loop sees positions in order, whatever their axes: a volume is the same list of voxels
    const { logits, labels } = problem(7, [b, d * h, w, k], 2);
    const want = referenceLoss(logits, labels, k);
    const [got, gotOneHot] = tf.tidy(() => {
      const lt = tf.tensor5d(Float32Array.from(logits), [b, d, h, w, k]);
      const ids = tf.tensor4d(labels, [b, d, h, w], 'int32');
      return [
        segmentationLoss(lt, ids).loss.dataSync()[0],
        segmentationLoss(lt, tf.cast(tf.oneHot(ids, k), 'float32')).loss.dataSync()[0],
      ];
    });
    expect(Math.abs(got - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
    expect(Math.abs(gotOneHot - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
  });

  it('accepts one-hot labels and returns the two parts', () => {
    const { logits, labels } = problem(4, [2, 3, 3, 4]);
    const lt = tf.tensor4d(Float32Array.from(logits), [2, 3, 3, 4]);
    const a = segmentationLoss(lt, tf.tensor3d(labels, [2, 3, 3], 'int32'));
    const b = segmentationLoss(
      lt,
      tf.cast(tf.oneHot(tf.tensor3d(labels, [2, 3, 3], 'int32'), 4), 'float32'),
    );
    expect(b.loss.dataSync()[0]).toBeCloseTo(a.loss.dataSync()[0], 6);
    expect(0.4 * a.ce.dataSync()[0] + 0.6 * a.dice.dataSync()[0]).toBeCloseTo(
      a.loss.dataSync()[0],
      6,
    );
    tf.dispose([lt, ...Object.values(a), ...Object.values(b)]);
  });

  it('has the gradient of the float64 loss (central differences)', () => {
    const shape: [number, number, number, number] = [2, 3, 2, 3];
    const { logits, labels } = problem(5, shape);
    const grad = tf.tidy(() =>
      tf
        .grad(
          (x: tf.Tensor) =>
            segmentationLoss(
              x as tf.Tensor4D,
              tf.tensor3d(labels, shape.slice(0, 3) as [number, number, number], 'int32'),
            ).loss,
        )(tf.tensor4d(Float32Array.from(logits), shape))
        .dataSync(),
    );
    const eps = 1e-6;
    for (let i = 0; i < logits.length; i++) {
      const up = Float64Array.from(logits);
      const dn = Float64Array.from(logits);
      up[i] += eps;
      dn[i] -= eps;
      const fd =
        (referenceLoss(up, labels, shape[3]) - referenceLoss(dn, labels, shape[3])) / (2 * eps);
      expect(Math.abs(grad[i] - fd)).toBeLessThan(2e-5);
    }
  });
});

describe('segmentationLoss gradient', () => {
  it('is analytic: at most 35 kernels on pixel-sized arrays for loss and gradient (autodiff ran 51)', async () => {
    const z = tf.randomNormal([2, 8, 8, 4], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.randomUniform([2, 8, 8], 0, 4, 'int32', 2);
    const prof = await tf.profile(() =>
      tf.grad((t: tf.Tensor) => segmentationLoss(t as tf.Tensor4D, y).loss)(z),
    );
    (prof.result as tf.Tensor).dispose();
    tf.dispose([z, y]);
    const pixelSized = prof.kernels.filter((k) => k.outputShapes.some((s) => s?.length === 4));
    expect(pixelSized.length).toBeLessThanOrEqual(35);
  });
});

describe('segmentationLoss on wasm', () => {
  afterAll(async () => {
    await tf.setBackend('cpu');
  });

  it('matches the float64 loop with no Exp kernel in loss or gradient (its Exp runs element by element)', async () => {
    expect((await initBackend('wasm')).name).toBe('wasm');
    const shape: [number, number, number, number] = [2, 6, 5, 8];
    const { logits, labels } = problem(9, shape, 3);
    const want = referenceLoss(logits, labels, shape[3]);
    const z = tf.tensor4d(Float32Array.from(logits), shape);
    const y = tf.tensor3d(labels, shape.slice(0, 3) as [number, number, number], 'int32');
    let loss = NaN;
    const prof = await tf.profile(() =>
      tf.grad((t: tf.Tensor) => {
        const parts = segmentationLoss(t as tf.Tensor4D, y);
        loss = parts.loss.dataSync()[0];
        return parts.loss;
      })(z),
    );
    (prof.result as tf.Tensor).dispose();
    tf.dispose([z, y]);
    expect(Math.abs(loss - want)).toBeLessThan(1e-5 * Math.max(1, Math.abs(want)));
    expect(prof.kernels.map((k) => k.name)).not.toContain('Exp');
  });
});
