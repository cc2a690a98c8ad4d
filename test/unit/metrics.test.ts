import { describe, expect, it } from 'vitest';
import {
  ellipsoidMask,
  makePhantom,
  seededRandom,
  shiftedPrediction,
} from '../../src/data/phantom.ts';
import {
  diceCoefficient,
  evaluateVolume,
  hd95Pooled,
  hd95Symmetric,
  metricsToCsv,
  percentileLinear,
  scoreClass,
  summarizeMetrics,
  surfaceDistances,
} from '../../src/train/metrics.ts';
import { squaredDistanceTransform, surfaceOf } from '../../src/train/metrics-distance.ts';

function box(shape: number[], lo: number[], hi: number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Uint8Array(n);
  const c = new Array(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    if (c.every((x, k) => x >= lo[k] && x <= hi[k])) out[i] = 1;
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++c[k] < shape[k]) break;
      c[k] = 0;
    }
  }
  return out;
}

describe('percentile and EDT building blocks', () => {
  it('percentileLinear is numpy linear', () => {
    expect(percentileLinear([1, 2, 3, 4], 95)).toBeCloseTo(3.85, 12);
    expect(percentileLinear([5], 95)).toBe(5);
    expect(percentileLinear([0, 10], 50)).toBe(5);
  });
  it('EDT is exact against brute force, with anisotropic spacing', () => {
    const shape = [9, 11, 7];
    const spacing = [1.5, 0.7, 2.2];
    const rand = seededRandom(5);
    const f = Uint8Array.from({ length: 9 * 11 * 7 }, () => (rand() < 0.03 ? 1 : 0));
    const d2 = squaredDistanceTransform(f, shape, spacing);
    const pts: number[][] = [];
    for (let i = 0; i < f.length; i++)
      if (f[i]) pts.push([Math.floor(i / 77), Math.floor(i / 7) % 11, i % 7]);
    for (let i = 0; i < f.length; i++) {
      const p = [Math.floor(i / 77), Math.floor(i / 7) % 11, i % 7];
      let best = Infinity;
      for (const q of pts)
        best = Math.min(
          best,
          q.reduce((s, x, k) => s + ((x - p[k]) * spacing[k]) ** 2, 0),
        );
      expect(d2[i]).toBeCloseTo(best, 9);
    }
  });
  it('surface uses face connectivity and treats outside the array as background', () => {
    const sq = box([5, 5], [1, 1], [3, 3]);
    expect(Array.from(surfaceOf(sq, [5, 5])).reduce((a, b) => a + b, 0)).toBe(8); // centre is interior
    const full = new Uint8Array(9).fill(1);
    expect(Array.from(surfaceOf(full, [3, 3]))).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1]);
    const plus = box([3, 3, 3], [0, 0, 0], [2, 2, 2]);
    expect(surfaceOf(plus, [3, 3, 3])[13]).toBe(0);
  });
});

