// The part of the canvas an overlay leaves uncovered, and the fit into it (src/rete/viewport.ts),
// against values worked out by hand.
import { describe, expect, it } from 'vitest';
import { coveredInsets, fitTransform } from '../../src/rete/viewport.ts';

// The editor's canvas at a 1280×800 window, and the Train drawer (580 px wide) over its right part.
const canvas = { left: 220, top: 40, right: 980, bottom: 755 };
const drawer = { left: 700, top: 40, right: 1280, bottom: 755 };

describe('coveredInsets', () => {
  it('a drawer over the right edge covers from its left edge on', () => {
    expect(coveredInsets(canvas, [drawer])).toEqual({ top: 0, right: 280, bottom: 0, left: 0 });
  });

  it('overlays beside the canvas, or none, cover nothing; the widest on an edge counts', () => {
    const none = { top: 0, right: 0, bottom: 0, left: 0 };
    expect(coveredInsets(canvas, [])).toEqual(none);
    expect(coveredInsets(canvas, [{ left: 0, top: 40, right: 220, bottom: 755 }])).toEqual(none);
    const narrow = { ...drawer, left: 900 };
    expect(coveredInsets(canvas, [narrow, drawer]).right).toBe(280);
    const bar = { left: 220, top: 700, right: 980, bottom: 800 };
    expect(coveredInsets(canvas, [bar]).bottom).toBe(55);
  });
});

describe('fitTransform', () => {
  it('centres the box in the uncovered part at the largest zoom that fits 92% of it', () => {
    // A 1000×500 box at (100, 200) into a 760×715 view with 280 px covered on the right:
    // 480 px wide are left, so k = 0.92 · 480 / 1000 = 0.4416 (height allows 1.3156).
    const t = fitTransform(
      { left: 100, top: 200, width: 1000, height: 500 },
      { width: 760, height: 715 },
      { top: 0, right: 280, bottom: 0, left: 0 },
    );
    expect(t.k).toBeCloseTo(0.4416, 12);
    // The box's centre (600, 450) lands on the centre of the uncovered part (240, 357.5).
    expect(t.x + 600 * t.k).toBeCloseTo(240, 9);
    expect(t.y + 450 * t.k).toBeCloseTo(357.5, 9);
  });

  it('never zooms in past 1', () => {
    const t = fitTransform(
      { left: 0, top: 0, width: 100, height: 100 },
      { width: 760, height: 715 },
      { top: 0, right: 0, bottom: 0, left: 0 },
    );
    expect(t.k).toBe(1);
  });
});
