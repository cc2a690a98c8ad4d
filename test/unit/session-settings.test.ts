/**
 * The session's settings resolver against hand-computed values: graph
 * metadata → defaults → overrides, each with its reason; steps per epoch
 * (⌈slices/batch⌉: the last batch partial, as torch's DataLoader without drop_last), SGD's learning rate scaled by batch/24 with
 * the batch capped by the slices, validation once per epoch unless set.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { loadGraph } from '../../src/graph/load.ts';
import {
  panelDefaults,
  panelOverrides,
  resolveBase,
  resolveRun,
  resolveVolumeRun,
} from '../../src/session/settings.ts';
import { repoRoot } from './data-oracle.ts';
import { tinyGraph } from '../helpers/tiny-graph.ts';

describe('settings resolver', () => {
  it('no metadata, no overrides: the defaults (SGD 0.05 at batch 24, batch 8, 30 epochs)', () => {
    const r = resolveRun(undefined, {}, 100);
    // 100 slices / batch 8 = 12 whole batches and one of 4; 30 × 13 = 390 steps; 0.05 × 8 / 24.
    expect(r.stepsPerEpoch).toBe(13);
    expect(r.steps).toMatchObject({ value: 390, from: 'per epoch' });
    expect(r.learningRate.value).toBeCloseTo(0.05 / 3, 15);
    expect(r.learningRate.from).toBe('scaled by batch');
    expect(r.learningRate.note).toBe('0.05 (default) at batch 24, scaled ×8/24');
    expect(r.valEvery).toMatchObject({ value: 13, from: 'per epoch' });
    expect(r.base.optimizer).toEqual({ value: 'sgd', from: 'default' });
    expect(r.base.seed).toEqual({ value: 0, from: 'default' });
    expect(r.settings).toMatchObject({
      batchSize: 8,
      steps: 390,
      schedule: 'poly',
      optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 1e-4 },
      seed: 0,
      valEvery: 13,
      checkpointEvery: 0,
      patience: 0,
      augment: true,
      convention: 'synapse',
      normalisation: 'auto',
      resize: 'stretch',
    });
  });

  it("the graph's metadata wins over the defaults; AdamW's rate is not scaled", () => {
    const meta = {
      optimizer: 'adamw' as const,
      learningRate: 1e-3,
      batchSize: 4,
      epochs: 5,
      seed: 7,
      metricConvention: 'monai' as const,
      augment: false,
    };
    const r = resolveRun(meta, {}, 50);
    // 50 / 4 = 12 whole batches and one of 2; 5 × 13 = 65.
    expect(r.steps).toMatchObject({
      value: 65,
      note: '5 epochs (graph metadata) × 13 steps per epoch',
    });
    expect(r.learningRate).toEqual({ value: 1e-3, from: 'graph metadata' });
    expect(r.base.batchSize).toEqual({ value: 4, from: 'graph metadata' });
    expect(r.base.seed).toEqual({ value: 7, from: 'graph metadata' });
    expect(r.settings.optimizer).toEqual({
      kind: 'adamw',
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.01,
    });
    expect(r.settings).toMatchObject({ augment: false, convention: 'monai', seed: 7 });
  });

  it('overrides win over the metadata; steps replace epochs; valEvery 0 means only at the end', () => {
    const meta = { optimizer: 'adamw' as const, batchSize: 4, epochs: 5, seed: 7 };
    const r = resolveRun(
      meta,
      { optimizer: 'sgd', learningRate: 0.12, batchSize: 12, steps: 10, valEvery: 0, seed: 3 },
      50,
    );
    expect(r.base.optimizer).toEqual({ value: 'sgd', from: 'override' });
    expect(r.steps).toEqual({ value: 10, from: 'override' });
    expect(r.valEvery).toEqual({ value: 0, from: 'override' });
    // 0.12 × 12 / 24 = 0.06; 50 / 12 = 4 whole batches and one of 2 per epoch.
    expect(r.learningRate.value).toBeCloseTo(0.06, 15);
    expect(r.stepsPerEpoch).toBe(5);
    expect(r.base.seed).toEqual({ value: 3, from: 'override' });
  });

  it('fewer slices than the batch: the batch is capped, one step per epoch, the rate scaled by the cap', () => {
    const r = resolveRun({ epochs: 3 }, {}, 3);
    expect(r.effectiveBatch).toBe(3);
    expect(r.stepsPerEpoch).toBe(1);
    expect(r.steps.value).toBe(3);
    expect(r.learningRate.value).toBeCloseTo((0.05 * 3) / 24, 15);
    // The loop still gets the batch asked for (it caps it itself), as run.json records.
    expect(r.settings.batchSize).toBe(8);
  });

  it("AdamW's default rate is 1e-3, SGD's 0.05, whichever way the optimizer was chosen", () => {
    expect(resolveBase({ optimizer: 'adamw' }).learningRate).toEqual({
      value: 1e-3,
      from: 'default',
    });
    expect(resolveBase({}, { optimizer: 'adamw' }).learningRate.value).toBe(1e-3);
    expect(resolveBase({ optimizer: 'adamw' }, { optimizer: 'sgd' }).learningRate.value).toBe(0.05);
  });
});

describe("the Train panel's settings through the resolver", () => {
  const doc = tinyGraph(); // metadata.training: batch 4, 2 epochs, SGD 0.05, seed 7

  it("defaults are the graph's metadata, else the session's defaults", () => {
    expect(panelDefaults(doc)).toEqual({
      epochs: 2,
      steps: 0,
      batchSize: 4,
      learningRate: 0.05,
      optimizer: 'sgd',
      seed: 7,
      valEvery: 0,
      convention: 'synapse',
      augment: true,
    });
  });

  it('only the fields changed from the defaults are overrides; steps and valEvery 0 mean unset', () => {
    const p = { ...panelDefaults(doc), learningRate: 0.1, steps: 0, valEvery: 5 };
    expect(panelOverrides(p, doc)).toEqual({ learningRate: 0.1, valEvery: 5 });
    const r = resolveRun(doc.metadata?.training, panelOverrides(p, doc), 40);
    // 40 / 4 = 10 steps per epoch, 2 epochs (graph metadata); 0.1 × 4 / 24.
    expect(r.steps).toMatchObject({
      value: 20,
      note: '2 epochs (graph metadata) × 10 steps per epoch',
    });
    expect(r.learningRate.note).toBe('0.1 (override) at batch 24, scaled ×4/24');
    expect(r.base.seed.from).toBe('graph metadata');
  });
});

describe("a 3D graph's crop augmentation (3D-MAM-SPEC.md §f)", () => {
  const preset = (name: string) =>
    loadGraph(readFileSync(path.join(repoRoot, 'presets', `${name}.json`), 'utf8'), catalogue);
  const training = (name: string) => {
    const r = preset(name);
    if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('; '));
    return r.graph.metadata?.training;
  };
  // the spec's values, written out: RandShiftIntensityd(offsets 0.10, p 0.5), RandAffined(p 1, (0, 0, π/30), 0.1 per axis)
  const reference = [
    { kind: 'shift-intensity', offsets: 0.1, prob: 0.5 },
    { kind: 'affine', prob: 1, rotateRange: [0, 0, Math.PI / 30], scaleRange: [0.1, 0.1, 0.1] },
  ];

  it('the FLARE presets name the reference augmentation and a run takes it from there', () => {
    for (const name of ['swinunetr', 'swinunetr-mam', 'nnformer', 'nnformer-mam']) {
      const meta = training(name);
      expect(meta?.augment, name).toEqual(reference);
      const r = resolveVolumeRun(meta, {}, 3);
      expect(r.volumeAugment).toEqual({ value: reference, from: 'graph metadata' });
      expect(r.settings.augment).toBe(true);
      expect(r.settings.volumeAugment).toEqual(reference);
      // off (mam train --no-augment, the panel's Augment box): the crops only, saying why
      const off = resolveVolumeRun(meta, { augment: false }, 3);
      expect(off.volumeAugment).toMatchObject({ value: [], from: 'override' });
      expect(off.settings.augment).toBe(false);
    }
  });

  it('the demos train without it, by their metadata; a 3D graph that does not say gets the reference', () => {
    for (const name of ['swinunetr-mam-demo', 'nnformer-mam-demo']) {
      const meta = training(name);
      expect(meta?.augment).toBe(false);
      expect(resolveVolumeRun(meta, {}, 1).volumeAugment).toMatchObject({
        value: [],
        from: 'graph metadata',
      });
      // turned on in the panel: the reference's
      expect(resolveVolumeRun(meta, { augment: true }, 1).settings.volumeAugment).toEqual(
        reference,
      );
    }
    expect(resolveVolumeRun(undefined, {}, 1).volumeAugment).toMatchObject({
      value: reference,
      from: 'default',
    });
    // the panel's box is on for a list
    expect(resolveBase({ augment: reference as never }).augment).toEqual({
      value: true,
      from: 'graph metadata',
    });
  });

  it('a malformed list is a load issue naming its place', () => {
    const doc = JSON.parse(
      readFileSync(path.join(repoRoot, 'presets', 'nnformer.json'), 'utf8'),
    ) as { metadata: { training: { augment: unknown[] } } };
    doc.metadata.training.augment = [{ kind: 'affine', prob: 2, rotateRange: [0, 0] }];
    const r = loadGraph(doc, catalogue);
    const messages = r.issues.map((i) => i.message).join('\n');
    expect(messages).toContain(
      "$.metadata.training.augment: must be true, false or a list of 3D crop augmentations: {kind: 'shift-intensity', offsets, prob} or {kind: 'affine', prob, rotateRange: [i, j, k], scaleRange: [i, j, k]} (prob in [0, 1])",
    );
    expect(r.issues[0].message).not.toMatch(/\n/);
  });
});
