/**
 * Volume crops and intensity scaling (src/data/volume-crops.ts) against
 * hand-computed values and against MONAI's own SpatialPadd +
 * RandCropByPosNegLabeld and ScaleIntensityRange (test/python/monai_crops_oracle.py).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rng } from '../../src/compile/init.ts';
import {
  cropStart,
  padToRoi,
  randomCrops,
  scaleIntensityRange,
  type Shape3,
} from '../../src/data/volume-crops.ts';
import { itOracle, runOracle } from './data-oracle.ts';
import { loadNiftiFolder } from '../../src/data/dataset.ts';
import { nodeFileSource } from '../../src/data/node-fs.ts';
import { normaliseVolume } from '../../src/train/samples.ts';
import { niftiFolder } from '../helpers/nifti-folder.ts';

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/** A volume whose voxels are distinct, ≤ 0 except at `positive` (so the only centre MONAI can draw is known). */
function volume(shape: Shape3, channels: number, positive: Shape3, fg: boolean) {
  const [, H, W] = shape;
  const at = (positive[0] * H + positive[1]) * W + positive[2];
  const image = new Float32Array(size(shape) * channels);
  for (let i = 0; i < image.length; i++) image[i] = -((i * 7) % 23) - 1;
  const label = new Uint8Array(size(shape));
  for (let k = 0; k < channels; k++) image[at * channels + k] = 5 + k;
  if (fg) label[at] = 3;
  return { image, label };
}

describe('intensity range scaling (ScaleIntensityRanged)', () => {
  it('maps a_min..a_max onto b_min..b_max and clips, by hand', () => {
    const r = { aMin: -125, aMax: 275, bMin: 0, bMax: 1, clip: true };
    expect(Array.from(scaleIntensityRange([-200, -125, 75, 175, 275, 400], r))).toEqual([
      0, 0, 0.5, 0.75, 1, 1,
    ]);
    const noClip = scaleIntensityRange([-225, 475], { ...r, clip: false });
    expect(noClip[0]).toBeCloseTo(-0.25, 6);
    expect(noClip[1]).toBeCloseTo(1.5, 6);
  });
});

describe("a NIfTI folder's dataset.json intensity_range", () => {
  it("is what 'auto' applies to its volumes; a malformed one is an issue naming the file", async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'mam-range-'));
    niftiFolder(root, { cases: 2 });
    const range = { a_min: 0, a_max: 0.5, b_min: -1, b_max: 1, clip: true };
    writeFileSync(path.join(root, 'dataset.json'), JSON.stringify({ intensity_range: range }));
    const r = await loadNiftiFolder(nodeFileSource(root), '');
    if (!r.ok) throw new Error(r.message);
    const v = r.value.cases[0].channels[0];
    const scaled = normaliseVolume(v, 'auto');
    for (let i = 0; i < v.data.length; i += 37) {
      const want = Math.min(1, Math.max(-1, (v.data[i] / 0.5) * 2 - 1));
      expect(scaled[i]).toBeCloseTo(want, 6);
    }
    // --normalise none still wins
    expect(Array.from(normaliseVolume(v, 'none').subarray(0, 50))).toEqual(
      Array.from(v.data.subarray(0, 50)),
    );
    writeFileSync(
      path.join(root, 'dataset.json'),
      JSON.stringify({ intensity_range: { a_min: 0, a_max: 'high' } }),
    );
    const bad = await loadNiftiFolder(nodeFileSource(root), '');
    const issues = bad.ok ? [] : bad.issues;
    expect(issues.map((i) => i.message)).toContain(
      "dataset.json: intensity_range has no number for a_max, b_min, b_max (needs numbers a_min, a_max, b_min, b_max, as MONAI's ScaleIntensityRanged)",
    );
  });
});

describe('crop placement', () => {
  it('pads a smaller volume symmetrically (the smaller half before), by hand', () => {
    const p = padToRoi(
      Float32Array.from([1, 2, 3]),
      Uint8Array.from([0, 1, 2]),
      [1, 1, 3],
      1,
      [2, 4, 3],
    );
    expect(p.shape).toEqual([2, 4, 3]);
    expect(p.before).toEqual([0, 1, 0]);
    const img = Array.from(p.image);
    // z 0, y 1 holds the row; everything else zero
    expect(img.slice(3, 6)).toEqual([1, 2, 3]);
    expect(img.reduce((a, b) => a + b, 0)).toBe(6);
    expect(Array.from(p.label.slice(3, 6))).toEqual([0, 1, 2]);
  });

  it('keeps the crop inside: centre clamped to [⌊s/2⌋, n − s + ⌊s/2⌋], by hand', () => {
    expect(cropStart([0, 5, 10], [4, 4, 4], [10, 10, 12])).toEqual([0, 3, 8]);
    expect(cropStart([9, 2, 6], [3, 5, 4], [10, 10, 12])).toEqual([7, 0, 4]);
  });
});

