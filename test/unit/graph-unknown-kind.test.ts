// A node of an unknown type is opaque to inference: its links count, its outputs have no shape.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { saveGraph } from '../../src/graph/save.ts';
import { catalogue } from '../../nodes/index.ts';

/** input → embed → x (type 'future-node', unknown) → ln → head, as a file. */
function file(): string {
  const b = new GraphBuilder(catalogue);
  b.add('input', 'image-input', { channels: 1, height: 32, width: 32 });
  b.add('embed', 'patch-embed', { patchSize: 4, embedDim: 16 });
  b.link('input', 'embed');
  b.doc.nodes.push({ id: 'x', type: 'future-node', params: {}, position: [0, 0] });
  b.link('embed', 'x');
  b.add('ln', 'layer-norm');
  b.link('x', 'ln');
  b.add('head', 'seg-head', { classes: 2 });
  b.link('ln', 'head');
  return saveGraph(b.doc);
}

describe('unknown node types in inference', () => {
  it('the node after it is connected; it says at most that its input shape is unknown, and why', () => {
    const r = loadGraph(file(), catalogue);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const a = analyzeGraph(r.graph, catalogue);
    const messages = a.issues.map((i) => `${i.severity} ${i.node}: ${i.message}`);
    expect(messages.filter((m) => /not connected/.test(m))).toEqual([]);
    expect(a.nodes.get('ln')?.issues.map((i) => [i.severity, i.message])).toEqual([
      [
        'warning',
        "node 'ln' (LayerNorm): input 'in' shape unknown (from unknown node type 'future-node')",
      ],
    ]);
    // The only error is the unknown type itself; nodes further on have nothing to say.
    expect(a.issues.filter((i) => i.severity === 'error').map((i) => i.node)).toEqual(['x']);
    expect(a.nodes.get('head')?.issues).toEqual([]);
    // Flow order runs through the opaque node.
    expect(a.order.indexOf('embed')).toBeLessThan(a.order.indexOf('x'));
    expect(a.order.indexOf('x')).toBeLessThan(a.order.indexOf('ln'));
    // Known nodes upstream still compute.
    expect(a.nodes.get('embed')?.outputs.out).toMatchObject({ kind: 'tokens', channels: 16 });
  });

  it('a cycle through an unknown node is still found', () => {
    const r = loadGraph(file(), catalogue);
    if (!r.ok) throw new Error('load failed');
    const doc = r.graph;
    // x → ln → x (the head is dropped so every node after embed sits on the cycle).
    doc.nodes = doc.nodes.filter((n) => n.id !== 'head');
    doc.links = doc.links.filter((l) => l.to.node !== 'head');
    doc.links.push({ from: { node: 'ln', port: 'out' }, to: { node: 'x', port: 'back' } });
    const a = analyzeGraph(doc, catalogue);
    // One issue for the cycle, carried by every node on it, the unknown node's neighbour included.
    expect(a.nodes.get('ln')?.issues.some((i) => /form a cycle/.test(i.message))).toBe(true);
  });
});
