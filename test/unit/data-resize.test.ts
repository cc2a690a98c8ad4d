// The resize rules: 'pad' keeps the aspect (original pixels centred, zeros around), 'stretch' is the reference zoom.
import { describe, expect, it } from 'vitest';
import { fitPlane, resizePlan, unfitPlane } from '../../src/data/prepare.ts';
import { zoomArray } from '../../src/data/zoom.ts';

describe('resize rules', () => {
  it('pad: a 2×4 slice into 4×4 sits in rows 1–2, zeros above and below (written out by hand)', () => {
    const src = [1, 2, 3, 4, 5, 6, 7, 8];
    const p = resizePlan([2, 4], [4, 4], 'pad');
    expect(p.scaled).toEqual([2, 4]);
    expect(p.offset).toEqual([1, 0]);
    // prettier-ignore
    expect(Array.from(fitPlane(src, p, 3))).toEqual([
      0, 0, 0, 0,
      1, 2, 3, 4,
      5, 6, 7, 8,
      0, 0, 0, 0,
    ]);
  });

  it('pad: a 64×32 image padded to 64×64 keeps its pixels in columns 16–47 and zeros outside', () => {
    const src = Float32Array.from({ length: 64 * 32 }, (_, i) => 1 + (i % 97));
    const p = resizePlan([64, 32], [64, 64], 'pad');
    const out = fitPlane(src, p, 3);
    expect(out).toHaveLength(64 * 64);
    for (let r = 0; r < 64; r++)
      for (let c = 0; c < 64; c++)
        expect(out[r * 64 + c]).toBe(c >= 16 && c < 48 ? src[r * 32 + (c - 16)] : 0);
    // and back: the inverse crops the middle out again, exactly
    expect(Array.from(unfitPlane(out, p, 0))).toEqual(Array.from(src));
  });

  it('pad scales by one factor: 168×206 into 128×128 becomes 104×128 (168·128/206 = 104.4), centred', () => {
    const p = resizePlan([168, 206], [128, 128], 'pad');
    expect(p.scaled).toEqual([104, 128]);
    expect(p.offset).toEqual([12, 0]);
  });

  it('stretch is the plain zoom to the input size', () => {
    const src = Float32Array.from({ length: 6 * 10 }, (_, i) => Math.sin(i));
    const p = resizePlan([6, 10], [8, 8], 'stretch');
    expect(Array.from(fitPlane(src, p, 3))).toEqual(
      Array.from(Float32Array.from(zoomArray(src, [6, 10], [8, 8], 3))),
    );
  });
});
