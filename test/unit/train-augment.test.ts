/** The paper's augmentation: rot90/flip and nearest rotation as numpy/scipy do them, seeded draws, resize. */
import { describe, expect, it } from 'vitest';
import { rng } from '../../src/compile/init.ts';
import {
  applyAugmentation,
  augmentSample,
  drawAugmentation,
  resizeSample,
  type Augmentation,
  type Sample2D,
} from '../../src/train/augment.ts';
import { itOracle, runOracle } from './data-oracle.ts';

function sample(h: number, w: number, channels = 1): Sample2D {
  const image = Float32Array.from({ length: h * w * channels }, (_, i) => i + 1);
  const label = Uint8Array.from({ length: h * w }, (_, i) => (i * 7) % 5);
  return { image, label, height: h, width: w, channels };
}

describe('augmentation geometry', () => {
  it('rot90 k=1 then flip: hand-checked on a 2×3 image', () => {
    // m = [[1,2,3],[4,5,6]]; rot90 → [[3,6],[2,5],[1,4]]; flip axis 0 → [[1,4],[2,5],[3,6]]
    const s = sample(2, 3);
    const r = applyAugmentation(s, { kind: 'rot-flip', k: 1, axis: 0 });
    expect([r.height, r.width]).toEqual([3, 2]);
    expect(Array.from(r.image)).toEqual([1, 4, 2, 5, 3, 6]);
    const r2 = applyAugmentation(s, { kind: 'rot-flip', k: 1, axis: 1 });
    expect(Array.from(r2.image)).toEqual([6, 3, 5, 2, 4, 1]);
  });

  it('moves every channel and the label together', () => {
    const s = sample(4, 4, 2);
    for (const a of [
      { kind: 'rot-flip', k: 3, axis: 1 },
      { kind: 'rotate', angle: 13 },
    ] as Augmentation[]) {
      const r = applyAugmentation(s, a);
      for (let i = 0; i < 16; i++) {
        const v = r.image[i * 2];
        if (v === 0) continue; // outside after rotation
        expect(r.image[i * 2 + 1]).toBe(v + 1);
        expect(r.label[i]).toBe(s.label[(v - 1) / 2]);
      }
    }
  });

  itOracle('equals numpy rot90/flip and scipy.ndimage.rotate(order=0, reshape=False)', () => {
    const h = 9;
    const w = 7;
    const s = sample(h, w);
    const ops: Augmentation[] = [];
    for (let k = 0; k < 4; k++)
      for (const axis of [0, 1] as const) ops.push({ kind: 'rot-flip', k, axis });
    for (let angle = -20; angle < 20; angle += 3) ops.push({ kind: 'rotate', angle });
    const spec = {
      h,
      w,
      data: Array.from(s.image),
      ops: ops.map((o) =>
        o.kind === 'rot-flip'
          ? ['rot-flip', o.k, o.axis]
          : ['rotate', (o as { angle: number }).angle],
      ),
    };
    const want = JSON.parse(runOracle('train_augment_oracle.py', [JSON.stringify(spec)])) as {
      h: number;
      w: number;
      data: number[];
    }[];
    ops.forEach((o, i) => {
      const r = applyAugmentation(s, o);
      expect([r.height, r.width], JSON.stringify(o)).toEqual([want[i].h, want[i].w]);
      expect(Array.from(r.image), JSON.stringify(o)).toEqual(want[i].data);
    });
  });
});

describe('seeded draws', () => {
  it('follow the reference probabilities and repeat with the seed', () => {
    const r = rng(42);
    const counts = { none: 0, 'rot-flip': 0, rotate: 0 };
    const angles = new Set<number>();
    for (let i = 0; i < 4000; i++) {
      const a = drawAugmentation(r);
      counts[a.kind]++;
      if (a.kind === 'rotate') angles.add(a.angle);
    }
    expect(counts['rot-flip'] / 4000).toBeCloseTo(0.5, 1);
    expect(counts.rotate / 4000).toBeCloseTo(0.25, 1);
    expect(Math.min(...angles)).toBe(-20);
    expect(Math.max(...angles)).toBe(19);
    const s = sample(8, 8);
    const a = augmentSample(s, rng(7), 12, 12);
    const b = augmentSample(s, rng(7), 12, 12);
    expect(Array.from(a.image)).toEqual(Array.from(b.image));
    expect([a.height, a.width]).toEqual([12, 12]);
  });

  it('resizes labels nearest (only existing values) and leaves matching sizes alone', () => {
    const s = sample(8, 8);
    expect(resizeSample(s, 8, 8)).toBe(s);
    const r = resizeSample(s, 13, 11);
    const allowed = new Set(s.label);
    for (const v of r.label) expect(allowed.has(v)).toBe(true);
    expect(r.image.length).toBe(13 * 11);
  });
});
