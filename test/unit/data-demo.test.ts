import { readFileSync, statSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_SPLITS, loadDemo, loadDemoFromUrl } from '../../src/data/demo.ts';
import { demoDataDir, nodeFileSource } from '../../src/data/node-fs.ts';
import { sliceVolume } from '../../src/data/slices.ts';

describe('embedded demo data (data/demo)', () => {
  it('is small (< 3 MB)', () => {
    const dir = demoDataDir();
    const total = readdirSync(dir).reduce((s, f) => s + statSync(path.join(dir, f)).size, 0);
    expect(total).toBeLessThan(3 * 1024 * 1024);
  });

  it('loads in Node: 128×128 slices, 8 classes, the note, and the classes dataset.json says each split holds', async () => {
    const r = await loadDemo(nodeFileSource(demoDataDir()));
    if (!r.ok) throw new Error(r.message);
    const demo = r.value;
    expect(demo.note).toBe('single-subject demo, not a benchmark');
    expect(demo.classNames).toEqual([
      'background',
      'frontal',
      'limbic',
      'occipital',
      'parietal',
      'deep grey',
      'temporal',
      'cerebellum',
    ]);
    expect(demo.meta.source.license).toBe('BSD-3-Clause');
    for (const split of DEMO_SPLITS) {
      const c = demo.splits[split];
      const info = demo.meta.splits[split];
      expect(c.channels[0].dims).toEqual([128, 128, info.slices]);
      expect(c.label!.dims).toEqual([128, 128, info.slices]);
      const present = new Set<number>(c.label!.data);
      const names = [...present]
        .filter((v) => v > 0)
        .sort((a, b) => a - b)
        .map((v) => demo.classNames[v]);
      expect(names).toEqual(info.classes_present);
      // every kept slice holds brain, and the image is a uint8 MRI
      for (let k = 0; k < info.slices; k++) {
        const s = sliceVolume(c.label!, 2, k);
        expect(s.data.some((v) => v > 0)).toBe(true);
      }
      expect(c.channels[0].datatype).toBe('uint8');
      expect(Math.max(...c.channels[0].data.subarray(0, 128 * 128 * 3))).toBeGreaterThan(50);
    }
    expect(demo.meta.splits.train.classes_present).toHaveLength(7);
  });

  it('loads through fetch from a URL (browser / worker path)', async () => {
    const dir = demoDataDir();
    const fakeFetch = (async (url: string) => {
      const name = String(url).replace('https://example.test/demo/', '');
      try {
        const b = readFileSync(path.join(dir, name));
        return new Response(b);
      } catch {
        return new Response('missing', { status: 404 });
      }
    }) as typeof fetch;
    const r = await loadDemoFromUrl('https://example.test/demo', fakeFetch);
    if (!r.ok) throw new Error(r.message);
    expect(r.value.splits.val.channels[0].dims[0]).toBe(128);
    const bad = await loadDemoFromUrl('https://example.test/nothing', fakeFetch);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.message).toMatch(/dataset\.json answered HTTP 404/);
  });
});
