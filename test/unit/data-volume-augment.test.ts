/**
 * The 3D training augmentation (src/data/volume-augment.ts) against values
 * worked out by hand, against MONAI's own ShiftIntensity and Affine with the
 * same parameters (test/python/monai_augment_oracle.py), and its sampler's
 * draws against the uniform and Bernoulli laws they follow. The torch
 * runtime's augmentation (python/mam_torch/volumes.py) is checked against the
 * same MONAI outputs, and its sampler against the same laws.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { rng } from '../../src/compile/init.ts';
import {
  affineVolume,
  applyVolumeAugmentation,
  drawVolumeAugmentation,
  REFERENCE_VOLUME_AUGMENT,
  type VolumeAugmentDraw,
  type VolumeSample,
} from '../../src/data/volume-augment.ts';
import { padToRoi, posNegIndices, randomCrops, type Shape3 } from '../../src/data/volume-crops.ts';
import { volumeBatch } from '../../src/train/volume-batches.ts';
import { runWithTorch } from '../helpers/torch-runtime.ts';
import { itOracle, repoRoot, venvPython } from './data-oracle.ts';

const voxels = (s: Shape3) => s[0] * s[1] * s[2];

function sample(shape: Shape3, channels: number, seed: number, classes = 5): VolumeSample {
  const r = rng(seed);
  const image = Float32Array.from({ length: voxels(shape) * channels }, () => r() * 2 - 0.5);
  const label = Uint8Array.from({ length: voxels(shape) }, () => Math.floor(r() * classes));
  return { image, label, shape, channels };
}

describe('the affine of a crop, by hand', () => {
  it('rotation 0 and scale 1 give the crop back', () => {
    const s = sample([4, 5, 6], 2, 1);
    const out = affineVolume(s, [0, 0, 0], [1, 1, 1]);
    expect(Array.from(out.image)).toEqual(Array.from(s.image));
    expect(Array.from(out.label)).toEqual(Array.from(s.label));
  });

  it('a quarter turn about k (our D) moves (z, y, x) to (z, x, W − 1 − y) on a square plane', () => {
    const s = sample([3, 4, 4], 1, 2);
    const out = affineVolume(s, [0, 0, Math.PI / 2], [1, 1, 1]);
    // output (i, j) reads the input at (−c_j, c_i) about the centre: in[z][x][W − 1 − y]
    for (let z = 0; z < 3; z++)
      for (let y = 0; y < 4; y++)
        for (let x = 0; x < 4; x++) {
          const o = (z * 4 + y) * 4 + x;
          const i = (z * 4 + x) * 4 + (3 - y);
          expect(out.label[o]).toBe(s.label[i]);
          expect(out.image[o]).toBeCloseTo(s.image[i], 5);
        }
  });

  it('scale 2 along i reads beyond the edges reflected about −0.5 and n − 0.5', () => {
    const image = Float32Array.from([10, 20, 30, 40]);
    const out = affineVolume(
      { image, label: new Uint8Array(4), shape: [1, 1, 4], channels: 1 },
      [0, 0, 0],
      [2, 1, 1],
    );
    // centred −1.5, −0.5, 0.5, 1.5 → ×2 + 1.5 = −1.5, 0.5, 2.5, 4.5 → reflected 0.5, 0.5, 2.5, 2.5
    expect(Array.from(out.image)).toEqual([15, 15, 35, 35]);
  });
});

interface DrawColumns {
  draws: number;
  offset: number[];
  rotate: number[][];
  scale: number[][];
}

const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
const variance = (a: number[]) => mean(a.map((v) => (v - mean(a)) ** 2));

/** U[c − a, c + a): inside, mean c ± 4·a/√(3m), variance a²/3 within 5 %. */
function expectUniform(xs: number[], a: number, c: number) {
  expect(Math.min(...xs)).toBeGreaterThanOrEqual(c - a);
  expect(Math.max(...xs)).toBeLessThan(c + a);
  expect(Math.abs(mean(xs) - c)).toBeLessThan((4 * a) / Math.sqrt(3 * xs.length));
  expect(Math.abs(variance(xs) / ((a * a) / 3) - 1)).toBeLessThan(0.05);
}

