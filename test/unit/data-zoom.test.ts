import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNpy, writeNpy } from '../../src/data/npy.ts';
import { seededRandom } from '../../src/data/phantom.ts';
import { resizeImage, resizeLabels, zoomArray, zoomShape } from '../../src/data/zoom.ts';
import {
  interleaveChannels,
  percentileRange,
  repeatChannels,
  sliceVolume,
  volumeToSlices,
  windowIntensity,
  windowPercentile,
} from '../../src/data/slices.ts';
import { describeOracle, runOracle, withTempDir } from './data-oracle.ts';

describe('zoom basics', () => {
  it('samples corner-aligned coordinates: order 0 picks floor(o·(n−1)/(m−1) + 0.5)', () => {
    const a = [10, 11, 12, 13, 14];
    expect(Array.from(zoomArray(a, [5], [3], 0))).toEqual([10, 12, 14]);
    expect(Array.from(zoomArray(a, [5], [9], 0))).toEqual([10, 11, 11, 12, 12, 13, 13, 14, 14]);
  });
  it('order 3 reproduces constants and linear ramps, and hits the samples when n_out = n_in', () => {
    const r = zoomArray(new Array(12).fill(5), [3, 4], [7, 9], 3);
    r.forEach((x) => expect(x).toBeCloseTo(5, 12));
    const rand = seededRandom(3);
    const a = Array.from({ length: 30 }, () => rand());
    const same = zoomArray(a, [5, 6], [5, 6], 3);
    same.forEach((x, i) => expect(x).toBeCloseTo(a[i], 12));
  });
  it('zoomShape rounds like Python (halves to even)', () => {
    expect(zoomShape([5, 7, 3], [0.5, 0.5, 0.5])).toEqual([2, 4, 2]);
  });
  it('resizeLabels keeps label values', () => {
    const lab = { data: Uint8Array.from([0, 1, 2, 3, 4, 5]), height: 2, width: 3 };
    const r = resizeLabels(lab, 5, 7);
    expect(new Set(r.data)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
  });
});

describeOracle('zoom vs scipy.ndimage.zoom', () => {
  it('orders 3, 1 and 0, up and down, non-square, 2D and 3D: max error ≤ 1e-5', () => {
    const rand = seededRandom(11);
    const cases: { i: number; shape: number[]; out: number[]; order: 0 | 1 | 3 }[] = [];
    const specs: [number[], number[], 0 | 1 | 3][] = [
      [[17, 23], [40, 9], 3],
      [[31, 29], [128, 128], 3],
      [[64, 50], [13, 77], 3],
      [[224, 224], [512, 512], 3],
      [[512, 512], [224, 224], 3],
      [[5, 7, 9], [11, 4, 6], 3],
      [[2, 3], [7, 5], 3],
      [[1, 9], [3, 4], 3],
      [[17, 23], [40, 9], 0],
      [[64, 50], [13, 77], 0],
      [[224, 224], [512, 512], 0],
      [[6, 5, 4], [9, 3, 8], 0],
      [[12, 15], [25, 31], 1],
    ];
    specs.forEach(([shape, out, order], i) => cases.push({ i, shape, out, order }));
    withTempDir((dir) => {
      const inputs = cases.map((c) => {
        const n = c.shape.reduce((a, b) => a * b, 1);
        const data = Float64Array.from({ length: n }, () =>
          c.order === 0 ? Math.floor(rand() * 9) : rand() * 200 - 100,
        );
        writeFileSync(path.join(dir, `in${c.i}.npy`), writeNpy(data, c.shape));
        return data;
      });
      writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(cases));
      runOracle('data_zoom_oracle.py', [dir]);
      const report: string[] = [];
      for (const c of cases) {
        const r = parseNpy(new Uint8Array(readFileSync(path.join(dir, `out${c.i}.npy`))));
        if (!r.ok) throw new Error(r.message);
        const ours = zoomArray(inputs[c.i], c.shape, c.out, c.order);
        let err = 0;
        for (let k = 0; k < ours.length; k++)
          err = Math.max(err, Math.abs(ours[k] - r.value.data[k]));
        report.push(
          `${c.shape.join('×')}→${c.out.join('×')} order ${c.order}: ${err.toExponential(2)}`,
        );
        if (c.order === 0) expect(err, report.at(-1)).toBe(0);
        else expect(err, report.at(-1)).toBeLessThanOrEqual(1e-5);
      }
      console.info(`zoom vs scipy, max abs error:\n  ${report.join('\n  ')}`);
    });
  });
});

