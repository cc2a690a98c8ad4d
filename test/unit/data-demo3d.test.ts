/**
 * The embedded 3D demo (data/demo3d, scripts/make-demo3d-data.py): small, loads whole
 * volumes with the 2D demo's classes, and its files pass a nibabel check made apart
 * from the script (shapes, affines, classes per split, one grid for the three
 * synthetic subjects; where the mricron-data source is installed, each case rebuilt
 * from ch2 + AAL by the deformation dataset.json records, in the check's own code).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_SPLITS, loadDemo } from '../../src/data/demo.ts';
import { demo3dDataDir, demoDataDir, nodeFileSource } from '../../src/data/node-fs.ts';
import { itOracle, runOracle } from './data-oracle.ts';

const TEMPLATES = '/usr/share/mricron/templates';
/** mm: a 64³ crop spans 160 mm, most of a brain (the atlas spans 146 × 180 × 146 mm). */
const SPACING = 2.5;

describe('embedded 3D demo data (data/demo3d)', () => {
  it('is small (< 2 MB)', () => {
    const dir = demo3dDataDir();
    const total = readdirSync(dir).reduce((s, f) => s + statSync(path.join(dir, f)).size, 0);
    expect(total).toBeLessThan(2 * 1024 * 1024);
  });

  it('loads whole volumes with the 2D demo’s classes, the note, and the classes each split holds', async () => {
    const [r3, r2] = await Promise.all([
      loadDemo(nodeFileSource(demo3dDataDir())),
      loadDemo(nodeFileSource(demoDataDir())),
    ]);
    if (!r3.ok) throw new Error(r3.message);
    if (!r2.ok) throw new Error(r2.message);
    const demo = r3.value;
    expect(demo.note).toBe('single-subject demo, not a benchmark');
    expect(demo.classNames).toEqual(r2.value.classNames);
    for (const split of DEMO_SPLITS) {
      const c = demo.splits[split];
      const info = demo.meta.splits[split];
      expect(c.channels[0].dims).toEqual(info.shape);
      expect(c.label!.dims).toEqual(info.shape);
      expect(c.channels[0].spacing).toEqual([SPACING, SPACING, SPACING]);
      // a whole brain: a 64³ crop covers most of it, and the test brain takes more than one window
      expect(Math.max(...c.channels[0].dims)).toBeGreaterThan(64);
      expect(Math.max(...c.channels[0].dims)).toBeLessThan(2 * 64);
      const names = [...new Set<number>(c.label!.data)]
        .filter((v) => v > 0)
        .sort((a, b) => a - b)
        .map((v) => demo.classNames[v]);
      expect(names).toEqual(info.classes_present);
    }
    // each split is a whole brain: every class in each
    for (const split of DEMO_SPLITS)
      expect(demo.meta.splits[split].classes_present).toHaveLength(7);
  });

  itOracle(
    'passes the nibabel check (and matches ch2 + AAL where mricron-data is installed)',
    () => {
      const withSource = existsSync(path.join(TEMPLATES, 'ch2.nii.gz'));
      if (!withSource)
        console.warn(
          `[partial] data-demo3d: ${TEMPLATES} not found (Debian package mricron-data): the voxels are not checked against the source`,
        );
      const out = JSON.parse(
        runOracle('demo3d_check.py', [demo3dDataDir(), ...(withSource ? [TEMPLATES] : [])]),
      ) as {
        problems: string[];
        checked_against_source: boolean;
        splits: Record<string, { affine: number[][]; label_mismatches?: number }>;
      };
      expect(out.problems).toEqual([]);
      expect(out.checked_against_source).toBe(withSource);
      for (const split of DEMO_SPLITS) {
        // the grid: SPACING mm, RAS
        expect(out.splits[split].affine.map((row, i) => row[i])).toEqual([
          SPACING,
          SPACING,
          SPACING,
          1,
        ]);
        if (withSource) expect(out.splits[split].label_mismatches).toBe(0);
      }
    },
  );
});
