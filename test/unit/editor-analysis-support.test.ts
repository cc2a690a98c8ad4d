// The Maps and Ablation views refuse a graph whose input is a volume (they
// run on 2D demo slices), with the reason naming the input; 2D graphs run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analysisRefusal } from '../../editor/analysis-support.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { repoRoot } from './data-oracle.ts';

const preset = (name: string) =>
  JSON.parse(readFileSync(join(repoRoot, 'presets', `${name}.json`), 'utf8')) as GraphDoc;

describe('Maps and Ablation on 2D and 3D graphs', () => {
  it('refuses the 3D presets by their input volume, and serves the 2D ones', () => {
    // The FLARE presets take 96³ (3D-MAM-SPEC.md: the input patch is 1×1×96×96×96), the demos 64³.
    for (const [name, side] of [
      ['swinunetr-mam-demo', 64],
      ['nnformer-mam-demo', 64],
      ['swinunetr', 96],
      ['nnformer-mam', 96],
    ] as const) {
      const doc = preset(name);
      const tail = `: this graph's input (input) is a ${side}×${side}×${side} volume, and the view runs on the 2D demo slices`;
      expect(analysisRefusal(doc, 'maps')).toBe(`Maps are 2D-only for now${tail}`);
      expect(analysisRefusal(doc, 'ablation')).toBe(`Ablation is 2D-only for now${tail}`);
    }
    for (const name of ['demo-mam', 'swin-unet-mam-ists', 'da-transunet-mam-demo']) {
      const doc = preset(name);
      expect(analysisRefusal(doc, 'maps')).toBeUndefined();
      expect(analysisRefusal(doc, 'ablation')).toBeUndefined();
    }
    expect(analysisRefusal(undefined, 'maps')).toBeUndefined();
  });
});
