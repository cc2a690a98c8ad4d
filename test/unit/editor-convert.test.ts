// Whole-network SAM ↔ MAM conversion with ISTS / STS wiring (src/graph/convert.ts), against the presets and MAM-SPEC.md section 3.
import { describe, expect, it } from 'vitest';
import { applyCommand, type Command } from '../../src/graph/commands.ts';
import {
  convertToMam,
  convertToSam,
  findStages,
  type ConvertOptions,
  type ConvertScope,
} from '../../src/graph/convert.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { presets } from '../../src/graph/presets.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { catalogue } from '../../nodes/index.ts';

const P = presets(catalogue);
const toMam = (doc: GraphDoc, o: ConvertOptions) => {
  const r = convertToMam(doc, o, catalogue);
  if ('error' in r) throw new Error(r.error);
  return r.commands.reduce(applyCommand, doc);
};
const toSam = (doc: GraphDoc, scope: ConvertScope) => {
  const r = convertToSam(doc, scope, catalogue);
  if ('error' in r) throw new Error(r.error);
  return (r.commands as Command[]).reduce(applyCommand, doc);
};
const counts = (doc: GraphDoc) => {
  const a = analyzeGraph(doc, catalogue);
  expect(a.issues.filter((i) => i.severity === 'error')).toEqual([]);
  return { params: a.params, linearConv: a.macs.linearConv, attention: a.macs.attention };
};
const chains = (doc: GraphDoc) =>
  analyzeGraph(doc, catalogue).chains.map((c) => ({
    strategy: c.strategy,
    scope: c.scope,
    layout: c.layout,
    units: c.units,
    resamplers: c.resamplers,
  }));
/** Nodes by id (resampler positions are free) and links as a set: the wiring, not the file order. */
const wiring = (doc: GraphDoc) => ({
  nodes: Object.fromEntries(
    doc.nodes.map((n) => [
      n.id,
      {
        type: n.type,
        params: n.params,
        ...(n.type.startsWith('memory-') ? {} : { position: n.position }),
      },
    ]),
  ),
  links: doc.links.map((l) => `${l.from.node}.${l.from.port}>${l.to.node}.${l.to.port}`).sort(),
});

const blocks = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, j) => `${prefix}.blocks.${j}`);
const ENC = [
  blocks('layers.0', 2),
  blocks('layers.1', 2),
  blocks('layers.2', 6),
  blocks('layers.3', 2),
];
const DEC = [blocks('layers_up.1', 6), blocks('layers_up.2', 2), blocks('layers_up.3', 2)];
const ists = (scope: 'encoder' | 'decoder', units: string[]) => ({
  strategy: 'ISTS',
  scope,
  layout: 'window',
  units,
  resamplers: [],
});

describe('findStages', () => {
  it('Swin-Unet 2-2-6-2: four encoder and three decoder stages in token order', () => {
    const s = findStages(P['swin-unet'], catalogue);
    expect(s.map((x) => [x.scope, x.index, x.grid.join('×'), x.channels, x.units])).toEqual([
      ['encoder', 0, '56×56', 96, ENC[0]],
      ['encoder', 1, '28×28', 192, ENC[1]],
      ['encoder', 2, '14×14', 384, ENC[2]],
      ['encoder', 3, '7×7', 768, ENC[3]],
      ['decoder', 0, '14×14', 384, DEC[0]],
      ['decoder', 1, '28×28', 192, DEC[1]],
      ['decoder', 2, '56×56', 96, DEC[2]],
    ]);
  });
});

