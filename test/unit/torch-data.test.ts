/**
 * The torch runtime reads and scores data as our TypeScript does: a NIfTI
 * folder and the Synapse layout give the same split (seeded hash of case ids), class names, slice
 * count and normalised slices; Dice and HD95 agree in both conventions on
 * phantom volumes (monai with anisotropic spacing); the resize rules
 * ('stretch', 'pad') give the same input planes; the data fingerprint (what a
 * run folder's resume checks) is the same string.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/compile/io/npy.ts';
import { loadDataArg } from '../../src/cli/train-data.ts';
import { makePhantom, shiftedPrediction } from '../../src/data/phantom.ts';
import { resizeSample } from '../../src/train/augment.ts';
import { evaluateVolume } from '../../src/train/metrics.ts';
import { caseSlices, dataFingerprint } from '../../src/train/samples.ts';
import { niftiFolder } from '../helpers/nifti-folder.ts';
import { runPython } from '../helpers/torch-runtime.ts';
import { relErr } from '../reference/math.ts';
import { describeOracle } from './data-oracle.ts';

describeOracle('torch runtime: data and metrics as ours', () => {
  let dir = '';
  const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'));
  const spacing = [2, 1, 1.5];
  const shape = [6, 20, 24];
  let pred: Uint8Array;
  let gt: Uint8Array;
  let slice: { image: Float32Array; label: Uint8Array };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mam-torch-data-'));
    mkdirSync(join(dir, 'folder'));
    niftiFolder(join(dir, 'folder'), { cases: 5, size: [16, 20] });
    const p = makePhantom({ shape, organs: 2, seed: 9 });
    gt = p.label;
    pred = shiftedPrediction(p, [0, 2, -1]);
    writeFileSync(join(dir, 'pred.npy'), writeNpy(pred, shape));
    writeFileSync(join(dir, 'gt.npy'), writeNpy(gt, shape));
    writeFileSync(join(dir, 'spacing.json'), JSON.stringify(spacing));
    const img = Float32Array.from({ length: 16 * 20 }, (_, i) => Math.sin(i / 7) + (i % 20) / 20);
    const lab = Uint8Array.from(
      { length: 16 * 20 },
      (_, i) => (i % 20 > 8 ? 1 : 0) + (i > 200 ? 1 : 0),
    );
    slice = { image: img, label: lab };
    writeFileSync(join(dir, 'slice.npy'), writeNpy(img, [16, 20, 1]));
    writeFileSync(join(dir, 'slice_label.npy'), writeNpy(lab, [16, 20]));
    const fx = await runPython(['test/python/data_synapse_fixtures.py', join(dir, 'synapse')]);
    expect(fx.code, fx.stderr).toBe(0);
    const kinds = ['test/python/data_folder_fixtures.py', 'make', join(dir, 'kinds')];
    const kx = await runPython([...kinds, '--classes', '3', '--kinds', '1']);
    expect(kx.code, kx.stderr).toBe(0);
    const r = await runPython(['test/python/torch_runtime_data.py', dir]);
    expect(r.stderr + `exit ${r.code}`).toBe('exit 0');
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['a NIfTI folder', 'folder', 'data.json'],
    ['the Synapse layout', 'synapse', 'synapse.json'],
  ])('%s: the same split, classes, slice count and normalised slices', async (_, folder, file) => {
    const ours = await loadDataArg(join(dir, folder), 7);
    const theirs = read(file);
    expect(theirs.train).toEqual(ours.splits.train.map((c) => c.id));
    expect(theirs.val).toEqual(ours.splits.val.map((c) => c.id));
    expect(theirs.test).toEqual(ours.splits.test.map((c) => c.id));
    expect(theirs.classNames).toEqual(ours.classNames);
    const slices = ours.splits.train.flatMap((c) => caseSlices(c, 'auto'));
    expect(theirs.slices).toBe(slices.length);
    expect(relErr(theirs.first, slices[0].image)).toBeLessThanOrEqual(1e-6);
    expect(theirs.firstLabel).toEqual([...slices[0].label]);
    expect(theirs.testLabel).toEqual([...(ours.splits.test[0]?.label?.data ?? [])]);
  });

  it.each([
    ['a NIfTI folder', 'folder', 'data.json'],
    ['the Synapse layout', 'synapse', 'synapse.json'],
    [
      'int16 scaled by scl_slope/scl_inter, 2D uint8 and float64 NIfTI files',
      'kinds',
      'kinds.json',
    ],
    ['the demo set', 'demo', 'demo.json'],
  ])('%s: the same data fingerprint', async (_, folder, file) => {
    const ours = await loadDataArg(folder === 'demo' ? 'demo' : join(dir, folder), 7);
    const { train, val, test } = ours.splits;
    expect(read(file).fingerprint).toBe(dataFingerprint([...train, ...val, ...test]));
  });

  it('Dice and HD95 per class agree in both conventions (monai in mm with the spacing)', () => {
    const theirs = read('metrics.json');
    for (const convention of ['synapse', 'monai'] as const) {
      const ours = evaluateVolume(pred, gt, shape, ['background', 'organ1', 'organ2'], {
        convention,
        spacing,
      });
      for (const [name, s] of Object.entries(ours.perClass)) {
        const t = theirs[convention][name];
        expect(t.rule, `${convention} ${name}`).toBe(s.rule);
        expect(t.dice, `${convention} ${name} dice`).toBeCloseTo(s.dice, 12);
        expect(t.hd95, `${convention} ${name} hd95`).toBeCloseTo(s.hd95, 9);
        expect(s.hd95).toBeGreaterThan(0);
      }
    }
    // the conventions differ on these masks (pooled voxels vs the larger directed mm percentile)
    expect(theirs.synapse.organ1.hd95).not.toBeCloseTo(theirs.monai.organ1.hd95, 3);
  });

  it("the resize rules ('stretch', 'pad') give the same 32×32 input planes", () => {
    for (const rule of ['stretch', 'pad'] as const) {
      const ours = resizeSample({ ...slice, height: 16, width: 20, channels: 1 }, 32, 32, rule);
      const t = readNpy(new Uint8Array(readFileSync(join(dir, `resized_${rule}.npy`))));
      const data = t.data as Float32Array;
      const image = data.filter((_, i) => i % 2 === 0);
      const label = Array.from(data.filter((_, i) => i % 2 === 1));
      expect(relErr(image, ours.image), rule).toBeLessThanOrEqual(1e-5);
      expect(label, rule).toEqual([...ours.label]);
    }
  });
});
