// No preset and no conversion leaves two nodes on top of each other. Boxes use the heights the
// editor draws (measured in Chromium on the presets: see test/e2e/editor-trust.test.ts), not the
// layout's own size model, and a plain pairwise rectangle test.
import { catalogue } from '../../nodes/index.ts';
import { describe, expect, it } from 'vitest';
import { applyCommand, type Command } from '../../src/graph/commands.ts';
import {
  convertToMam,
  convertToSam,
  findStages,
  type ConvertScope,
} from '../../src/graph/convert.ts';
import { presets } from '../../src/graph/presets.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { overlapping } from './drawn-sizes.ts';

const P = presets(catalogue);
const apply = (doc: GraphDoc, r: { commands: Command[] } | { error: string }) => {
  if ('error' in r) return undefined;
  return r.commands.reduce(applyCommand, doc);
};

describe('no two nodes overlap', () => {
  for (const [name, doc] of Object.entries(P)) {
    it(`preset ${name}`, () => {
      expect(overlapping(doc)).toEqual([]);
    });
  }

  for (const name of [
    'swin-unet',
    'swin-unet-mam-ists',
    'swin-unet-mam-sts-encdec',
    'vit-unet-mam-sts',
    'demo-mam',
    'swinunetr',
    'swinunetr-mam',
    'nnformer',
    'nnformer-mam',
  ]) {
    it(`every conversion of ${name}`, () => {
      const doc = P[name];
      const scopes: ConvertScope[] = [
        'encoder',
        'decoder',
        'network',
        ...findStages(doc, catalogue).map((s) => ({ stageOf: s.units[0] })),
      ];
      let tried = 0;
      for (const scope of scopes) {
        const results = [
          apply(doc, convertToSam(doc, scope, catalogue)),
          ...(['ISTS', 'STS'] as const).flatMap((strategy) =>
            (['conv', 'avg'] as const).map((mergeMode) =>
              apply(
                doc,
                convertToMam(doc, { scope, strategy, layout: 'window', mergeMode }, catalogue),
              ),
            ),
          ),
        ];
        for (const after of results) {
          if (!after) continue;
          tried++;
          expect(overlapping(after), `${name} ${JSON.stringify(scope)}`).toEqual([]);
        }
      }
      expect(tried).toBeGreaterThan(2);
    });
  }

  it('converting the SAM baseline to STS puts each merge between the stages it joins, as the preset does', () => {
    const r = convertToMam(
      P['swin-unet'],
      { scope: 'network', strategy: 'STS', layout: 'window' },
      catalogue,
    );
    const doc = apply(P['swin-unet'], r)!;
    const at = (d: GraphDoc, id: string) => d.nodes.find((n) => n.id === id)!.position;
    const model52 = P['swin-unet-mam-sts-encdec'];
    const resamplers = model52.nodes.filter((n) => n.type.startsWith('memory-')).map((n) => n.id);
    expect(resamplers).toHaveLength(6);
    for (const id of resamplers) expect(at(doc, id)).toEqual(at(model52, id));
    // On the line between the row of stage 0's last unit and that of stage 1's first, in a free spot.
    expect(at(doc, 'memory_merging.0')[1]).toBeGreaterThan(at(doc, 'layers.0.blocks.1')[1]);
    expect(at(doc, 'memory_merging.0')[1]).toBeLessThan(at(doc, 'layers.1.blocks.0')[1]);
  });
});
