// Conversions say what they made (read from the result), no-ops change nothing, and chains are
// classified as MAM-SPEC.md section 3 defines them: ISTS stays in one stage of a hierarchical
// network, STS crosses stages or runs through a sequential one, a lone unit is on no chain.
import { describe, expect, it } from 'vitest';
import { applyCommand, DocumentStore } from '../../src/graph/commands.ts';
import { convertToMam, type ConvertOptions } from '../../src/graph/convert.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { presets } from '../../src/graph/presets.ts';
import { swapNodeKind } from '../../src/graph/swap.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { catalogue } from '../../nodes/index.ts';

const P = presets(catalogue);
const strategies = (doc: GraphDoc) => analyzeGraph(doc, catalogue).chains.map((c) => c.strategy);
const stage = (id: string, strategy: 'ISTS' | 'STS'): ConvertOptions => ({
  scope: { stageOf: id },
  strategy,
  layout: 'window',
});
const swap = (doc: GraphDoc, id: string, to?: string) => {
  const r = swapNodeKind(doc, id, to, catalogue);
  if ('error' in r) throw new Error(r.error);
  return r.commands.reduce(applyCommand, doc);
};

describe('convert says what it made', () => {
  it('"Convert this stage to MAM (STS)" on an ISTS stage of the demo is refused in words; no undo step', () => {
    const store = new DocumentStore(P['demo-mam']);
    const r = convertToMam(store.doc, stage('layers.0.blocks.0', 'STS'), catalogue);
    expect(r).toEqual({
      error: expect.stringMatching(/ISTS by definition.*nothing changed$/),
    });
    expect(strategies(store.doc)).toEqual(['ISTS', 'ISTS', 'ISTS']);
    expect(store.undoDepth).toBe(0);
  });

  it('the same on a SAM stage of a hierarchical network: a single stage cannot carry STS', () => {
    expect(
      convertToMam(P['swin-unet'], stage('layers.2.blocks.3', 'STS'), catalogue),
    ).toHaveProperty('error', expect.stringContaining('ISTS by definition'));
  });

  it('converting to what is already there is a no-op: no commands, so no undo entry, and it says so', () => {
    const store = new DocumentStore(P['demo-mam']);
    for (const o of [
      { scope: 'encoder', strategy: 'ISTS', layout: 'window' } as const,
      stage('layers.1.blocks.1', 'ISTS'),
    ]) {
      const r = convertToMam(store.doc, o, catalogue);
      expect(r).toEqual({
        commands: [],
        note: 'Nothing changed: the blocks in scope already are '.concat(
          o.scope === 'encoder'
            ? '3 ISTS chains (2, 2, 2 units).'
            : 'one ISTS chain through 2 units.',
        ),
      });
      if ('commands' in r) store.dispatch(r.commands);
    }
    expect(store.undoDepth).toBe(0);
    // The Model 5-1 preset converted to encoder STS again: the same graph, nothing to undo.
    expect(
      convertToMam(
        P['swin-unet-mam-sts'],
        { scope: 'encoder', strategy: 'STS', layout: 'window' },
        catalogue,
      ),
    ).toHaveProperty('commands', []);
  });

  it('a stage of a sequential network (ViT) converts to a real STS chain, and ISTS is refused there', () => {
    const sam = convertToMam(P['vit-unet-mam-sts'], stage('blocks.3', 'STS'), catalogue);
    expect(sam).toHaveProperty('commands', []); // the preset already is that chain
    let doc = P['vit-unet-mam-sts'];
    for (let j = 0; j < 8; j++) doc = swap(doc, `blocks.${j}`, 'vit-block');
    expect(strategies(doc)).toEqual([]);
    const r = convertToMam(doc, stage('blocks.3', 'STS'), catalogue);
    if ('error' in r) throw new Error(r.error);
    expect(r.note).toContain('one STS chain through 8 units');
    expect(strategies(r.commands.reduce(applyCommand, doc))).toEqual(['STS']);
    expect(convertToMam(doc, stage('blocks.3', 'ISTS'), catalogue)).toHaveProperty(
      'error',
      expect.stringContaining('sequential'),
    );
  });

  it('the note names the strategy of every chain the result has, for every preset and scope', () => {
    for (const [name, doc] of Object.entries(P)) {
      for (const scope of ['encoder', 'decoder', 'network'] as const) {
        for (const strategy of ['ISTS', 'STS'] as const) {
          const r = convertToMam(doc, { scope, strategy, layout: 'window' }, catalogue);
          if ('error' in r) continue;
          const made = strategies(r.commands.reduce(applyCommand, doc));
          const mentioned = r.note.match(/\b(I?STS) chains?\b/g) ?? [];
          for (const m of mentioned)
            expect(made, `${name} ${scope} ${strategy}: ${r.note}`).toContain(m.split(' ')[0]);
          expect(
            mentioned.every((m) => m.startsWith(strategy)),
            `${name} ${scope} ${strategy}`,
          ).toBe(true);
        }
      }
    }
  });
});

describe('chain classification', () => {
  it('a lone MAM unit (no memory in or out) is on no chain, in a hierarchical network', () => {
    const doc = swap(P['swin-unet'], 'layers.1.blocks.0');
    const a = analyzeGraph(doc, catalogue);
    expect(a.nodes.get('layers.1.blocks.0')?.kind?.role).toBe('memory-unit');
    expect(a.chains).toEqual([]);
  });

  it('and in a sequential network; two linked units there make one STS chain', () => {
    let doc = P['vit-unet-mam-sts'];
    for (let j = 0; j < 8; j++) doc = swap(doc, `blocks.${j}`, 'vit-block');
    const lone = swap(doc, 'blocks.2', 'mam-vit-block');
    expect(analyzeGraph(lone, catalogue).chains).toEqual([]);
    const two = swap(lone, 'blocks.3', 'mam-vit-block');
    const linked = applyCommand(two, {
      type: 'connect',
      link: { from: { node: 'blocks.2', port: 'memOut' }, to: { node: 'blocks.3', port: 'memIn' } },
    });
    expect(analyzeGraph(linked, catalogue).chains.map((c) => [c.strategy, c.units])).toEqual([
      ['STS', ['blocks.2', 'blocks.3']],
    ]);
  });
});
