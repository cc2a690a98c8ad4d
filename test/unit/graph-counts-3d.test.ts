// Counts of the 3D presets against 3D-MAM-SPEC.md §b, §e and §k.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { analyzeGraph, type Analysis } from '../../src/graph/infer.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { catalogue } from '../../nodes/index.ts';

const analyze = (name: string): Analysis => {
  const r = loadGraph(readFileSync(`presets/${name}.json`, 'utf8'), catalogue);
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('\n'));
  return analyzeGraph(r.graph, catalogue);
};

const SPEC_K = {
  swinunetr: { params: 62_186_855, linearConv: 306_708_793_344, attention: 11_433_733_440 },
  nnformer: { params: 149_265_629, linearConv: 172_427_968_512, attention: 3_979_653_120 },
};

/** Params of the nodes whose id is `prefix` or starts with `prefix.`. */
const paramsOf = (a: Analysis, prefix: string) =>
  [...a.nodes].reduce(
    (s, [id, n]) => s + (id === prefix || id.startsWith(`${prefix}.`) ? n.params : 0),
    0,
  );

/** §b rows: params, weight MACs and attention MACs in millions (one decimal). */
function row(a: Analysis, id: string) {
  const n = a.nodes.get(id);
  if (!n) throw new Error(`no node ${id}`);
  return {
    params: n.params,
    macs: Number((n.macs.linearConv / 1e6).toFixed(1)),
    attn: Number((n.macs.attention / 1e6).toFixed(1)),
  };
}

