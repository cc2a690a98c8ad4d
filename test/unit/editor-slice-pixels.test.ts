// The slice view's pixels: window/level over [0, 1] intensities and the label
// overlay's opacity, checked against the formulas written out in float64.
import { describe, expect, it } from 'vitest';
import { CLASS_COLORS, overlayPixels } from '../../editor/slice-pixels.ts';

const hex = (s: string) => [1, 3, 5].map((i) => parseInt(s.slice(i, i + 2), 16));

describe('slice pixels', () => {
  it('maps level − width/2 … level + width/2 to black … white and blends labels by opacity', () => {
    // 2×2, row-major from the volume's first row; rows are drawn flipped (first row at the bottom).
    const image = new Float32Array([0.35, 0.05, 0.95, 0.25]);
    const labels = new Uint8Array([0, 2, 0, 1]);
    const display = { window: 0.2, level: 0.3, opacity: 0.4 };
    const px = overlayPixels(image, labels, 2, 2, display);
    const grey = (v: number) => Math.min(1, Math.max(0, (v - 0.2) / 0.2)) * 255;
    const expectPixel = (x: number, y: number, src: number) => {
      const o = (y * 2 + x) * 4;
      const g = grey(image[src]);
      const c = labels[src];
      const col = c ? hex(CLASS_COLORS[c]) : [0, 0, 0];
      const a = c ? 0.4 : 0;
      for (let k = 0; k < 3; k++) expect(px[o + k]).toBeCloseTo(g * (1 - a) + col[k] * a, -0.3);
      expect(px[o + 3]).toBe(255);
    };
    expectPixel(0, 1, 0); // 0.35 → 0.75 of the window: 191.25
    expectPixel(1, 1, 1); // 0.05 below the window: black, under label 2
    expectPixel(0, 0, 2); // 0.95 above it: white
    expectPixel(1, 0, 3); // 0.25 → 63.75, under label 1
    expect(px[0]).toBe(255); // the white pixel (drawn top left), exactly
    // Opacity 0 shows the grey alone.
    const bare = overlayPixels(image, labels, 2, 2, { ...display, opacity: 0 });
    expect([bare[12], bare[13], bare[14]]).toEqual([0, 0, 0]); // under label 2, below the window
  });
});