describe('convertToMam on presets swin-unet', () => {
  it('encoder ISTS = Model 5-3: a chain per encoder stage, 41,380,836 params, the preset wiring', () => {
    const doc = toMam(P['swin-unet'], { scope: 'encoder', strategy: 'ISTS', layout: 'window' });
    expect(chains(doc)).toEqual(ENC.map((u) => ists('encoder', u)));
    expect(counts(doc)).toEqual({
      params: 41_380_836,
      linearConv: 8_670_412_800,
      attention: 272_907_264,
    });
    expect(wiring(doc)).toEqual(wiring(P['swin-unet-mam-ists']));
  });

  it('encoder STS = Model 5-1: one chain, 3 conv merges, 42,930,468 params, 8,843,821,056 MACs', () => {
    const r = convertToMam(
      P['swin-unet'],
      { scope: 'encoder', strategy: 'STS', layout: 'window' },
      catalogue,
    );
    expect(r).toHaveProperty(
      'note',
      expect.stringContaining('one STS chain through 12 units with 3 memory resampling nodes'),
    );
    const doc = toMam(P['swin-unet'], { scope: 'encoder', strategy: 'STS', layout: 'window' });
    expect(chains(doc)).toEqual([
      {
        strategy: 'STS',
        scope: 'encoder',
        layout: 'window',
        units: ENC.flat(),
        resamplers: ['memory_merging.0', 'memory_merging.1', 'memory_merging.2'],
      },
    ]);
    expect(counts(doc)).toEqual({
      params: 42_930_468,
      linearConv: 8_843_821_056,
      attention: 272_907_264,
    });
    expect(wiring(doc)).toEqual(wiring(P['swin-unet-mam-sts']));
    // Each merge sits between the stage rows it joins.
    const pos = (id: string) => doc.nodes.find((n) => n.id === id)!.position;
    expect(pos('memory_merging.0')[1]).toBeGreaterThan(pos('layers.0.blocks.1')[1]);
    expect(pos('memory_merging.0')[1]).toBeLessThan(pos('layers.1.blocks.0')[1]);
  });

  it('network STS = Model 5-2: 44,480,100 params, 9,017,229,312 MACs', () => {
    const doc = toMam(P['swin-unet'], { scope: 'network', strategy: 'STS', layout: 'window' });
    expect(chains(doc)).toEqual([
      {
        strategy: 'STS',
        scope: 'both',
        layout: 'window',
        units: [...ENC.flat(), ...DEC.flat()],
        resamplers: [
          'memory_merging.0',
          'memory_merging.1',
          'memory_merging.2',
          'memory_expanding.1',
          'memory_expanding.2',
          'memory_expanding.3',
        ],
      },
    ]);
    expect(counts(doc)).toEqual({
      params: 44_480_100,
      linearConv: 9_017_229_312,
      attention: 272_907_264,
    });
    expect(wiring(doc)).toEqual(wiring(P['swin-unet-mam-sts-encdec']));
  });

  it('encoder ISTS then decoder ISTS (or network ISTS) = Model 5-4', () => {
    const want = [...ENC.map((u) => ists('encoder', u)), ...DEC.map((u) => ists('decoder', u))];
    const twoSteps = toMam(
      toMam(P['swin-unet'], { scope: 'encoder', strategy: 'ISTS', layout: 'window' }),
      { scope: 'decoder', strategy: 'ISTS', layout: 'window' },
    );
    expect(chains(twoSteps)).toEqual(want);
    expect(wiring(twoSteps)).toEqual(wiring(P['swin-unet-mam-ists-encdec']));
    expect(
      chains(toMam(P['swin-unet'], { scope: 'network', strategy: 'ISTS', layout: 'window' })),
    ).toEqual(want);
  });

  it('avg merging: LN(C) + 1×1 conv C→2C per crossing, counted by hand', () => {
    const doc = toMam(P['swin-unet'], {
      scope: 'encoder',
      strategy: 'STS',
      layout: 'window',
      mergeMode: 'avg',
    });
    // C = 96, 192, 384: 2C + 2C·C each → 18,624 + 74,112 + 295,680 = 388,416.
    expect(counts(doc).params).toBe(41_380_836 + 388_416);
    expect(doc.nodes.filter((n) => n.type === 'memory-merging').map((n) => n.params.mode)).toEqual([
      'avg',
      'avg',
      'avg',
    ]);
  });

  it('spatial layout is set on every unit of the chain', () => {
    const doc = toMam(P['swin-unet'], { scope: 'encoder', strategy: 'ISTS', layout: 'spatial' });
    expect(analyzeGraph(doc, catalogue).chains.map((c) => c.layout)).toEqual([
      'spatial',
      'spatial',
      'spatial',
      'spatial',
    ]);
    const r = convertToMam(
      doc,
      { scope: 'encoder', strategy: 'ISTS', layout: 'window' },
      catalogue,
    );
    expect(chains(toMam(doc, { scope: 'encoder', strategy: 'ISTS', layout: 'window' }))).toEqual(
      ENC.map((u) => ists('encoder', u)),
    );
    expect(r).toHaveProperty('note', expect.stringContaining('Converted 0 blocks'));
  });

  it('one stage only', () => {
    const doc = toMam(P['swin-unet'], {
      scope: { stageOf: 'layers.2.blocks.3' },
      strategy: 'ISTS',
      layout: 'window',
    });
    expect(chains(doc)).toEqual([ists('encoder', ENC[2])]);
    expect(doc.nodes.filter((n) => n.type === 'mam-swin-block').map((n) => n.id)).toEqual(ENC[2]);
  });

  it('new resampler ids avoid ids already taken', () => {
    const base = applyCommand(P['swin-unet'], {
      type: 'add-nodes',
      nodes: [{ id: 'memory_merging.0', type: 'layer-norm', params: {}, position: [0, 900] }],
    });
    const doc = toMam(base, { scope: 'encoder', strategy: 'STS', layout: 'window' });
    expect(analyzeGraph(doc, catalogue).chains[0].resamplers).toEqual([
      'memory_merging.0_2',
      'memory_merging.1',
      'memory_merging.2',
    ]);
    expect(new Set(doc.nodes.map((n) => n.id)).size).toBe(doc.nodes.length);
  });

  it('refuses a scope without blocks, in words', () => {
    expect(
      convertToMam(
        P['swin-unet'],
        {
          scope: { stageOf: 'norm' },
          strategy: 'ISTS',
          layout: 'window',
        },
        catalogue,
      ),
    ).toHaveProperty('error', expect.stringContaining('not an attention block'));
    expect(
      convertToMam(
        P['vit-unet-mam-sts'],
        { scope: 'decoder', strategy: 'STS', layout: 'window' },
        catalogue,
      ),
    ).toHaveProperty('error', expect.stringContaining('decoder has no attention blocks'));
  });
});

