// The volume viewer's pixel math on a 3×4×2 volume with anisotropic spacing (0.5, 1, 2.5 mm):
// which voxel lands at which pixel of each plane, the views' sizes in mm, the cross-hair, the
// voxel under a point and the wheel, each written out by hand.
import { describe, expect, it } from 'vitest';
import { CLASS_COLORS } from '../../editor/slice-pixels.ts';
import {
  crosshair,
  planePixels,
  pointAt,
  scrolled,
  unitRange,
  viewSizes,
  type Cursor,
  type VolumeData,
} from '../../editor/volume-pixels.ts';

// Voxel (i, j, k) holds its NIfTI index i + 3·(j + 4·k), scaled by 1/23 so 0 … 23 spans [0, 1].
const vol: VolumeData = {
  id: 'case',
  dims: [3, 4, 2],
  spacing: [0.5, 1, 2.5],
  image: Float32Array.from({ length: 24 }, (_, n) => n / 23),
  label: new Uint8Array(24),
};
vol.label![2 + 3 * (1 + 4 * 1)] = 3; // voxel (2, 1, 1) is class 3
const plain = { window: 1, level: 0.5, opacity: 0 };
const cursor: Cursor = [2, 1, 1];

/** The voxel index a pixel shows, read back from its grey (index / 23 · 255). */
function voxelAtPixel(p: { width: number; pixels: Uint8ClampedArray }, x: number, y: number) {
  return Math.round((p.pixels[(y * p.width + x) * 4] / 255) * 23);
}

describe('volume viewer pixels', () => {
  it('axial (k = 1): i across, j up', () => {
    const p = planePixels(vol, 'axial', cursor, plain);
    expect([p.width, p.height]).toEqual([3, 4]);
    expect(voxelAtPixel(p, 0, 0)).toBe(21); // top left: (0, 3, 1) = 0 + 3·(3 + 4)
    expect(voxelAtPixel(p, 2, 3)).toBe(14); // bottom right: (2, 0, 1) = 2 + 3·(0 + 4)
    expect(voxelAtPixel(p, 1, 1)).toBe(19); // (1, 2, 1) = 1 + 3·(2 + 4)
    expect(voxelAtPixel(p, 0, 3)).toBe(12); // (0, 0, 1)
  });

  it('coronal (j = 1): i across, k up', () => {
    const p = planePixels(vol, 'coronal', cursor, plain);
    expect([p.width, p.height]).toEqual([3, 2]);
    expect(voxelAtPixel(p, 0, 0)).toBe(15); // (0, 1, 1) = 0 + 3·(1 + 4)
    expect(voxelAtPixel(p, 2, 1)).toBe(5); // (2, 1, 0) = 2 + 3·1
    expect(voxelAtPixel(p, 1, 1)).toBe(4); // (1, 1, 0)
  });

  it('sagittal (i = 2): j across, k up', () => {
    const p = planePixels(vol, 'sagittal', cursor, plain);
    expect([p.width, p.height]).toEqual([4, 2]);
    expect(voxelAtPixel(p, 0, 0)).toBe(14); // (2, 0, 1) = 2 + 3·4
    expect(voxelAtPixel(p, 1, 0)).toBe(17); // (2, 1, 1) = 2 + 3·(1 + 4)
    expect(voxelAtPixel(p, 3, 1)).toBe(11); // (2, 3, 0) = 2 + 3·3
  });

  it('the labelled voxel is blended with its class colour where each plane shows it', () => {
    const shown = { window: 1, level: 0.5, opacity: 0.5 };
    const grey = (17 / 23) * 255;
    const [r, g, b] = [1, 3, 5].map((i) => parseInt(CLASS_COLORS[3].slice(i, i + 2), 16));
    const want = [r, g, b].map((c) => grey * 0.5 + c * 0.5);
    // (2, 1, 1): axial pixel (2, 4 − 1 − 1), coronal (2, 2 − 1 − 1), sagittal (1, 0).
    for (const [plane, x, y] of [
      ['axial', 2, 2],
      ['coronal', 2, 0],
      ['sagittal', 1, 0],
    ] as const) {
      const p = planePixels(vol, plane, cursor, shown);
      const o = (y * p.width + x) * 4;
      for (let c = 0; c < 3; c++) expect(p.pixels[o + c], plane).toBeCloseTo(want[c], -0.3);
    }
  });

  it('views are as wide and tall as their planes in mm, at one scale that fits the box', () => {
    // Planes in mm: axial 1.5 × 4, coronal 1.5 × 5, sagittal 4 × 5. A 200 px box fits 5 mm at
    // 40 px/mm (the tallest plane decides), and all three take that scale.
    expect(viewSizes(vol, { width: 200, height: 200 })).toEqual({
      axial: { width: 60, height: 160 },
      coronal: { width: 60, height: 200 },
      sagittal: { width: 160, height: 200 },
    });
  });

  it('the cross-hair sits on the cursor voxel’s centre in each view', () => {
    expect(crosshair(vol, 'axial', cursor)).toEqual({ x: 2.5 / 3, y: 1 - 1.5 / 4 });
    expect(crosshair(vol, 'coronal', cursor)).toEqual({ x: 2.5 / 3, y: 0.25 });
    expect(crosshair(vol, 'sagittal', cursor)).toEqual({ x: 1.5 / 4, y: 0.25 });
  });

  it('a point of a view moves the cursor to the voxel under it; the wheel moves along the normal', () => {
    // Axial, top left quarter pixel: i = 0, j = 3 (top row); k stays.
    expect(pointAt(vol, 'axial', cursor, 0.1, 0.1)).toEqual([0, 3, 1]);
    // Sagittal, bottom right: j = 3, k = 0; i stays.
    expect(pointAt(vol, 'sagittal', cursor, 0.99, 0.99)).toEqual([2, 3, 0]);
    // Outside the view: clamped to the edge voxel.
    expect(pointAt(vol, 'coronal', cursor, 1.5, -0.2)).toEqual([2, 1, 1]);
    expect(scrolled(vol, 'axial', cursor, -1)).toEqual([2, 1, 0]);
    expect(scrolled(vol, 'axial', cursor, 5)).toEqual([2, 1, 1]); // k has 2 slices
    expect(scrolled(vol, 'coronal', cursor, 2)).toEqual([2, 3, 1]);
    expect(scrolled(vol, 'sagittal', cursor, -3)).toEqual([0, 1, 1]);
  });

  it('scales intensities to [0, 1] by the volume’s range', () => {
    expect([...unitRange([-1000, 0, 1000, 3000])]).toEqual([0, 0.25, 0.5, 1]);
    expect([...unitRange([7, 7])]).toEqual([0, 0]);
  });
});