describe('slices, windowing, channels', () => {
  const dims = [4, 3, 2];
  const data = Float32Array.from({ length: 24 }, (_, i) => i);
  it('slices along each axis in the documented layout', () => {
    const z = sliceVolume({ data, dims }, 2, 1);
    expect([z.height, z.width]).toEqual([3, 4]);
    expect(Array.from(z.data)).toEqual(Array.from({ length: 12 }, (_, i) => 12 + i));
    const y = sliceVolume({ data, dims }, 1, 2);
    expect([y.height, y.width]).toEqual([2, 4]);
    expect(Array.from(y.data)).toEqual([8, 9, 10, 11, 20, 21, 22, 23]);
    const x = sliceVolume({ data, dims }, 0, 3);
    expect([x.height, x.width]).toEqual([2, 3]);
    expect(Array.from(x.data)).toEqual([3, 7, 11, 15, 19, 23]);
    expect(volumeToSlices({ data, dims }, 2)).toHaveLength(2);
    const lab = sliceVolume({ data: Uint8Array.from(data), dims }, 2, 0);
    expect(lab.data).toBeInstanceOf(Uint8Array);
  });
  it('CT window [-125, 275] → [0, 1], clipped', () => {
    const w = windowIntensity([-1000, -125, 75, 275, 3000], -125, 275);
    expect(Array.from(w)).toEqual([0, 0, 0.5, 1, 1]);
  });
  it('percentile window matches numpy linear percentiles', () => {
    const vals = Array.from({ length: 1001 }, (_, i) => i);
    const [lo, hi] = percentileRange(vals, 0.5, 99.5);
    expect(lo).toBeCloseTo(5, 12);
    expect(hi).toBeCloseTo(995, 12);
    const w = windowPercentile(vals);
    expect(w[0]).toBe(0);
    expect(w[500]).toBeCloseTo(0.5, 6);
    expect(w[1000]).toBe(1);
  });
  it('repeats one channel into three and interleaves channels', () => {
    expect(Array.from(repeatChannels([1, 2], 3))).toEqual([1, 1, 1, 2, 2, 2]);
    expect(
      Array.from(
        interleaveChannels([
          [1, 2],
          [3, 4],
        ]),
      ),
    ).toEqual([1, 3, 2, 4]);
    const r = resizeImage({ data: [0, 1, 2, 3], height: 2, width: 2 }, 3, 3, 3);
    expect(r.data).toBeInstanceOf(Float32Array);
  });
});

describe('prepareSlices / labelsToVolume', () => {
  it('windows, resizes (cubic image, nearest label), repeats channels, and maps back', async () => {
    const { prepareSlices, labelsToVolume } = await import('../../src/data/prepare.ts');
    const { makePhantom } = await import('../../src/data/phantom.ts');
    const p = makePhantom({ shape: [3, 20, 30], organs: 2, seed: 4 });
    const dims = [30, 20, 3];
    const c = {
      id: 'p',
      channels: [
        {
          data: Float32Array.from(p.image, (v) => v * 400 - 125),
          dims,
          spacing: [1, 1, 1],
          affine: [],
          datatype: 'float32' as const,
        },
      ],
      label: { data: p.label, dims, spacing: [1, 1, 1], affine: [] },
      files: [],
    };
    const s = prepareSlices(c, {
      size: [16, 24],
      window: { kind: 'range', lo: -125, hi: 275 },
      repeatTo: 3,
    });
    expect(s).toHaveLength(3);
    expect([s[0].height, s[0].width, s[0].channels]).toEqual([16, 24, 3]);
    expect(s[1].image[3 * 5]).toBe(s[1].image[3 * 5 + 2]);
    const expected = zoomArray(
      Float32Array.from(p.image.subarray(600, 1200), (v) =>
        Math.min(1, Math.max(0, (v * 400 - 125 + 125) / 400)),
      ),
      [20, 30],
      [16, 24],
      3,
    );
    for (let i = 0; i < 16 * 24; i++) expect(s[1].image[i * 3]).toBeCloseTo(expected[i], 5);
    const back = labelsToVolume(
      s.map((x) => ({ data: x.label!, height: 16, width: 24 })),
      dims,
    );
    expect(back.length).toBe(p.label.length);
    const same = prepareSlices(c, {});
    expect(
      Array.from(
        labelsToVolume(
          same.map((x) => ({ data: x.label!, height: 20, width: 30 })),
          dims,
        ),
      ),
    ).toEqual(Array.from(p.label));
  });
});
