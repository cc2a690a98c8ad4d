// Counts of the DA-TransUNet presets against DA-TRANSUNET-MAM-SPEC.md §b, §e and §k.
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

// §k: what runs (no never-executed heads, no conv6/conv7 side branches).
const SPEC_K = { params: 106_438_039, linearConv: 29_182_641_408, attention: 913_421_152 };

/** Sum of params / MACs of the nodes whose id starts with `prefix`. */
function sumOf(a: Analysis, prefix: string) {
  let params = 0;
  let linearConv = 0;
  let attention = 0;
  for (const [id, n] of a.nodes) {
    if (id !== prefix && !id.startsWith(`${prefix}.`)) continue;
    params += n.params;
    linearConv += n.macs.linearConv;
    attention += n.macs.attention;
  }
  return { params, linearConv, attention };
}

/** A DA head's conv6/conv7 side branches: 2·(c·C + C) params, 2·N·c·C MACs (§c.4). */
const side = (C: number, N: number) => ({
  params: 2 * (C / 16) * C + 2 * C,
  macs: 2 * N * (C / 16) * C,
});

describe('DA-TransUNet presets count exactly DA-TRANSUNET-MAM-SPEC.md §k', () => {
  for (const name of ['da-transunet', 'da-transunet-mam']) {
    it(`${name}: totals, input and output`, () => {
      const a = analyze(name);
      expect(a.issues.filter((i) => i.severity === 'error')).toEqual([]);
      expect({ params: a.params, ...a.macs }).toEqual(SPEC_K);
      expect(a.inputs).toEqual([{ node: 'input', shape: [1, 224, 224, 3] }]);
      expect(a.outputs).toEqual([{ node: 'segmentation', shape: [1, 224, 224, 9] }]);
    });
  }

  it('per block and per module as §b and §e list them', () => {
    const a = analyze('da-transunet-mam');
    const H = 'transformer.embeddings.hybrid_model';
    const node = (id: string) => {
      const n = a.nodes.get(id);
      if (!n) throw new Error(`no node ${id}`);
      return { params: n.params, macs: n.macs.linearConv };
    };
    expect(node(`${H}.root`)).toEqual({ params: 9_536, macs: 118_013_952 });
    expect(node(`${H}.body.block1.unit1`)).toEqual({ params: 75_008, macs: 223_027_200 });
    expect(node(`${H}.body.block1.unit2`)).toEqual({ params: 70_400, macs: 210_636_800 });
    expect(node(`${H}.body.block2.unit1`)).toEqual({ params: 379_392, macs: 368_869_376 });
    expect(node(`${H}.body.block2.unit4`)).toEqual({ params: 280_064, macs: 218_365_952 });
    expect(node(`${H}.body.block3.unit1`)).toEqual({ params: 1_512_448, macs: 372_506_624 });
    expect(node(`${H}.body.block3.unit9`)).toEqual({ params: 1_117_184, macs: 218_365_952 });
    expect(sumOf(a, H)).toEqual({ params: 11_894_848, linearConv: 3_905_716_224, attention: 0 });
    expect(node('transformer.embeddings.patch_embeddings')).toEqual({
      params: 787_200,
      macs: 154_140_672,
    });
    expect(node('transformer.embeddings').params).toBe(150_528);
    // DA heads: §b's numbers less their side branches.
    const da = (id: string, C: number, N: number, params: number, macs: number, att: number) => {
      const s = side(C, N);
      expect(node(id)).toEqual({ params: params - s.params, macs: macs - s.macs });
      expect(a.nodes.get(id)!.macs.attention).toBe(att);
    };
    da('transformer.embeddings.DAblock1', 768, 196, 821_246, 160_425_216, 2_977_632);
    da('decoder.blocks.0.da3', 512, 784, 365_610, 285_200_384, 23_733_248);
    da('decoder.blocks.1.da2', 256, 3136, 91_862, 285_200_384, 178_626_560);
    for (let l = 0; l < 12; l++) {
      const n = a.nodes.get(`transformer.encoder.layer.${l}`)!;
      expect([n.params, n.macs.linearConv, n.macs.attention]).toEqual([
        7_087_872, 1_387_266_048, 59_006_976,
      ]);
    }
    expect(node('transformer.encoder.encoder_norm').params).toBe(1_536);
    expect(node('decoder.conv_more')).toEqual({ params: 3_539_968, macs: 693_633_024 });
    const cup = (i: number) => node(`decoder.blocks.${i}`);
    expect(cup(0)).toEqual({ params: 2_359_808 + 590_336, macs: 1_849_688_064 + 462_422_016 });
    expect(cup(1)).toEqual({ params: 590_080 + 147_712, macs: 1_849_688_064 + 462_422_016 });
    expect(cup(2)).toEqual({ params: 110_720 + 36_992, macs: 1_387_266_048 + 462_422_016 });
    expect(cup(3)).toEqual({ params: 9_248 + 2_336, macs: 462_422_016 + 115_605_504 });
    expect(node('segmentation_head.0')).toEqual({ params: 1_305, macs: 65_028_096 });
  });

  it('SAM and MAM declare the same weights (names, shapes) and MAM chains all 12 blocks (STS)', () => {
    const keys = (a: Analysis) =>
      [...a.nodes.values()].flatMap((n) => n.weights.map((w) => `${n.id}.${w.name}:${w.shape}`));
    const sam = analyze('da-transunet');
    const mam = analyze('da-transunet-mam');
    expect(keys(mam)).toEqual(keys(sam));
    expect(sam.chains).toEqual([]);
    expect(mam.chains.map((c) => [c.strategy, c.units.length])).toEqual([['STS', 12]]);
    // the reference names: e.g. a ViT layer, a decoder BN's running statistics, a PAM conv
    const all = keys(mam);
    for (const k of [
      'transformer.encoder.layer.11.attn.query.weight:768,768',
      'transformer.encoder.layer.0.ffn.fc1.weight:3072,768',
      'transformer.embeddings.position_embeddings:1,196,768',
      'decoder.blocks.0.conv1.1.running_var:256',
      'decoder.blocks.0.da3.sa.query_conv.weight:4,32,1,1',
      'transformer.embeddings.hybrid_model.body.block2.unit1.gn_proj.weight:512',
      'segmentation_head.0.weight:9,16,3,3',
    ])
      expect(all).toContain(k);
  });

  it('the demo variant: 128×128×1 in, 8 classes out, one STS chain through its 4 ViT blocks, no errors', () => {
    const a = analyze('da-transunet-mam-demo');
    expect(a.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(a.inputs).toEqual([{ node: 'input', shape: [1, 128, 128, 1] }]);
    expect(a.outputs).toEqual([{ node: 'segmentation', shape: [1, 128, 128, 8] }]);
    expect(a.chains.map((c) => [c.strategy, c.units.length])).toEqual([['STS', 4]]);
    // the 1/4 skip (31×31 after the unpadded pool) is padded to 32 as at 224 (55 → 56)
    const pad = a.nodes.get('transformer.embeddings.hybrid_model.body.block1.pad')!;
    expect(pad.outputs.out).toMatchObject({ kind: 'image', spatial: [32, 32] });
  });

  it('mam inspect --json gives the same integers', () => {
    const out = execFileSync(
      'node',
      ['bin/mam.js', 'inspect', 'presets/da-transunet-mam.json', '--json'],
      {
        encoding: 'utf8',
      },
    );
    const j = JSON.parse(out);
    expect(j.params).toBe(SPEC_K.params);
    expect(j.macs).toEqual({ linearConv: SPEC_K.linearConv, attention: SPEC_K.attention });
    expect(j.memoryChains[0]).toMatchObject({ strategy: 'STS' });
    expect(j.errors).toEqual([]);
  });
});
