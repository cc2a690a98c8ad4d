/**
 * graphDifference against differences written out by hand from the model
 * structure (MAM-SPEC: Swin-Unet depths 2-2-6-2; ISTS is one memory chain per
 * encoder stage, STS one chain through all four stages with Memory Merging
 * at the three crossings), and against small hand-built documents.
 */
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { graphDifference, hasDifference, linkWords } from '../../src/graph/graph-diff.ts';
import { presets } from '../../src/graph/presets.ts';

const all = presets(catalogue);
const DEPTHS = [2, 2, 6, 2];
/** layers.i.blocks.j of the encoder, in order. */
const encoderBlocks = DEPTHS.flatMap((d, i) =>
  Array.from({ length: d }, (_, j) => `layers.${i}.blocks.${j}`),
);
/** Memory links of one chain per stage: each block hands its memory to the next one of its stage. */
const istsLinks = DEPTHS.flatMap((d, i) =>
  Array.from(
    { length: d - 1 },
    (_, j) => `layers.${i}.blocks.${j}.memOut → layers.${i}.blocks.${j + 1}.memIn`,
  ),
);

describe('graphDifference', () => {
  it('Swin-Unet → Swin-Unet MAM ISTS: the 12 encoder blocks change kind, 8 memory links are added, nothing else', () => {
    const d = graphDifference(all['swin-unet'], all['swin-unet-mam-ists'], catalogue);
    expect(d.retyped).toEqual(
      encoderBlocks.map((id) => ({ id, from: 'swin-block', to: 'mam-swin-block' })),
    );
    expect(d.memoryLinks.added.map(linkWords)).toEqual(istsLinks);
    expect(d.memoryLinks.removed).toEqual([]);
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([]);
    expect(d.links).toEqual({ added: [], removed: [] });
    // A MAM unit has one parameter a SAM block lacks: where its memory lives.
    expect(d.changed).toEqual(
      encoderBlocks.map((id) => ({
        id,
        params: [{ name: 'memoryLayout', from: undefined, to: 'window' }],
      })),
    );
  });

  it('ISTS → STS encoder: three Memory Merging nodes join the four chains into one', () => {
    const d = graphDifference(all['swin-unet-mam-ists'], all['swin-unet-mam-sts'], catalogue);
    expect(d.retyped).toEqual([]);
    expect(d.changed).toEqual([]);
    expect(d.added).toEqual(
      [0, 1, 2].map((i) => ({ id: `memory_merging.${i}`, type: 'memory-merging' })),
    );
    // Last block of stage i → merging i → first block of stage i+1.
    const lastOf = (i: number) => `layers.${i}.blocks.${DEPTHS[i] - 1}`;
    expect(d.memoryLinks.added.map(linkWords).sort()).toEqual(
      [0, 1, 2]
        .flatMap((i) => [
          `${lastOf(i)}.memOut → memory_merging.${i}.memIn`,
          `memory_merging.${i}.memOut → layers.${i + 1}.blocks.0.memIn`,
        ])
        .sort(),
    );
    expect(d.memoryLinks.removed).toEqual([]);
    expect(d.links).toEqual({ added: [], removed: [] });
  });

  it('a graph against itself differs in nothing; positions and labels do not count', () => {
    const a = all['demo-mam'];
    const b = structuredClone(a);
    b.nodes[0].position = [999, -5];
    b.nodes[1].label = 'renamed';
    const d = graphDifference(a, b, catalogue);
    expect(hasDifference(d)).toBe(false);
  });

  it('hand-built: a removed node, a new token link and a changed parameter, each named', () => {
    const build = (window: number, extra: boolean) => {
      const g = new GraphBuilder(catalogue, { title: 'x' });
      g.add('input', 'image-input', { channels: 1, height: 16, width: 16 });
      g.add('pe', 'patch-embed', { patchSize: 2, embedDim: 8 });
      g.link('input', 'pe');
      g.add('b0', 'swin-block', { heads: 2, window, shift: 0 });
      g.link('pe', 'b0');
      if (extra) {
        g.add('b1', 'swin-block', { heads: 2, window, shift: 2 });
        g.link('b0', 'b1');
      }
      return g.doc;
    };
    const d = graphDifference(build(4, true), build(8, false), catalogue);
    expect(d.removed).toEqual([{ id: 'b1', type: 'swin-block' }]);
    expect(d.added).toEqual([]);
    expect(d.changed).toEqual([{ id: 'b0', params: [{ name: 'window', from: 4, to: 8 }] }]);
    expect(d.links.removed.map(linkWords)).toEqual(['b0.out → b1.in']);
    expect(d.memoryLinks).toEqual({ added: [], removed: [] });
  });
});
