// A network built by hand from palette defaults starts without problems: the same path the palette
// (newNode + add-nodes) and the canvas (canConnect + connect) take.
import { describe, expect, it } from 'vitest';
import { nodeKinds } from '../../nodes/index.ts';
import { DocumentStore } from '../../src/graph/commands.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { newNode } from '../../src/graph/new-node.ts';
import { canConnect } from '../../src/graph/rules.ts';
import { GRAPH_FORMAT, GRAPH_VERSION, type LinkDoc } from '../../src/graph/types.ts';
import { catalogue } from '../../nodes/index.ts';

function handBuilt(types: string[], wires: [number, number, string?, string?][]) {
  const store = new DocumentStore({
    format: GRAPH_FORMAT,
    version: GRAPH_VERSION,
    nodes: [],
    links: [],
  });
  const ids = types.map((type, i) => {
    const node = newNode(store.doc, type, [i * 260, 0], catalogue);
    if (!node) throw new Error(`no kind ${type}`);
    store.dispatch({ type: 'add-nodes', nodes: [node] });
    return node.id;
  });
  for (const [a, b, fromPort = 'out', toPort = 'in'] of wires) {
    const link: LinkDoc = {
      from: { node: ids[a], port: fromPort },
      to: { node: ids[b], port: toPort },
    };
    expect(canConnect(store.doc, link, catalogue)).toEqual({ ok: true });
    store.dispatch({ type: 'connect', link });
  }
  return store.doc;
}

describe('palette defaults agree', () => {
  it('image input → patch embed → Swin block → segmentation head → output: no problems at all', () => {
    const doc = handBuilt(
      ['image-input', 'patch-embed', 'swin-block', 'final-expanding', 'seg-head', 'output'],
      [
        [0, 1],
        [1, 2],
        [2, 3],
        [3, 4],
        [4, 5, 'out', 'logits'],
      ],
    );
    const a = analyzeGraph(doc, catalogue);
    expect(a.issues).toEqual([]);
    // 224×224×1 in, two classes (background, foreground) out.
    expect(a.inputs[0].shape).toEqual([1, 224, 224, 1]);
    expect(a.outputs[0].shape).toEqual([1, 224, 224, 2]);
  });

  it('a U with merging, expanding, a skip, MAM units and a memory link: no problems either', () => {
    const doc = handBuilt(
      [
        'image-input', // 0
        'patch-embed', // 1
        'mam-swin-block', // 2
        'mam-swin-block', // 3
        'patch-merging', // 4
        'swin-block', // 5
        'patch-expanding', // 6
        'skip', // 7
        'swin-block', // 8
        'layer-norm', // 9
        'final-expanding', // 10
        'seg-head', // 11
        'output', // 12
      ],
      [
        [0, 1],
        [1, 2],
        [2, 3],
        [2, 3, 'memOut', 'memIn'],
        [3, 4],
        [4, 5],
        [5, 6],
        [6, 7, 'out', 'decoder'],
        [3, 7, 'out', 'encoder'],
        [7, 8],
        [8, 9],
        [9, 10],
        [10, 11],
        [11, 12, 'out', 'logits'],
      ],
    );
    expect(analyzeGraph(doc, catalogue).issues).toEqual([]);
  });

  it('the head and the output default to the same class count, and the output names each class', () => {
    const param = (type: string, name: string) =>
      nodeKinds.find((k) => k.type === type)?.params.find((p) => p.name === name)?.default;
    expect(param('seg-head', 'classes')).toBe(param('output', 'classes'));
    expect((param('output', 'classNames') as string[]).length).toBe(param('output', 'classes'));
  });
});