/** The reference's laws: shift with p 0.5 (within 4 σ), offsets U[−0.1, 0.1); affine always, rotation U[−π/30, π/30) about k only, scales U[0.9, 1.1). */
function expectReferenceLaws(d: DrawColumns) {
  expect(Math.abs(d.offset.length / d.draws - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / d.draws));
  expectUniform(d.offset, 0.1, 0);
  expect(d.rotate[2].length).toBe(d.draws);
  expect(d.rotate[0].concat(d.rotate[1]).every((v) => v === 0)).toBe(true);
  expectUniform(d.rotate[2], Math.PI / 30, 0);
  for (const s of d.scale) expectUniform(s, 0.1, 1);
}

describe('the sampler', () => {
  it("draws the reference's parameters with their laws (fixed seed)", () => {
    const r = rng(12345);
    const d: DrawColumns = { draws: 20000, offset: [], rotate: [[], [], []], scale: [[], [], []] };
    for (let t = 0; t < d.draws; t++)
      for (const a of drawVolumeAugmentation(REFERENCE_VOLUME_AUGMENT, r)) {
        if (a.kind === 'shift-intensity') d.offset.push(a.offset);
        else
          for (let k = 0; k < 3; k++) {
            d.rotate[k].push(a.rotate[k]);
            d.scale[k].push(a.scale[k]);
          }
      }
    expectReferenceLaws(d);
  });

  it('draws the same for the same seed', () => {
    const a = drawVolumeAugmentation(REFERENCE_VOLUME_AUGMENT, rng(7));
    expect(drawVolumeAugmentation(REFERENCE_VOLUME_AUGMENT, rng(7))).toEqual(a);
  });
});

describe('a training batch of crops', () => {
  it('is the crops as drawn, each then augmented from its own stream; no specs: the crops alone', () => {
    const shape: Shape3 = [12, 10, 11];
    const v = sample(shape, 1, 9, 3);
    const set = {
      volumes: [padToRoi(v.image, v.label, shape, 1, [6, 6, 6])],
      roi: [6, 6, 6] as Shape3,
      channels: 1,
    };
    const indices = [posNegIndices(set.volumes[0])];
    const plain = volumeBatch({ ...set, indices }, 0, 3, rng(1));
    const streams = (j: number) => rng(100 + j);
    const aug = volumeBatch({ ...set, indices }, 0, 3, rng(1), {
      specs: REFERENCE_VOLUME_AUGMENT,
      rand: streams,
    });
    const crops = randomCrops(set.volumes[0], [6, 6, 6], 3, rng(1), { indices: indices[0] });
    const n = 6 * 6 * 6;
    crops.forEach((c, j) => {
      expect(Array.from(plain.x.subarray(j * n, (j + 1) * n))).toEqual(Array.from(c.image));
      const want = applyVolumeAugmentation(
        { image: c.image, label: c.label, shape: [6, 6, 6], channels: 1 },
        drawVolumeAugmentation(REFERENCE_VOLUME_AUGMENT, streams(j)),
      );
      expect(Array.from(aug.x.subarray(j * n, (j + 1) * n))).toEqual(Array.from(want.image));
      expect(Array.from(aug.y.subarray(j * n, (j + 1) * n))).toEqual(Array.from(want.label));
    });
    expect(Array.from(aug.x)).not.toEqual(Array.from(plain.x));
  });
});

/** Within `eps` of a half-voxel on some axis: grid_sample's float32 grid may round either way there. */
function nearTie(p: number[], eps: number) {
  return p.some((v) => Math.abs(v - Math.floor(v) - 0.5) < eps);
}

/** The input coordinate (i, j, k) of output voxel (x, y, z) for a rotation about k and per-axis scales, written out by hand. */
function sourceAboutK(o: number[], shape: Shape3, theta: number, s: number[]) {
  const n = [shape[2], shape[1], shape[0]];
  const c = o.map((v, a) => v - (n[a] - 1) / 2);
  const [cos, sin] = [Math.cos(theta), Math.sin(theta)];
  return [
    cos * s[0] * c[0] - sin * s[1] * c[1] + (n[0] - 1) / 2,
    sin * s[0] * c[0] + cos * s[1] * c[1] + (n[1] - 1) / 2,
    s[2] * c[2] + (n[2] - 1) / 2,
  ];
}