describe('analytic phantoms', () => {
  it('boxes offset by 5 of 20: Dice 0.75 exactly', () => {
    const shape = [40, 40];
    const a = box(shape, [10, 10], [29, 29]);
    const b = box(shape, [10, 15], [29, 34]);
    expect(diceCoefficient(a, b)).toBe(0.75);
    const c = box([30, 30, 30], [5, 5, 5], [14, 14, 14]);
    const d = box([30, 30, 30], [5, 5, 7], [14, 14, 16]);
    expect(diceCoefficient(c, d)).toBeCloseTo(0.8, 15);
  });
  it('offset discs and spheres match the continuous lens-overlap Dice', () => {
    const r = 40;
    const dd = 20;
    const disc = (cx: number) => ellipsoidMask([128, 128], { center: [64, cx], radii: [r, r] });
    const lens = 2 * r * r * Math.acos(dd / (2 * r)) - (dd / 2) * Math.sqrt(4 * r * r - dd * dd);
    expect(diceCoefficient(disc(54), disc(74))).toBeCloseTo(lens / (Math.PI * r * r), 2);
    const R = 14;
    const D = 7;
    const sph = (cz: number) =>
      ellipsoidMask([48, 48, 48], { center: [cz, 24, 24], radii: [R, R, R] });
    const lensV = (Math.PI * (4 * R + D) * (2 * R - D) ** 2) / 12;
    expect(
      Math.abs(diceCoefficient(sph(20), sph(27)) - lensV / ((4 / 3) * Math.PI * R ** 3)),
    ).toBeLessThan(0.01);
  });
  it('HD95 of shapes at a known distance', () => {
    // single voxels 3 and 4 apart: every distance is 5
    const a = box([10, 10], [1, 1], [1, 1]);
    const b = box([10, 10], [4, 5], [4, 5]);
    expect(hd95Pooled(a, b, [10, 10])).toBe(5);
    // two one-voxel-thick parallel planes 7 apart: every distance is 7 (14 mm at 2 mm spacing)
    const p = box([12, 9, 9], [2, 0, 0], [2, 8, 8]);
    const q = box([12, 9, 9], [9, 0, 0], [9, 8, 8]);
    const pq = p.map((v, i) => v | q[i]);
    expect(hd95Pooled(p, q, [12, 9, 9])).toBe(7);
    expect(hd95Symmetric(p, q, [12, 9, 9], [2, 1, 1])).toBe(14);
    expect(hd95Pooled(pq, pq, [12, 9, 9])).toBe(0);
    // a thick box inside a bigger one: the inner surface is 5 from the outer (both directions differ)
    const outer = box([31, 31], [0, 0], [30, 30]);
    const inner = box([31, 31], [5, 5], [25, 25]);
    const { aToB } = surfaceDistances(inner, outer, [31, 31]);
    expect(Math.min(...aToB)).toBe(5);
    expect(Math.max(...aToB)).toBe(5);
  });
});

describe('empty-mask rules', () => {
  const shape = [6, 6];
  const some = box(shape, [1, 1], [2, 3]);
  const other = box(shape, [3, 2], [4, 4]);
  const none = new Uint8Array(36);
  it('synapse: both→dc/hd95, pred only→(1, 0), gt only→(0, 0), both empty→(0, 0)', () => {
    expect(scoreClass(some, other, shape, 'synapse')).toMatchObject({ rule: 'both', dice: 0 });
    expect(scoreClass(some, none, shape, 'synapse')).toMatchObject({
      rule: 'predOnly',
      dice: 1,
      hd95: 0,
    });
    expect(scoreClass(none, some, shape, 'synapse')).toMatchObject({
      rule: 'gtOnly',
      dice: 0,
      hd95: 0,
    });
    expect(scoreClass(none, none, shape, 'synapse')).toMatchObject({
      rule: 'bothEmpty',
      dice: 0,
      hd95: 0,
    });
  });
  it('monai: G empty → Dice NaN; exactly one empty → HD95 inf; both empty → NaN', () => {
    expect(scoreClass(some, none, shape, 'monai')).toMatchObject({
      rule: 'predOnly',
      dice: NaN,
      hd95: Infinity,
    });
    expect(scoreClass(none, some, shape, 'monai')).toMatchObject({
      rule: 'gtOnly',
      dice: 0,
      hd95: Infinity,
    });
    expect(scoreClass(none, none, shape, 'monai')).toMatchObject({
      rule: 'bothEmpty',
      dice: NaN,
      hd95: NaN,
    });
  });
});

