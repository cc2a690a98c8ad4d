/**
 * `mam train` and `python -m mam_torch.train` follow one protocol on volumes
 * (issue 13): each step takes ONE training volume and cuts the graph's
 * `samplesPerVolume` crops from it (the reference: a DataLoader batch of 1
 * volume, RandCropByPosNegLabeld num_samples 2), an epoch is one step per
 * training volume (none dropped), validation ten times per run; both engines'
 * run.json say so with the same keys and values. Checked against values worked
 * out by hand from data/demo3d (one training volume, 51×128×105) and the
 * nnformer-mam-demo preset's metadata, and for several volumes from the rules.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveVolumeRun } from '../../src/session/settings.ts';
import { spawnMam } from '../helpers/mam-cli.ts';
import { runPython, spawnTrain } from '../helpers/torch-runtime.ts';
import { describeOracle, repoRoot } from './data-oracle.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mam-torch-protocol-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readJson = (...p: string[]) => JSON.parse(readFileSync(path.join(...p), 'utf8'));

/** The parts of run.json that describe the protocol (not the engine, its versions or the time). */
const protocolOf = (run: {
  settings: Record<string, unknown>;
  data: Record<string, unknown>;
  metricConvention: string;
}) => ({ settings: run.settings, data: run.data, metricConvention: run.metricConvention });

describeOracle('one protocol for volumes: mam train and mam_torch', () => {
  it('demo3d with nnformer-mam-demo, --steps 1: the same run.json protocol, the preset’s one crop of the one training volume in the first batch', async () => {
    const preset = path.join(repoRoot, 'presets', 'nnformer-mam-demo.json');
    const [ts, py] = ['ts', 'py'].map((e) => path.join(dir, e));
    const [a, b] = await Promise.all([
      spawnMam(
        ['train', preset, '--data', 'demo3d', '--steps', '1', '--backend', 'wasm', '--out', ts],
        repoRoot,
      ),
      spawnTrain(1, [preset, '--data', 'demo3d', '--steps', '1', '--out', py]),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const [runTs, runPy] = [ts, py].map((d) => readJson(d, 'run.json'));
    expect(protocolOf(runPy)).toEqual(protocolOf(runTs));

    // by hand: the preset's metadata.training (samplesPerVolume 1, AdamW 3e-3, DiceCE 1 : 1,
    // augment false, monai, the reference's windows) and data/demo3d (one training volume)
    expect(runTs.settings).toEqual({
      batchSize: 1,
      steps: 1,
      learningRate: 3e-3,
      schedule: 'constant',
      optimizer: { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
      seed: 0,
      splitSeed: 0, // the split's seed: --seed's (both engines record it)
      valEvery: 1, // ⌈1 / 10⌉
      checkpointEvery: 0,
      patience: 0,
      augment: false,
      volumeAugment: [],
      validationWindow: { overlap: 0.25, batchSize: 2 },
      testWindow: { overlap: 0.5, batchSize: 4 },
      convention: 'monai',
      normalisation: 'auto',
      resize: 'stretch',
      loss: { ce: 1, dice: 1 },
    });
    expect(runTs.data).toMatchObject({
      split: { train: ['demo-train'], val: ['demo-val'], test: ['demo-test'] },
      trainVolumes: 1,
      crop: [64, 64, 64],
      sampling: { volumesPerStep: 1, cropsPerVolume: 1, stepsPerEpoch: 1 },
      intensityRange: { a_min: 0, a_max: 255, b_min: 0, b_max: 1, clip: true },
      resize: {
        rule: 'crop',
        input: [64, 64, 64],
        validation: 'sliding window, overlap 0.25, sw_batch 2, constant',
      },
    });
    // the first step: its crop cut from the one training volume
    for (const d of [ts, py])
      expect(readJson(d, 'checkpoint', 'state.json').history[0], d).toMatchObject({
        step: 1,
        volume: 'demo-train',
        crops: 1,
      });
  }, 900_000);

  it('several volumes: an epoch is a step per volume, validation ten times a run, SGD scaled by the crops', async () => {
    // 3 training volumes, samplesPerVolume 2, 4 epochs, SGD 0.05 at batch 24, weight decay 3e-4
    const meta = { samplesPerVolume: 2, epochs: 4, optimizer: 'sgd' as const, weightDecay: 3e-4 };
    const want = {
      batchSize: 2,
      steps: 12, // 4 epochs × 3 volumes
      learningRate: (0.05 * 2) / 24,
      valEvery: 2, // ⌈12 / 10⌉
      optimizer: { kind: 'sgd', momentum: 0.9, weightDecay: 3e-4 },
      schedule: 'constant',
    };
    const ts = resolveVolumeRun(meta, { seed: 0 }, 3, [64, 64, 64]);
    expect(ts.settings).toMatchObject(want);
    expect(ts.stepsPerEpoch).toBe(3);
    const r = await runPython([
      '-c',
      `
import argparse, json, sys
from mam_torch.train import new_settings
args = argparse.Namespace(batch=None, optimizer=None, lr=None, steps=None, epochs=None, val_every=None,
                          checkpoint_every=None, patience=None, no_augment=False, metrics=None, resize=None)
settings, eff, spe = new_settings(args, json.loads(sys.argv[1]), 3, True, 0, 0, "auto")
print(json.dumps({"settings": settings, "eff": eff, "spe": spe}))
`,
      JSON.stringify(meta),
    ]);
    expect(r.stderr).toBe('');
    const py = JSON.parse(r.stdout);
    expect(py.settings).toMatchObject(want);
    expect([py.eff, py.spe]).toEqual([2, 3]);
  });
});
