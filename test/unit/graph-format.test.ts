// The file format: round trips, determinism, migrations, presets kept in sync with their generator.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catalogue, nodeKinds } from '../../nodes/index.ts';
import type { ParamSpec } from '../../src/graph/node-kind.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { presets } from '../../src/graph/presets.ts';
import { saveGraph } from '../../src/graph/save.ts';
import type { GraphDoc, ParamValue } from '../../src/graph/types.ts';

const text = fc.string({ minLength: 1, maxLength: 12 });

function paramArb(p: ParamSpec): fc.Arbitrary<ParamValue> {
  switch (p.type) {
    case 'int':
      return fc.integer({ min: p.min ?? 0, max: p.max ?? 1000 });
    case 'float':
      return fc
        .double({ min: p.min ?? 0, max: p.max ?? 1, noNaN: true, noDefaultInfinity: true })
        .map((x) => (Object.is(x, -0) ? 0 : x));
    case 'bool':
      return fc.boolean();
    case 'enum':
      return fc.constantFrom(...(p.options as string[]));
    case 'string':
      return fc.string();
    case 'string[]':
      return fc.array(fc.string(), { maxLength: 5 });
  }
}

const nodeArb = fc.constantFrom(...nodeKinds).chain((kind) =>
  fc.record(
    {
      type: fc.constant(kind.type),
      params: fc.record(Object.fromEntries(kind.params.map((p) => [p.name, paramArb(p)]))),
      position: fc
        .tuple(
          fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
          fc.integer(),
        )
        .map(([x, y]) => [Object.is(x, -0) ? 0 : x, y] as [number, number]),
      label: text,
    },
    { requiredKeys: ['type', 'params', 'position'] },
  ),
);

const docArb: fc.Arbitrary<GraphDoc> = fc
  .record({
    nodes: fc.array(nodeArb, { minLength: 1, maxLength: 12 }),
    metadata: fc.record(
      {
        title: fc.string(),
        description: fc.string(),
        createdWith: fc.string(),
        dataset: fc.string(),
        tags: fc.array(fc.string(), { maxLength: 3 }),
        training: fc.record(
          {
            epochs: fc.integer({ min: 1, max: 1000 }),
            batchSize: fc.integer({ min: 1, max: 64 }),
            learningRate: fc.double({ min: 1e-6, max: 1, noNaN: true }),
            optimizer: fc.constantFrom('sgd' as const, 'adamw' as const),
            seed: fc.integer(),
            metricConvention: fc.constantFrom('synapse' as const, 'monai' as const),
            augment: fc.boolean(),
          },
          { requiredKeys: [] },
        ),
      },
      { requiredKeys: [] },
    ),
    linkSeeds: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()), { maxLength: 16 }),
  })
  .map(({ nodes, metadata, linkSeeds }) => {
    const withIds = nodes.map((n, i) => ({ id: `n${i}.${n.type}`, ...n }));
    const links = linkSeeds.flatMap(([a, pa, b, pb]) => {
      const from = withIds[a % withIds.length];
      const to = withIds[b % withIds.length];
      const fk = nodeKinds.find((k) => k.type === from.type)!;
      const tk = nodeKinds.find((k) => k.type === to.type)!;
      if (!fk.outputs.length || !tk.inputs.length) return [];
      return [
        {
          from: { node: from.id, port: fk.outputs[pa % fk.outputs.length].name },
          to: { node: to.id, port: tk.inputs[pb % tk.inputs.length].name },
        },
      ];
    });
    return { format: 'mam-studio/graph', version: 1, metadata, nodes: withIds, links } as GraphDoc;
  });

describe('graph file format v1', () => {
  it('load(save(g)) deep-equals g, and saving twice gives the same bytes', () => {
    fc.assert(
      fc.property(docArb, (g) => {
        const bytes = saveGraph(g);
        const r = loadGraph(bytes, catalogue);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.graph).toEqual(g);
        expect(saveGraph(r.graph)).toBe(bytes);
        expect(saveGraph(structuredClone(g))).toBe(bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('key order in the input does not change the bytes', () => {
    const g = presets(catalogue)['demo-mam'];
    const shuffled = JSON.parse(JSON.stringify(g), (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).reverse())
        : v,
    );
    expect(saveGraph(shuffled)).toBe(saveGraph(g));
  });

  it('migrates a hand-made version-0 file', () => {
    const r = loadGraph(readFileSync('test/fixtures/graph-v0.json', 'utf8'), catalogue);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.migratedFrom).toBe(0);
    expect(r.issues).toEqual([]);
    expect(r.graph.version).toBe(1);
    expect(r.graph.metadata).toEqual({ title: 'prototype graph' });
    expect(r.graph.nodes[2]).toEqual({
      id: 'block',
      type: 'swin-block',
      params: { heads: 2, window: 4, shift: 0, mlpRatio: 4, qkvBias: true, dropPath: 0 },
      position: [400, 0],
      label: 'first block',
    });
    expect(r.graph.links[1]).toEqual({
      from: { node: 'embed', port: 'out' },
      to: { node: 'block', port: 'in' },
    });
  });

  it('presets/*.json are what the preset generator writes (run scripts/make-presets.ts after changing it)', () => {
    for (const [name, doc] of Object.entries(presets(catalogue))) {
      expect(readFileSync(`presets/${name}.json`, 'utf8'), name).toBe(saveGraph(doc));
    }
  });

  it('every preset node id is a reference module path or a named graph part', () => {
    const doc = presets(catalogue)['swin-unet-mam-sts-encdec'];
    const ids = doc.nodes.map((n) => n.id);
    expect(ids).toContain('layers.2.blocks.5');
    expect(ids).toContain('layers.0.downsample');
    expect(ids).toContain('layers_up.2.upsample');
    expect(ids).toContain('concat_back_dim.3');
    expect(ids).toEqual(
      expect.arrayContaining(['patch_embed', 'norm', 'layers_up.0', 'norm_up', 'up', 'output']),
    );
  });
});