describe('3D presets count exactly 3D-MAM-SPEC.md §k', () => {
  for (const family of ['swinunetr', 'nnformer'] as const)
    for (const name of [family, `${family}-mam`]) {
      it(`${name}: totals, input and output`, () => {
        const a = analyze(name);
        expect(a.issues.filter((i) => i.severity === 'error')).toEqual([]);
        expect({ params: a.params, ...a.macs }).toEqual(SPEC_K[family]);
        expect(a.inputs).toEqual([{ node: 'input', shape: [1, 96, 96, 96, 1] }]);
        expect(a.outputs).toEqual([{ node: 'segmentation', shape: [1, 96, 96, 96, 5] }]);
      });
    }

  it('SwinUNETR rows and top-level split as §b.1 and §e.1 list them', () => {
    const a = analyze('swinunetr-mam');
    expect(row(a, 'swinViT.patch_embed')).toEqual({ params: 432, macs: 42.5, attn: 0 });
    expect(row(a, 'swinViT.layers1.0.blocks.1')).toEqual({
      params: 34_863,
      macs: 3122.7,
      attn: 3873.9,
    });
    expect(row(a, 'swinViT.layers2.0.blocks.0')).toEqual({
      params: 125_022,
      macs: 1828.5,
      attn: 1445.7,
    });
    expect(row(a, 'swinViT.layers3.0.blocks.1')).toEqual({
      params: 471_228,
      macs: 914.2,
      attn: 361.4,
    });
    expect(row(a, 'swinViT.layers4.0.blocks.1')).toEqual({
      params: 1_827_192,
      macs: 382.2,
      attn: 35.8,
    });
    expect(row(a, 'swinViT.layers1.0.downsample')).toEqual({
      params: 37_632,
      macs: 509.6,
      attn: 0,
    });
    expect(row(a, 'swinViT.layers4.0.downsample')).toEqual({
      params: 2_365_440,
      macs: 63.7,
      attn: 0,
    });
    expect(row(a, 'encoder1')).toEqual({ params: 63_552, macs: 56_226.7, attn: 0 });
    expect(row(a, 'encoder10')).toEqual({ params: 31_850_496, macs: 860.0, attn: 0 });
    // decoderK = transp_conv + conv_block rows
    // 96³ voxels × (48·48 up-conv + 191,232 conv_block weights, one MAC each per voxel)
    expect(a.nodes.get('decoder1')!.params).toBe(18_432 + 191_232);
    expect(a.nodes.get('decoder1')!.macs.linearConv).toBe(96 ** 3 * (48 * 48 + 191_232));
    expect(row(a, 'out.conv.conv')).toEqual({ params: 245, macs: 212.3, attn: 0 });
    const split = {
      swinViT: 8_062_002,
      encoder1: 63_552,
      encoder2: 124_416,
      encoder3: 497_664,
      encoder4: 1_990_656,
      encoder10: 31_850_496,
      decoder5: 14_598_144,
      decoder4: 3_649_536,
      decoder3: 912_384,
      decoder2: 228_096,
      decoder1: 209_664,
      out: 245,
    };
    for (const [k, v] of Object.entries(split)) expect(paramsOf(a, k), k).toBe(v);
  });

  it('nnFormer rows and top-level split as §b.2 and §e.1 list them', () => {
    const a = analyze('nnformer-mam');
    expect(row(a, 'model_down.patch_embed')).toEqual({
      params: 252_000 + 1_493_760 + 384,
      macs: 69_083.7,
      attn: 0,
    });
    expect(row(a, 'model_down.layers.0.blocks.1')).toEqual({
      params: 446_922,
      macs: 12_230.6,
      attn: 679.5,
    });
    expect(row(a, 'model_down.layers.0.downsample')).toEqual({
      params: 1_991_424,
      macs: 6_879.7,
      attn: 0,
    });
    expect(row(a, 'model_down.layers.2.blocks.0')).toEqual({
      params: 7_119_816,
      macs: 3057.6,
      attn: 143.3,
    });
    expect(row(a, 'model_down.layers.3.blocks.1')).toEqual({
      params: 28_337_520,
      macs: 1528.8,
      attn: 4.5,
    });
    expect(row(a, 'decoder.layers.2.Upsample')).toEqual({
      params: 9_441_024,
      macs: 509.6,
      attn: 0,
    });
    expect(row(a, 'decoder.layers.2.blocks.0')).toEqual({
      params: 6_529_224,
      macs: 2802.8,
      attn: 143.3,
    });
    expect(row(a, 'decoder.layers.1.blocks.0')).toEqual({
      params: 1_630_740,
      macs: 5605.7,
      attn: 169.9,
    });
    expect(row(a, 'decoder.layers.0.blocks.0')).toEqual({
      params: 409_866,
      macs: 11_211.4,
      attn: 679.5,
    });
    expect(row(a, 'final.0')).toEqual({ params: 30_725, macs: 849.3, attn: 0 });
    expect(paramsOf(a, 'model_down')).toBe(118_926_732);
    expect(paramsOf(a, 'decoder')).toBe(30_308_172);
  });

  it('MAM presets carry one memory chain per encoder stage (ISTS), SAM and MAM weights identical', () => {
    for (const [family, stages] of [
      [
        'swinunetr',
        ['swinViT.layers1.0', 'swinViT.layers2.0', 'swinViT.layers3.0', 'swinViT.layers4.0'],
      ],
      ['nnformer', [0, 1, 2, 3].map((i) => `model_down.layers.${i}`)],
    ] as const) {
      const doc = JSON.parse(readFileSync(`presets/${family}-mam.json`, 'utf8'));
      const memLinks = doc.links.filter(
        (l: { from: { port: string } }) => l.from.port === 'memOut',
      );
      expect(
        memLinks.map((l: { from: { node: string }; to: { node: string } }) => [
          l.from.node,
          l.to.node,
        ]),
      ).toEqual(stages.map((s) => [`${s}.blocks.0`, `${s}.blocks.1`]));
      const weights = (n: string) =>
        [...analyze(n).nodes].flatMap(([id, x]) =>
          x.weights.map((w) => `${id}.${w.name}:${w.shape.join('x')}`),
        );
      expect(weights(`${family}-mam`)).toEqual(weights(family));
    }
  });

  it('mam inspect --json reports the same counts and the four chains', () => {
    for (const family of ['swinunetr', 'nnformer'] as const) {
      const out = execFileSync(
        'node',
        ['bin/mam.js', 'inspect', `presets/${family}-mam.json`, '--json'],
        {
          encoding: 'utf8',
        },
      );
      const j = JSON.parse(out);
      expect({ params: j.params, ...j.macs }).toEqual(SPEC_K[family]);
      expect(j.memoryChains.map((c: { strategy: string }) => c.strategy)).toEqual([
        'ISTS',
        'ISTS',
        'ISTS',
        'ISTS',
      ]);
    }
  });
});