interface Case {
  sample: VolumeSample;
  offset: number | null;
  rotate: [number, number, number];
  scale: [number, number, number];
}

describe("against MONAI's ShiftIntensity + Affine", () => {
  itOracle(
    'the same parameters give the same crop (image ≤ 1e-5, labels exactly away from half-voxel ties), and so does the torch runtime',
    async () => {
      const cases: Case[] = [
        // the reference's kind: about k only, within the ranges
        {
          sample: sample([6, 7, 9], 2, 3),
          offset: 0.07,
          rotate: [0, 0, 0.09],
          scale: [1.08, 0.93, 1.04],
        },
        {
          sample: sample([8, 8, 8], 1, 4),
          offset: -0.1,
          rotate: [0, 0, -0.1],
          scale: [0.9, 1.1, 0.95],
        },
        // far out: reflection several times over, and all three rotations
        {
          sample: sample([5, 6, 7], 1, 5),
          offset: null,
          rotate: [0.3, -0.2, 0.5],
          scale: [1.7, 0.6, 2.3],
        },
        // exact ties: scale 2 on 4 voxels reads at −1.5, 0.5, 2.5, 4.5 (exact in float32 and float64),
        // reflected to 0.5, 0.5, 2.5, 2.5: every label lies halfway between two voxels
        { sample: sample([4, 4, 4], 1, 6), offset: null, rotate: [0, 0, 0], scale: [2, 2, 2] },
      ];
      const dir = mkdtempSync(path.join(tmpdir(), 'mam-aug3d-'));
      const file = path.join(dir, 'cases.json');
      writeFileSync(
        file,
        JSON.stringify({
          cases: cases.map((c) => ({
            shape: c.sample.shape,
            channels: c.sample.channels,
            image: Array.from(c.sample.image),
            label: Array.from(c.sample.label),
            offset: c.offset,
            rotate: c.rotate,
            scale: c.scale,
          })),
          draws: 4000,
        }),
      );
      const r = await runWithTorch(venvPython, [
        path.join(repoRoot, 'test', 'python', 'monai_augment_oracle.py'),
        file,
      ]);
      expect(r.stderr).toBe('');
      const out = JSON.parse(r.stdout) as {
        monai: { image: number[]; label: number[] }[];
        torch: { image: number[]; label: number[] }[];
        draws: { shifted: number; offset: number[]; rotate: number[][]; scale: number[][] };
      };
      let excluded = 0;
      cases.forEach((c, k) => {
        const draws: VolumeAugmentDraw[] = [
          ...(c.offset === null ? [] : [{ kind: 'shift-intensity' as const, offset: c.offset }]),
          { kind: 'affine', rotate: c.rotate, scale: c.scale },
        ];
        const ours = applyVolumeAugmentation(c.sample, draws);
        for (const ref of [out.monai[k], out.torch[k]]) {
          expect(ref.image.length).toBe(ours.image.length);
          let worst = 0;
          ours.image.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ref.image[i]))));
          expect(worst).toBeLessThanOrEqual(1e-5);
        }
        expect(out.torch[k].label).toEqual(out.monai[k].label);
        const [D, H, W] = c.sample.shape;
        const about = c.rotate[0] === 0 && c.rotate[1] === 0;
        for (let z = 0, o = 0; z < D; z++)
          for (let y = 0; y < H; y++)
            for (let x = 0; x < W; x++, o++) {
              const tie =
                about &&
                k < 3 &&
                nearTie(sourceAboutK([x, y, z], c.sample.shape, c.rotate[2], c.scale), 1e-4);
              if (tie) excluded++;
              else expect([k, o, ours.label[o]]).toEqual([k, o, out.monai[k].label[o]]);
            }
      });
      // the random parameters put no voxel near a tie; the exact ties (case 3) go to the even voxel as grid_sample's
      expect(excluded).toBe(0);
      // the torch runtime's sampler (numpy RandomStates 0..3999) follows the same laws
      expectReferenceLaws({ draws: 4000, ...out.draws });
    },
    120_000,
  );
});
