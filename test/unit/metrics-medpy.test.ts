import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { writeNpy } from '../../src/data/npy.ts';
import { ellipsoidMask, seededRandom } from '../../src/data/phantom.ts';
import { diceCoefficient, hd95Pooled, hd95Symmetric } from '../../src/train/metrics.ts';
import { describeOracle, runOracle, withTempDir } from './data-oracle.ts';

/** A random blobby mask: the union of a few random ellipsoids plus scattered voxels. */
function randomMask(shape: number[], rand: () => number): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const m = new Uint8Array(n);
  const blobs = 1 + Math.floor(rand() * 4);
  for (let b = 0; b < blobs; b++) {
    const e = ellipsoidMask(shape, {
      center: shape.map((s) => rand() * s),
      radii: shape.map((s) => 1 + rand() * s * 0.3),
    });
    for (let i = 0; i < n; i++) m[i] |= e[i];
  }
  for (let i = 0; i < n; i++) if (rand() < 0.01) m[i] = 1;
  return m;
}

describeOracle('metrics vs medpy (dc, hd95) and the MONAI-style HD95', () => {
  it('random 2D and 3D masks, unit and anisotropic spacing: |error| ≤ 1e-6', () => {
    const rand = seededRandom(2024);
    const shapes = [
      [40, 50],
      [64, 64],
      [33, 17],
      [128, 96],
      [20, 30, 25],
      [12, 40, 33],
      [7, 64, 64],
      [30, 30, 30],
    ];
    const cases: { i: number; shape: number[]; spacing: number[] }[] = [];
    const masks: [Uint8Array, Uint8Array][] = [];
    for (let r = 0; r < 3; r++) {
      for (const shape of shapes) {
        const i = cases.length;
        cases.push({ i, shape, spacing: shape.map(() => 0.5 + rand() * 2.5) });
        masks.push([randomMask(shape, rand), randomMask(shape, rand)]);
      }
    }
    withTempDir((dir) => {
      cases.forEach((c) => {
        writeFileSync(path.join(dir, `a${c.i}.npy`), writeNpy(masks[c.i][0], c.shape));
        writeFileSync(path.join(dir, `b${c.i}.npy`), writeNpy(masks[c.i][1], c.shape));
      });
      writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(cases));
      const out = JSON.parse(runOracle('metrics_medpy_oracle.py', [dir])) as {
        medpy: boolean;
        results: {
          i: number;
          dice: number;
          hd95_unit?: number;
          hd95_spacing?: number;
          hd95_monai?: number;
        }[];
      };
      if (!out.medpy)
        console.warn(
          '[note] medpy not importable: the oracle follows its definition with scipy.ndimage',
        );
      let maxErr = 0;
      for (const r of out.results) {
        const c = cases[r.i];
        const [a, b] = masks[r.i];
        const got = {
          dice: diceCoefficient(a, b),
          hd95_unit: hd95Pooled(a, b, c.shape),
          hd95_spacing: hd95Pooled(a, b, c.shape, c.spacing),
          hd95_monai: hd95Symmetric(a, b, c.shape, c.spacing),
        };
        for (const k of ['dice', 'hd95_unit', 'hd95_spacing', 'hd95_monai'] as const) {
          const want = r[k];
          expect(want, `${k} case ${r.i}`).toBeDefined();
          const err = Math.abs(got[k] - (want as number));
          maxErr = Math.max(maxErr, err);
          expect(
            err,
            `${k} case ${r.i} (${c.shape.join('×')}): ours ${got[k]}, oracle ${want}`,
          ).toBeLessThanOrEqual(1e-6);
        }
      }
      console.info(
        `metrics vs ${out.medpy ? 'medpy' : 'scipy (medpy definition)'}: ${out.results.length} mask pairs, max |error| ${maxErr.toExponential(2)}`,
      );
    });
  });
});
