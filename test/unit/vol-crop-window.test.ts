/**
 * A 3D graph sees the same input in training and in evaluation: the windows
 * the evaluation's sliding window feeds the network (src/train/evaluate.ts,
 * volumeLogits) and the training crops cut at the same starts
 * (src/train/volume-batches.ts, volumeTrainSet → cutCrop) both equal, voxel
 * for voxel, the case's NIfTI voxel (i, j, k) at window position
 * (k, j, i) − start + padding, scaled by the data set's intensity range, and
 * 0 in the padding: indexed here by hand from the raw file order (i fastest).
 * The issue-12 diagnosis relied on this (the 3D demo's test Dice at 0).
 */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CompiledModel } from '../../src/compile/model.ts';
import { cutCrop, type Shape3 } from '../../src/data/volume-crops.ts';
import type { Case } from '../../src/data/types.ts';
import { volumeLogits } from '../../src/train/evaluate.ts';
import { windowStarts } from '../../src/train/sliding-window.ts';
import { volumeTrainSet } from '../../src/train/volume-batches.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

// NIfTI dims [W, H, D] = [i, j, k], every side different; the roi is larger than D
const [NI, NJ, NK] = [9, 6, 5];
const roi: Shape3 = [8, 4, 4];
const identity = [
  [1, 0, 0, 0],
  [0, 1, 0, 0],
  [0, 0, 1, 0],
  [0, 0, 0, 1],
];
const raw = Float32Array.from({ length: NI * NJ * NK }, (_, n) => (n * 37) % 251);
const testCase: Case = {
  id: 'grid',
  channels: [
    {
      data: raw,
      dims: [NI, NJ, NK],
      spacing: [1, 1, 1],
      affine: identity,
      datatype: 'uint8',
      intensity: { aMin: 0, aMax: 250, bMin: 0, bMax: 1, clip: true },
    },
  ],
  // label 1 wherever i is odd: crops need somewhere to centre
  label: {
    data: Uint8Array.from({ length: raw.length }, (_, n) => (n % NI) % 2),
    dims: [NI, NJ, NK],
    spacing: [1, 1, 1],
    affine: identity,
  },
  files: ['grid.nii'],
};

/** The window at padded start `s` [D, H, W], from the raw file by hand. */
function byHand(s: Shape3): Float32Array {
  // padding of the only short axis, D = k: (8 − 5) split with the smaller half before
  const before = [1, 0, 0];
  const out = new Float32Array(roi[0] * roi[1] * roi[2]);
  for (let z = 0; z < roi[0]; z++)
    for (let y = 0; y < roi[1]; y++)
      for (let x = 0; x < roi[2]; x++) {
        const [k, j, i] = [s[0] + z - before[0], s[1] + y - before[1], s[2] + x - before[2]];
        if (k < 0 || k >= NK) continue;
        out[(z * roi[1] + y) * roi[2] + x] = Math.min(1, raw[i + NI * (j + NJ * k)] / 250);
      }
  return out;
}

describe('training crops and evaluation windows of a 3D case', () => {
  it('hold the same voxels at the same start, both as indexed by hand from the NIfTI order', async () => {
    const seen: Float32Array[] = [];
    const model = {
      plan: { input: { shape: [1, ...roi, 1] } },
      predict: (x: tf.Tensor) => {
        seen.push(...tf.unstack(x).map((w) => w.dataSync() as Float32Array));
        return tf.zeros([...x.shape.slice(0, 4), 2]);
      },
    } as unknown as CompiledModel;
    const before = tf.memory().numTensors;
    await volumeLogits(model, testCase, { overlap: 0.25, batchSize: 2 });
    expect(tf.memory().numTensors).toBe(before);

    const padded = volumeTrainSet([testCase], 'auto', roi, 1).volumes[0];
    expect(padded.shape).toEqual([8, NJ, NI]);
    const starts: Shape3[] = [];
    for (const z of windowStarts(8, roi[0], 0.25))
      for (const y of windowStarts(NJ, roi[1], 0.25))
        for (const x of windowStarts(NI, roi[2], 0.25)) starts.push([z, y, x]);
    expect(seen).toHaveLength(starts.length);
    starts.forEach((s, n) => {
      const want = byHand(s);
      expect(Array.from(seen[n]), `window at ${s}`).toEqual(Array.from(want));
      expect(Array.from(cutCrop(padded, s, roi).image), `crop at ${s}`).toEqual(Array.from(want));
    });
  });
});
