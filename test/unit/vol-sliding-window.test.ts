/**
 * Sliding-window inference (src/train/sliding-window.ts): window starts and
 * the importance map by hand, and the whole blend against
 * monai.inferers.sliding_window_inference (test/python/sliding_window_oracle.py)
 * on the same model (tanh of a fixed 3×3×3 conv3d with padding 1, so a
 * voxel's logits depend on where its window lies) and the same volumes: not
 * divisible by the roi, smaller than the roi on an axis, overlap 0.5 and
 * 0.25, constant and Gaussian blending. No tensor outlives a call.
 */
import * as tf from '#tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../../src/compile/init.ts';
import type { Shape3 } from '../../src/data/volume-crops.ts';
import { conv3d } from '../../src/ops/vol3d.ts';
import {
  importanceMap,
  slidingWindowInference,
  windowStarts,
  type BlendMode,
  type PatchPredictor,
} from '../../src/train/sliding-window.ts';
import { describeOracle, runOracle } from './data-oracle.ts';

const C = 2;
const K = 3;
const r = rng(5);
const weight = Array.from({ length: K * C * 27 }, () => r() - 0.5);
const bias = Array.from({ length: K }, () => r() - 0.5);

/** tanh(conv3d(x)) with the PyTorch-layout weight above, on patches [n, d, h, w, C]. */
const model: PatchPredictor = (x) =>
  tf.tidy(() => {
    const w = tf.transpose(tf.tensor5d(weight, [K, C, 3, 3, 3]), [2, 3, 4, 1, 0]) as tf.Tensor5D;
    return tf.tanh(conv3d(x, w, tf.tensor1d(bias), { padding: [1, 1, 1] }));
  });

const volume = (shape: Shape3, seed: number) => {
  const g = rng(seed);
  return Float32Array.from({ length: shape[0] * shape[1] * shape[2] * C }, () => 2 * g() - 1);
};

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('window placement and weights (by hand)', () => {
  it('starts at multiples of ⌊roi·(1 − overlap)⌋, the last moved back to the edge', () => {
    expect(windowStarts(13, 8, 0.5)).toEqual([0, 4, 5]);
    expect(windowStarts(17, 8, 0.25)).toEqual([0, 6, 9]);
    expect(windowStarts(8, 8, 0.5)).toEqual([0]);
    expect(windowStarts(96, 96, 0.25)).toEqual([0]);
    // the spec's step for 96³ windows: 72 at overlap 0.25, 48 at 0.5, 28 at 0.7
    expect(windowStarts(200, 96, 0.25)).toEqual([0, 72, 104]);
    expect(windowStarts(200, 96, 0.5)).toEqual([0, 48, 96, 104]);
    expect(windowStarts(130, 96, 0.7)).toEqual([0, 28, 34]);
  });

  it('Gaussian map: exp(−x²/2σ²) per axis with σ = 0.125·roi, clamped below at max(min, 1e-3)', () => {
    const m = importanceMap([1, 1, 3], 'gaussian');
    const e = Math.exp(-1 / (2 * 0.375 * 0.375));
    expect(Array.from(m)).toEqual([e, 1, e].map((v) => expect.closeTo(v, 12)));
    // 8³: the corner is 8e-11 before the clamp
    const big = importanceMap([8, 8, 8], 'gaussian');
    expect(big[0]).toBe(1e-3);
    expect(Math.max(...big)).toBeCloseTo(Math.exp(-0.125) ** 3, 12);
    expect(Array.from(importanceMap([2, 2, 2], 'constant'))).toEqual(Array(8).fill(1));
  });
});

describeOracle('sliding window = MONAI’s sliding_window_inference (needs .venv with monai)', () => {
  const cases: {
    shape: Shape3;
    roi: Shape3;
    overlap: number;
    mode: BlendMode;
    batch: number;
  }[] = [
    { shape: [13, 11, 17], roi: [8, 6, 8], overlap: 0.5, mode: 'constant', batch: 3 },
    { shape: [13, 11, 17], roi: [8, 6, 8], overlap: 0.5, mode: 'gaussian', batch: 3 },
    { shape: [13, 11, 17], roi: [8, 6, 8], overlap: 0.25, mode: 'gaussian', batch: 2 },
    { shape: [5, 11, 9], roi: [8, 6, 8], overlap: 0.5, mode: 'constant', batch: 4 },
    { shape: [5, 11, 9], roi: [8, 6, 8], overlap: 0.5, mode: 'gaussian', batch: 1 },
  ];
  const volumes = cases.map((c, i) => volume(c.shape, 100 + i));
  let expected: number[][] = [];

  beforeAll(() => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mam-sw-')), 'cases.json');
    writeFileSync(
      file,
      JSON.stringify({
        weight,
        bias,
        cases: cases.map((c, i) => ({
          shape: c.shape,
          channels: C,
          volume: Array.from(volumes[i]),
          roi: c.roi,
          overlap: c.overlap,
          mode: c.mode,
          sigma_scale: 0.125,
          sw_batch_size: c.batch,
        })),
      }),
    );
    expected = (JSON.parse(runOracle('sliding_window_oracle.py', [file])) as { logits: number[][] })
      .logits;
  });

  for (const backend of ['cpu', 'wasm'] as const)
    it(`≤ 1e-5 on ${backend}, every case, and no tensor left behind`, async () => {
      await tf.setBackend(backend);
      const before = tf.memory().numTensors;
      let worst = 0;
      for (const [i, c] of cases.entries()) {
        const { logits, classes } = await slidingWindowInference(volumes[i], c.shape, C, model, {
          roi: c.roi,
          overlap: c.overlap,
          mode: c.mode,
          batchSize: c.batch,
        });
        expect(classes).toBe(K);
        expect(logits).toHaveLength(expected[i].length);
        for (let j = 0; j < logits.length; j++)
          worst = Math.max(worst, Math.abs(logits[j] - expected[i][j]));
      }
      console.log(
        `[measured] sliding window vs MONAI on ${backend}: max |diff| ${worst.toExponential(2)}`,
      );
      expect(worst).toBeLessThanOrEqual(1e-5);
      expect(tf.memory().numTensors).toBe(before);
    });
});

describe('stopping', () => {
  it('an aborted signal stops between windows with an AbortError, leaving no tensor', async () => {
    const before = tf.memory().numTensors;
    const controller = new AbortController();
    let calls = 0;
    const stopping: PatchPredictor = (x) => {
      if (++calls === 2) controller.abort();
      return model(x);
    };
    await expect(
      slidingWindowInference(volume([13, 11, 17], 1), [13, 11, 17], C, stopping, {
        roi: [8, 6, 8],
        signal: controller.signal,
      }),
    ).rejects.toThrow(/stopped/);
    expect(calls).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });
});