describe('replacing existing wiring and convertToSam', () => {
  it('encoder ISTS over Model 5-2 keeps the decoder chain and drops memory_expanding.1 (hand count)', () => {
    const doc = toMam(P['swin-unet-mam-sts-encdec'], {
      scope: 'encoder',
      strategy: 'ISTS',
      layout: 'window',
    });
    expect(chains(doc)).toEqual([
      ...ENC.map((u) => ists('encoder', u)),
      {
        strategy: 'STS',
        scope: 'decoder',
        layout: 'window',
        units: DEC.flat(),
        resamplers: ['memory_expanding.2', 'memory_expanding.3'],
      },
    ]);
    // Left: expanding 14²×384 → (Linear 384→768, LN 192) and 28²×192 → (Linear 192→384, LN 96).
    expect(counts(doc).params).toBe(41_380_836 + (384 * 768 + 2 * 192) + (192 * 384 + 2 * 96));
    expect(
      doc.nodes.some((n) => n.id.startsWith('memory_merging') || n.id === 'memory_expanding.1'),
    ).toBe(false);
    // 8 encoder links inside stages + 3 merges × 2 + expanding.1 × 2 = 16 replaced.
    const r = convertToMam(
      P['swin-unet-mam-sts-encdec'],
      {
        scope: 'encoder',
        strategy: 'ISTS',
        layout: 'window',
      },
      catalogue,
    );
    expect(r).toHaveProperty(
      'note',
      expect.stringContaining(
        '(16 links, resampling nodes memory_merging.0, memory_merging.1, memory_merging.2, memory_expanding.1)',
      ),
    );
  });

  it('network STS over Model 5-4 gives Model 5-2', () => {
    const doc = toMam(P['swin-unet-mam-ists-encdec'], {
      scope: 'network',
      strategy: 'STS',
      layout: 'window',
    });
    expect(counts(doc)).toEqual({
      params: 44_480_100,
      linearConv: 9_017_229_312,
      attention: 272_907_264,
    });
    expect(wiring(doc)).toEqual(wiring(P['swin-unet-mam-sts-encdec']));
  });

  it('convertToSam of Model 5-2 gives back the SAM baseline', () => {
    const r = convertToSam(P['swin-unet-mam-sts-encdec'], 'network', catalogue);
    expect(r).toHaveProperty(
      'note',
      expect.stringContaining('Converted 22 units to self-attention; removed 27 memory links'),
    );
    const doc = toSam(P['swin-unet-mam-sts-encdec'], 'network');
    expect(wiring(doc)).toEqual(wiring(P['swin-unet']));
    expect(counts(doc)).toEqual({
      params: 41_380_836,
      linearConv: 8_670_412_800,
      attention: 272_907_264,
    });
  });

  it('convertToSam of the decoder of Model 5-2 = Model 5-1', () => {
    const doc = toSam(P['swin-unet-mam-sts-encdec'], 'decoder');
    expect(wiring(doc)).toEqual(wiring(P['swin-unet-mam-sts']));
  });

  it('ViT: SAM and back to network STS restores the preset chain of 8 without resamplers', () => {
    const sam = toSam(P['vit-unet-mam-sts'], 'network');
    expect(analyzeGraph(sam, catalogue).chains).toEqual([]);
    const back = toMam(sam, { scope: 'network', strategy: 'STS', layout: 'window' });
    expect(wiring(back)).toEqual(wiring(P['vit-unet-mam-sts']));
  });
});
