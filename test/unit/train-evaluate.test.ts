/** Slice-wise evaluation: voxel order, resizing there and back, conventions, rule counts, CSV. */
import * as tf from '#tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CompiledModel } from '../../src/compile/model.ts';
import { evaluateCases, formatReport, predictVolume } from '../../src/train/evaluate.ts';
import { phantomCase } from '../helpers/phantom-cases.ts';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** A stand-in network that reads the phantom's classes off its intensities (background 0.1, organ1 0.55, organ2 0.9, noise ±0.05). */
function thresholdModel(size: number): CompiledModel {
  return {
    plan: { input: { shape: [1, size, size, 1] } },
    predict: (x: tf.Tensor4D) =>
      tf.tidy(() => {
        const c1 = tf.logicalAnd(tf.greater(x, 0.3), tf.lessEqual(x, 0.725));
        const c2 = tf.greater(x, 0.725);
        const c0 = tf.logicalNot(tf.logicalOr(c1, c2));
        return tf.cast(tf.concat([c0, c1, c2], -1), 'float32') as tf.Tensor4D;
      }),
  } as unknown as CompiledModel;
}

const classNames = ['background', 'organ1', 'organ2'];

describe('evaluateCases', () => {
  it('predicts in the volume voxel order: a perfect network scores Dice 1', async () => {
    const c = phantomCase('p1', 11, 16, 5);
    const pred = await predictVolume(thresholdModel(16), c, {
      normalisation: 'none',
      batchSize: 2,
    });
    expect(Array.from(pred)).toEqual(Array.from(c.label!.data));
    const r = await evaluateCases(thresholdModel(16), [c], { classNames, normalisation: 'none' });
    expect(r.convention).toBe('synapse');
    expect(r.summary.perClass.organ1.dice).toBe(1);
    expect(r.summary.perClass.organ2.dice).toBe(1);
    expect(r.summary.meanHd95).toBe(0);
    expect(r.ruleCounts).toEqual({ both: 2, predOnly: 0, gtOnly: 0, bothEmpty: 0 });
    expect(r.csv.split('\n')[1].startsWith('synapse,p1,organ1,1,')).toBe(true);
  });

  it('resizes slices to the input and predictions back (nearest) to the volume grid', async () => {
    const c = phantomCase('p2', 12, 24, 4);
    const pred = await predictVolume(thresholdModel(16), c, { normalisation: 'none' });
    expect(pred.length).toBe(24 * 24 * 4);
    const r = await evaluateCases(thresholdModel(16), [c], { classNames, normalisation: 'none' });
    expect(r.summary.meanDice).toBeGreaterThan(0.7); // cubic down, nearest up: edges move by a voxel
    expect(r.summary.meanDice).toBeLessThan(1);
    // the same prediction against the label with x and y swapped scores far lower: the axes are right
    const swapped = new Uint8Array(pred.length);
    for (let z = 0; z < 4; z++)
      for (let y = 0; y < 24; y++)
        for (let x = 0; x < 24; x++)
          swapped[x * 24 + y + z * 576] = c.label!.data[y * 24 + x + z * 576];
    const agree = (a: Uint8Array) => a.reduce((n, v, i) => n + (v > 0 && v === pred[i] ? 1 : 0), 0);
    expect(agree(c.label!.data)).toBeGreaterThan(1.5 * agree(swapped));
  });

  it('labels every result with its convention and counts the empty-mask rules', async () => {
    const a = phantomCase('a', 13, 16, 3); // organ2 removed: absent from the ground truth and the prediction
    a.label!.data.forEach((v, i) => {
      if (v === 2) {
        a.label!.data[i] = 0;
        a.channels[0].data[i] = 0.1;
      }
    });
    const b = phantomCase('b', 14, 16, 3);
    const syn = await evaluateCases(thresholdModel(16), [a, b], {
      classNames,
      normalisation: 'none',
    });
    expect(syn.ruleCounts).toEqual({ both: 3, predOnly: 0, gtOnly: 0, bothEmpty: 1 });
    expect(syn.summary.perClass.organ2.dice).toBe(0.5); // synapse keeps the both-empty 0 in the mean
    const mon = await evaluateCases(thresholdModel(16), [a, b], {
      classNames,
      normalisation: 'none',
      convention: 'monai',
    });
    expect(mon.convention).toBe('monai');
    expect(mon.summary.perClass.organ2.dice).toBe(1); // monai skips the NaN
    expect(
      mon.csv
        .split('\n')
        .slice(1, -1)
        .every((l) => l.startsWith('monai,')),
    ).toBe(true);
    const text = formatReport(syn, 'single-subject demo, not a benchmark');
    expect(text).toMatch(/synapse convention/);
    expect(text).toMatch(/single-subject demo, not a benchmark/);
    expect(text).toMatch(/both empty ×1/);
  });
});
