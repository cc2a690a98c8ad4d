// SAM ↔ MAM swap in place (src/graph/swap.ts): ids, params, links and weights.
import { describe, expect, it } from 'vitest';
import { applyCommand, DocumentStore, type Command } from '../../src/graph/commands.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { presets } from '../../src/graph/presets.ts';
import { saveGraph } from '../../src/graph/save.ts';
import { swapNodeKind } from '../../src/graph/swap.ts';
import type { GraphDoc } from '../../src/graph/types.ts';
import { catalogue } from '../../nodes/index.ts';

const apply = (doc: GraphDoc, cmds: Command[]) => cmds.reduce(applyCommand, doc);
const ok = (r: ReturnType<typeof swapNodeKind>) => {
  if ('error' in r) throw new Error(r.error);
  return r;
};
const node = (doc: GraphDoc, id: string) => doc.nodes.find((n) => n.id === id)!;

describe('swapNodeKind', () => {
  it('SAM → MAM keeps id, place, position, label, shared params and token links; memoryLayout defaults', () => {
    const base = applyCommand(presets(catalogue)['swin-unet'], {
      type: 'set-label',
      id: 'layers.1.blocks.1',
      label: 'my block',
    });
    const r = ok(swapNodeKind(base, 'layers.1.blocks.1', undefined, catalogue));
    const after = apply(base, r.commands);
    const before = node(base, 'layers.1.blocks.1');
    const n = node(after, 'layers.1.blocks.1');
    expect(n.type).toBe('mam-swin-block');
    // Stage 1 of Swin-Unet 2-2-6-2: 6 heads, window 7, odd block → shift 3; drop-path linspace(0,0.2,12)[3] = 0.054545.
    expect(n.params).toEqual({
      heads: 6,
      window: 7,
      shift: 3,
      mlpRatio: 4,
      qkvBias: true,
      dropPath: 0.054545,
      memoryLayout: 'window',
    });
    expect(n.position).toEqual(before.position);
    expect(n.label).toBe('my block');
    expect(after.nodes.map((x) => x.id)).toEqual(base.nodes.map((x) => x.id));
    expect(after.links).toEqual(base.links);
    expect(r.note).toContain('Memory-attention unit');
    expect(analyzeGraph(after, catalogue).issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  it('keeps every weight spec (names, shapes, init) on presets swin-unet', () => {
    const base = presets(catalogue)['swin-unet'];
    for (const id of [
      'layers.0.blocks.0',
      'layers.2.blocks.5',
      'layers_up.1.blocks.2',
      'layers_up.3.blocks.1',
    ]) {
      const w0 = analyzeGraph(base, catalogue).nodes.get(id)!.weights;
      const after = apply(base, ok(swapNodeKind(base, id, undefined, catalogue)).commands);
      const w1 = analyzeGraph(after, catalogue).nodes.get(id)!.weights;
      expect(w1).toEqual(w0);
      const back = apply(after, ok(swapNodeKind(after, id, 'swin-block', catalogue)).commands);
      expect(analyzeGraph(back, catalogue).nodes.get(id)!.weights).toEqual(w0);
      expect(saveGraph(back)).toBe(saveGraph(base));
    }
    // By hand for layers.2.blocks.5: C = 384, 12 heads, window 7 on a 14×14 grid.
    const w = analyzeGraph(base, catalogue).nodes.get('layers.2.blocks.5')!.weights;
    const shapes = Object.fromEntries(w.map((s) => [s.name, s.shape]));
    expect(shapes['attn.relative_position_bias_table']).toEqual([169, 12]);
    expect(shapes['attn.qkv.weight']).toEqual([1152, 384]);
    expect(shapes['mlp.fc1.weight']).toEqual([1536, 384]);
  });

  it('MAM → SAM drops memoryLayout and the memory links, and the note names them', () => {
    const base = presets(catalogue)['swin-unet-mam-ists'];
    const r = ok(swapNodeKind(base, 'layers.2.blocks.3', undefined, catalogue));
    expect(r.note).toContain('Removed 2 memory links');
    expect(r.note).toContain('layers.2.blocks.2.memOut → layers.2.blocks.3.memIn');
    expect(r.note).toContain('layers.2.blocks.3.memOut → layers.2.blocks.4.memIn');
    const after = apply(base, r.commands);
    const n = node(after, 'layers.2.blocks.3');
    expect(n.type).toBe('swin-block');
    expect(n.params).not.toHaveProperty('memoryLayout');
    expect(after.links.length).toBe(base.links.length - 2);
    // Stage 2's chain of 6 splits around the SAM block: 3 before it, 2 after.
    expect(analyzeGraph(after, catalogue).chains.map((c) => c.units.length)).toEqual([
      2, 2, 3, 2, 2,
    ]);
    expect(analyzeGraph(after, catalogue).params).toBe(41_380_836);
  });

  it('swaps ViT blocks too', () => {
    const base = presets(catalogue)['vit-unet-mam-sts'];
    const after = apply(base, ok(swapNodeKind(base, 'blocks.0', 'vit-block', catalogue)).commands);
    expect(node(after, 'blocks.0')).toMatchObject({
      type: 'vit-block',
      params: { heads: 6, mlpRatio: 4, qkvBias: true, dropPath: 0 },
    });
    expect(Object.keys(node(after, 'blocks.0').params).sort()).toEqual([
      'dropPath',
      'heads',
      'mlpRatio',
      'qkvBias',
    ]);
    expect(analyzeGraph(after, catalogue).chains[0].units).toEqual([
      'blocks.1',
      'blocks.2',
      'blocks.3',
      'blocks.4',
      'blocks.5',
      'blocks.6',
      'blocks.7',
    ]);
  });

  it('refuses what cannot be swapped, in words', () => {
    const base = presets(catalogue)['swin-unet'];
    expect(swapNodeKind(base, 'nope', undefined, catalogue)).toEqual({
      error: "there is no node 'nope' to swap",
    });
    expect(swapNodeKind(base, 'layers.0.downsample', undefined, catalogue)).toHaveProperty(
      'error',
      expect.stringContaining('no SAM/MAM counterpart'),
    );
    expect(swapNodeKind(base, 'layers.0.blocks.0', 'mam-vit-block', catalogue)).toHaveProperty(
      'error',
      expect.stringContaining("only with 'mam-swin-block'"),
    );
    expect(swapNodeKind(base, 'layers.0.blocks.0', 'swin-block', catalogue)).toHaveProperty(
      'error',
      expect.stringContaining('already'),
    );
  });

  it('is one undo step in the DocumentStore', () => {
    const base = presets(catalogue)['swin-unet-mam-sts'];
    const store = new DocumentStore(base);
    store.dispatch(
      ok(swapNodeKind(base, 'layers.1.blocks.0', undefined, catalogue)).commands,
      'swap',
    );
    expect(node(store.doc, 'layers.1.blocks.0').type).toBe('swin-block');
    store.undo();
    expect(saveGraph(store.doc)).toBe(saveGraph(base));
    store.redo();
    expect(node(store.doc, 'layers.1.blocks.0').type).toBe('swin-block');
  });
});