describe('volumes, summaries, CSV', () => {
  const names = ['background', 'liver', 'spleen', 'kidney'];
  const shape = [4, 5];
  // liver: both present; spleen: only in gt of case 1 (pred empty); kidney: empty in both
  const gt1 = Uint8Array.from([0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
  const pr1 = Uint8Array.from([0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const gt2 = Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const pr2 = Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
  it('synapse keeps zeros in means; results keyed by class name; rule counts', () => {
    const v1 = evaluateVolume(pr1, gt1, shape, names, { caseId: 'case1' });
    const v2 = evaluateVolume(pr2, gt2, shape, names, { caseId: 'case2' });
    expect(v1.convention).toBe('synapse');
    expect(Object.keys(v1.perClass)).toEqual(['liver', 'spleen', 'kidney']);
    expect(v1.perClass.liver.dice).toBeCloseTo(6 / 7, 12);
    const s = summarizeMetrics([v1, v2]);
    expect(s.convention).toBe('synapse');
    expect(s.perClass.liver.dice).toBeCloseTo((6 / 7 + 1) / 2, 12);
    expect(s.perClass.spleen.dice).toBe(0.5); // gtOnly → 0, predOnly → 1
    expect(s.perClass.spleen.rules).toEqual({ both: 0, predOnly: 1, gtOnly: 1, bothEmpty: 0 });
    expect(s.perClass.kidney).toMatchObject({
      dice: 0,
      hd95: 0,
      rules: { both: 0, predOnly: 0, gtOnly: 0, bothEmpty: 2 },
    });
    expect(s.meanDice).toBeCloseTo(((6 / 7 + 1) / 2 + 0.5 + 0) / 3, 12);
  });
  it('monai skips NaN in means, keeps inf, and uses spacing', () => {
    const v1 = evaluateVolume(pr1, gt1, shape, names, { convention: 'monai', spacing: [2, 1] });
    const v2 = evaluateVolume(pr2, gt2, shape, names, { convention: 'monai', spacing: [2, 1] });
    const s = summarizeMetrics([v1, v2]);
    expect(s.convention).toBe('monai');
    expect(s.hd95Unit).toBe('mm');
    expect(s.perClass.spleen).toMatchObject({ dice: 0, nDice: 1, hd95: Infinity, nHd95: 2 });
    expect(s.perClass.kidney).toMatchObject({ nDice: 0, nHd95: 0 });
    expect(Number.isNaN(s.perClass.kidney.dice)).toBe(true);
    expect(s.meanDice).toBeCloseTo(((6 / 7 + 1) / 2 + 0) / 2, 12);
  });
  it('refuses to mix conventions; CSV carries the convention on every row', () => {
    const a = evaluateVolume(pr1, gt1, shape, names, { caseId: 'a' });
    const b = evaluateVolume(pr1, gt1, shape, names, { convention: 'monai', caseId: 'b,1' });
    expect(() => summarizeMetrics([a, b])).toThrow(/different conventions/);
    const csv = metricsToCsv([b]).trim().split('\n');
    expect(csv[0]).toBe('convention,case,class,dice,hd95,hd95_unit,rule,pred_voxels,gt_voxels');
    expect(csv[2]).toBe('monai,"b,1",spleen,0,inf,mm,gtOnly,0,2');
    expect(csv[3]).toBe('monai,"b,1",kidney,NaN,NaN,mm,bothEmpty,0,0');
  });
});

describe('phantoms', () => {
  it('are seeded, and a shifted prediction gives the counted Dice per organ', () => {
    const p = makePhantom({ shape: [24, 48, 48], organs: 4, seed: 9 });
    const q = makePhantom({ shape: [24, 48, 48], organs: 4, seed: 9 });
    expect(p.label).toEqual(q.label);
    expect(p.classNames).toEqual(['background', 'organ1', 'organ2', 'organ3', 'organ4']);
    const same = evaluateVolume(p.label, p.label, p.shape, p.classNames);
    for (const s of Object.values(same.perClass))
      if (s.rule === 'both') expect([s.dice, s.hd95]).toEqual([1, 0]);
    const pred = shiftedPrediction(p, [0, 2, -1]);
    const v = evaluateVolume(pred, p.label, p.shape, p.classNames);
    p.classNames.slice(1).forEach((name, k) => {
      const P = pred.map((x) => (x === k + 1 ? 1 : 0));
      const G = p.label.map((x) => (x === k + 1 ? 1 : 0));
      let inter = 0;
      let np = 0;
      let ng = 0;
      for (let i = 0; i < P.length; i++) {
        inter += P[i] & G[i];
        np += P[i];
        ng += G[i];
      }
      if (np && ng) expect(v.perClass[name].dice).toBeCloseTo((2 * inter) / (np + ng), 12);
    });
    const m2 = makePhantom({ shape: [64, 64], organs: 3, seed: 2 });
    expect(m2.image.length).toBe(64 * 64);
  });
});