describe('random crops (RandCropByPosNegLabeld, pos 1 : neg 1)', () => {
  const shape: Shape3 = [12, 10, 14];
  const image = new Float32Array(size(shape)).map((_, i) => (i % 5 === 0 ? 0 : 1));
  const label = new Uint8Array(size(shape)).map((_, i) => (i % 97 === 3 ? 2 : 0));
  const v = padToRoi(image, label, shape, 1, [6, 6, 6]);

  it('centres half on the foreground, half on non-zero background; each crop holds its centre class; seeded', () => {
    const crops = randomCrops(v, [6, 6, 6], 400, rng(11));
    const positive = crops.filter((c) => c.positive).length;
    expect(positive).toBeGreaterThan(160);
    expect(positive).toBeLessThan(240);
    for (const c of crops) {
      expect(c.image).toHaveLength(216);
      if (c.positive) expect(c.label.some((x) => x > 0)).toBe(true);
    }
    const again = randomCrops(v, [6, 6, 6], 400, rng(11));
    expect(again.map((c) => c.start)).toEqual(crops.map((c) => c.start));
    const other = randomCrops(v, [6, 6, 6], 400, rng(12));
    expect(other.map((c) => c.start)).not.toEqual(crops.map((c) => c.start));
  });

  it('draws only background when there is no foreground, and says when there is nothing at all', () => {
    const bgOnly = randomCrops(
      padToRoi(image, new Uint8Array(size(shape)), shape, 1, [4, 4, 4]),
      [4, 4, 4],
      50,
      rng(1),
    );
    expect(bgOnly.every((c) => !c.positive)).toBe(true);
    const empty = padToRoi(
      new Float32Array(size(shape)),
      new Uint8Array(size(shape)),
      shape,
      1,
      [4, 4, 4],
    );
    expect(() => randomCrops(empty, [4, 4, 4], 1, rng(1))).toThrow(/no crop centre/);
  });
});

itOracle(
  'crops and intensity scaling equal MONAI’s (SpatialPadd + RandCropByPosNegLabeld, ScaleIntensityRange)',
  () => {
    const cases: { shape: Shape3; channels: number; roi: Shape3; at: Shape3; fg: boolean }[] = [
      { shape: [7, 9, 11], channels: 1, roi: [4, 5, 6], at: [3, 4, 5], fg: true },
      { shape: [7, 9, 11], channels: 1, roi: [4, 5, 6], at: [0, 0, 0], fg: true },
      { shape: [7, 9, 11], channels: 2, roi: [4, 5, 6], at: [6, 8, 10], fg: true },
      { shape: [7, 9, 11], channels: 1, roi: [3, 5, 5], at: [6, 1, 9], fg: true },
      { shape: [7, 9, 11], channels: 1, roi: [3, 5, 5], at: [2, 7, 4], fg: false },
      { shape: [3, 9, 4], channels: 1, roi: [4, 5, 6], at: [2, 8, 0], fg: true },
      { shape: [5, 2, 8], channels: 2, roi: [5, 5, 5], at: [1, 1, 7], fg: false },
    ];
    const scale = [
      {
        values: [-300, -125, 0, 100, 275, 500],
        a_min: -125,
        a_max: 275,
        b_min: 0,
        b_max: 1,
        clip: true,
      },
      { values: [-1, 0, 3, 7, 12], a_min: 0, a_max: 10, b_min: -1, b_max: 1, clip: false },
      { values: [0, 50, 255, 300], a_min: 0, a_max: 255, b_min: 0, b_max: 1, clip: true },
      { values: [2, 5, 9], a_min: 5, a_max: 5, b_min: 1, b_max: 2, clip: false },
    ];
    const vols = cases.map((c) => volume(c.shape, c.channels, c.at, c.fg));
    const dir = mkdtempSync(path.join(tmpdir(), 'mam-crops-'));
    const file = path.join(dir, 'cases.json');
    writeFileSync(
      file,
      JSON.stringify({
        crops: cases.map((c, i) => ({
          shape: c.shape,
          channels: c.channels,
          roi: c.roi,
          image: Array.from(vols[i].image),
          label: Array.from(vols[i].label),
        })),
        scale,
      }),
    );
    const out = JSON.parse(runOracle('monai_crops_oracle.py', [file])) as {
      crops: { shape: number[]; image: number[]; label: number[] }[];
      scale: number[][];
    };
    for (const [i, c] of cases.entries()) {
      const v = padToRoi(vols[i].image, vols[i].label, c.shape, c.channels, c.roi);
      const [crop] = randomCrops(v, c.roi, 1, rng(i));
      expect(crop.positive).toBe(c.fg);
      expect(out.crops[i].shape).toEqual(c.roi);
      expect(Array.from(crop.label)).toEqual(out.crops[i].label);
      expect(Array.from(crop.image)).toEqual(out.crops[i].image);
    }
    for (const [i, s] of scale.entries()) {
      const ours = scaleIntensityRange(s.values, {
        aMin: s.a_min,
        aMax: s.a_max,
        bMin: s.b_min,
        bMax: s.b_max,
        clip: s.clip,
      });
      for (const [j, x] of out.scale[i].entries()) expect(Math.abs(ours[j] - x)).toBeLessThan(1e-6);
    }
  },
  60_000,
);
