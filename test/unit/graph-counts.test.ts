// Parameter and MAC counts, and memory chains, of the presets against MAM-SPEC.md section 3.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { catalogue } from '../../nodes/index.ts';

const load = (name: string) => {
  const r = loadGraph(readFileSync(`presets/${name}.json`, 'utf8'), catalogue);
  if (!r.ok) throw new Error(r.issues.map((i) => i.message).join('\n'));
  return r.graph;
};

// The table of MAM-SPEC.md section 3 (224×224×3, 9 classes, embed 96, heads 3-6-12-24, window 7).
const SPEC = {
  'swin-unet': { params: 41_380_836, linearConv: 8_670_412_800, attention: 272_907_264 },
  'swin-unet-mam-ists': { params: 41_380_836, linearConv: 8_670_412_800, attention: 272_907_264 },
  'swin-unet-mam-ists-encdec': {
    params: 41_380_836,
    linearConv: 8_670_412_800,
    attention: 272_907_264,
  },
  'swin-unet-mam-sts': { params: 42_930_468, linearConv: 8_843_821_056, attention: 272_907_264 },
  'swin-unet-mam-sts-encdec': {
    params: 44_480_100,
    linearConv: 9_017_229_312,
    attention: 272_907_264,
  },
  'swin-unet-lite': { params: 27_168_900, linearConv: 5_895_880_704, attention: 213_900_288 },
};

describe('preset counts equal MAM-SPEC.md exactly', () => {
  for (const [name, want] of Object.entries(SPEC)) {
    it(name, () => {
      const a = analyzeGraph(load(name), catalogue);
      expect(a.issues.filter((i) => i.severity === 'error')).toEqual([]);
      expect({ params: a.params, ...a.macs }).toEqual(want);
      expect(a.inputs).toEqual([{ node: 'input', shape: [1, 224, 224, 3] }]);
      expect(a.outputs).toEqual([{ node: 'segmentation', shape: [1, 224, 224, 9] }]);
    });
  }

  it('the ViT preset counts by hand: patch 16, 8 global blocks of 384, 6 heads', () => {
    const a = analyzeGraph(load('vit-unet-mam-sts'), catalogue);
    const C = 384;
    const L = 14 * 14;
    const block = 12 * C * C + 13 * C; // qkv, proj, fc1, fc2 weights and biases, two LayerNorms
    const params =
      C * 3 * 16 * 16 +
      C + // patch embed conv, no norm
      L * C + // position table
      8 * block +
      (2 * C * C + C) + // layers_up.0: Linear 384→768, LN 192
      (2 * 192 * 192 + 192) + // layers_up.1: Linear 192→384, LN 96
      (16 * 96 * 96 + 2 * 96) + // final ×4
      96 * 9; // head
    expect(a.params).toBe(params);
    expect(a.macs.attention).toBe(8 * 2 * L * L * C);
    expect(a.macs.linearConv).toBe(
      L * C * 768 +
        8 * 12 * L * C * C +
        L * 2 * C * C +
        28 * 28 * 2 * 192 * 192 +
        56 * 56 * 16 * 96 * 96 +
        224 * 224 * 96 * 9,
    );
  });
});

describe('memory chains carry the strategy their preset names', () => {
  const chains = (name: string) =>
    analyzeGraph(load(name), catalogue).chains.map((c) => ({
      s: c.strategy,
      scope: c.scope,
      layout: c.layout,
      n: c.units.length,
      r: c.resamplers.length,
    }));

  it('5-1: one STS chain through the 12 encoder units with 3 merges', () => {
    expect(chains('swin-unet-mam-sts')).toEqual([
      { s: 'STS', scope: 'encoder', layout: 'window', n: 12, r: 3 },
    ]);
  });
  it('5-2: one STS chain through encoder and decoder with 3 merges and 3 expansions', () => {
    expect(chains('swin-unet-mam-sts-encdec')).toEqual([
      { s: 'STS', scope: 'both', layout: 'window', n: 22, r: 6 },
    ]);
  });
  it('5-3: an ISTS chain per encoder stage', () => {
    expect(chains('swin-unet-mam-ists')).toEqual(
      [2, 2, 6, 2].map((n) => ({ s: 'ISTS', scope: 'encoder', layout: 'window', n, r: 0 })),
    );
  });
  it('5-4: an ISTS chain per encoder and per decoder stage', () => {
    expect(chains('swin-unet-mam-ists-encdec')).toEqual([
      ...[2, 2, 6, 2].map((n) => ({ s: 'ISTS', scope: 'encoder', layout: 'window', n, r: 0 })),
      ...[6, 2, 2].map((n) => ({ s: 'ISTS', scope: 'decoder', layout: 'window', n, r: 0 })),
    ]);
  });
  it('ViT: one STS chain through all 8 blocks', () => {
    const a = analyzeGraph(load('vit-unet-mam-sts'), catalogue);
    expect(a.chains).toHaveLength(1);
    expect(a.chains[0]).toMatchObject({
      strategy: 'STS',
      scope: 'encoder',
      units: Array.from({ length: 8 }, (_, i) => `blocks.${i}`),
    });
  });
  it('SAM presets have no chains', () => {
    expect(chains('swin-unet')).toEqual([]);
    expect(chains('swin-unet-lite')).toEqual([]);
  });
  it('demo: 128×128×1 in, 8 classes out, ISTS chains in the encoder', () => {
    const a = analyzeGraph(load('demo-mam'), catalogue);
    expect(a.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(a.inputs[0].shape).toEqual([1, 128, 128, 1]);
    expect(a.outputs[0].shape).toEqual([1, 128, 128, 8]);
    expect(a.chains.map((c) => [c.strategy, c.scope, c.units.length])).toEqual([
      ['ISTS', 'encoder', 2],
      ['ISTS', 'encoder', 2],
      ['ISTS', 'encoder', 2],
    ]);
  });
});

describe('mam inspect', () => {
  const run = (args: string[]) => {
    try {
      return {
        code: 0,
        out: execFileSync('node', ['bin/mam.js', 'inspect', ...args], { encoding: 'utf8' }),
      };
    } catch (e) {
      const err = e as { status: number; stdout: string };
      return { code: err.status, out: err.stdout };
    }
  };
  it('--json gives the spec integers and exit 0', () => {
    const r = run(['presets/swin-unet-mam-sts-encdec.json', '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.params).toBe(44_480_100);
    expect(j.macs).toEqual({ linearConv: 9_017_229_312, attention: 272_907_264 });
    expect(j.memoryChains[0]).toMatchObject({ strategy: 'STS', scope: 'both', layout: 'window' });
    expect(j.inputs).toEqual([{ node: 'input', shape: [1, 224, 224, 3] }]);
    expect(j.errors).toEqual([]);
  });
  it('exit 1 for a graph with errors, 2 for an unreadable file', () => {
    expect(run(['test/fixtures/broken-skip.json', '--json']).code).toBe(1);
    expect(run(['no/such/file.json']).code).toBe(2);
    expect(run(['package.json']).code).toBe(2);
  });
  it('plain output is a table with totals and chains', () => {
    const r = run(['presets/swin-unet-mam-ists.json']);
    expect(r.out).toMatch(/node\s+type\s+output\s+params\s+MACs/);
    expect(r.out).toContain('params:  41,380,836');
    expect(r.out).toContain('ISTS encoder, window layout, 6 units');
  });
});
