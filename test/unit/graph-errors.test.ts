// Every problem the foundation issue names, on hand-made broken graphs, with its words and place.
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { saveGraph } from '../../src/graph/save.ts';
import { catalogue } from '../../nodes/index.ts';
import { mamChain } from '../helpers/mam-chain.ts';

const base = mamChain;

const errors = (b: GraphBuilder) =>
  analyzeGraph(b.doc, catalogue).issues.filter((i) => i.severity === 'error');

describe('inference problems, in words, on the node and the link', () => {
  it('a valid small graph has none', () => {
    expect(errors(base())).toEqual([]);
  });

  it('grid not divisible by window', () => {
    const b = base(1, { window: 3 });
    const [e] = errors(b);
    expect(e).toMatchObject({ node: 'u0', path: '$.nodes[2]' });
    expect(e.message).toBe(
      "node 'u0' (Memory-attention unit (window)): token grid 8×8 is not divisible by window 3",
    );
  });

  it('channels not divisible by heads', () => {
    const [e] = errors(base(1, { heads: 3 }));
    expect(e.message).toContain('16 channels are not divisible by 3 heads');
  });

  it('a memory link between different grids suggests the resampling node, as one issue on the node and the link', () => {
    const b = base(1);
    b.add('merge', 'patch-merging');
    b.link('u0', 'merge');
    b.add('u1', 'mam-swin-block', { heads: 2, window: 4 });
    b.link('merge', 'u1');
    b.memory('u0', 'u1');
    const a = analyzeGraph(b.doc, catalogue);
    const linkIdx = b.doc.links.findIndex((l) => l.to.node === 'u1' && l.to.port === 'memIn');
    // One wrong memory link, one problem: listed once, counted once, found from the node and the link.
    expect(a.issues.filter((i) => i.severity === 'error')).toEqual([
      {
        path: '$.nodes[4]',
        node: 'u1',
        link: linkIdx,
        severity: 'error',
        message:
          "node 'u1' (Memory-attention unit (window)): memory 8×8×16 cannot feed a stage at 4×4×32: insert Memory Merging",
      },
    ]);
    expect(a.nodes.get('u1')?.issues).toEqual([a.issues[0]]);
    expect(a.linkIssues.get(linkIdx)).toEqual([a.issues[0]]);
  });

  it('memory into a larger grid asks for Memory Expanding; merging fixes the smaller case', () => {
    const b = base(1);
    b.add('merge', 'patch-merging');
    b.link('u0', 'merge');
    b.add('u1', 'mam-swin-block', { heads: 2, window: 4 });
    b.link('merge', 'u1');
    b.add('expand', 'patch-expanding');
    b.link('u1', 'expand');
    b.add('u2', 'mam-swin-block', { heads: 2, window: 4 });
    b.link('expand', 'u2');
    b.memory('u1', 'u2');
    b.add('mm', 'memory-merging');
    b.link('u0', 'mm', 'memOut', 'memIn');
    b.link('mm', 'u1', 'memOut', 'memIn');
    const msgs = errors(b).map((e) => e.message);
    expect(msgs).toEqual([
      "node 'u2' (Memory-attention unit (window)): memory 4×4×32 cannot feed a stage at 8×8×16: insert Memory Expanding",
    ]);
    const chain = analyzeGraph(b.doc, catalogue).chains[0];
    expect(chain).toMatchObject({ strategy: 'STS', units: ['u0', 'u1', 'u2'], resamplers: ['mm'] });
  });

  it('memory with another channel count on the same grid', () => {
    const b = base(1);
    b.add('u1', 'mam-swin-block', { heads: 2, window: 4 });
    b.add('e2', 'patch-embed', { patchSize: 4, embedDim: 32 });
    b.link('input', 'e2');
    b.link('e2', 'u1');
    b.memory('u0', 'u1');
    expect(errors(b)[0].message).toContain(
      'memory 8×8×16 cannot feed a stage at 8×8×32: the channel counts must agree',
    );
  });

  it('a chain mixing memory layouts', () => {
    const b = base(1);
    b.add('u1', 'mam-swin-block', { heads: 2, window: 4, memoryLayout: 'spatial' });
    b.link('u0', 'u1');
    b.memory('u0', 'u1');
    const a = analyzeGraph(b.doc, catalogue);
    expect(a.linkIssues.get(3)?.[0].message).toBe(
      "node 'u1' (Memory-attention unit (window)): memory chain mixes layouts: the incoming memory is in window layout, this unit uses spatial",
    );
    expect(a.chains[0].layout).toBe('mixed');
  });

  it('a window-layout link between different window sizes (spatial layout allows it)', () => {
    const b = base(1);
    b.add('u1', 'mam-swin-block', { heads: 2, window: 2 });
    b.link('u0', 'u1');
    b.memory('u0', 'u1');
    expect(errors(b)[0].message).toContain(
      'window-layout memory from a window-4 unit cannot feed a window-2 unit: use the same window or the spatial layout',
    );
    const s = base(1, { memoryLayout: 'spatial' });
    s.add('u1', 'mam-swin-block', { heads: 2, window: 2, memoryLayout: 'spatial' });
    s.link('u0', 'u1');
    s.memory('u0', 'u1');
    expect(errors(s)).toEqual([]);
  });

  it('token grids that do not match at a skip', () => {
    const b = base(1);
    b.add('merge', 'patch-merging');
    b.link('u0', 'merge');
    b.add('skip', 'skip');
    b.link('merge', 'skip', 'out', 'decoder');
    b.link('embed', 'skip', 'out', 'encoder');
    const a = analyzeGraph(b.doc, catalogue);
    const msg = 'token grids do not match at the skip: decoder 4×4×32, encoder 8×8×16';
    expect(a.nodes.get('skip')?.issues[0].message).toContain(msg);
    expect(a.linkIssues.get(b.doc.links.length - 1)?.[0].message).toContain(msg);
  });

  it('cycles', () => {
    const b = base(2);
    b.add('ln', 'layer-norm');
    b.link('u1', 'ln');
    b.doc.links[1] = { from: { node: 'ln', port: 'out' }, to: { node: 'u0', port: 'in' } };
    const msgs = errors(b).map((e) => e.message);
    expect(msgs.filter((m) => m.includes('cycle'))).toEqual([
      '3 nodes form a cycle (u0 → u1 → ln → u0): a network must flow one way',
    ]);
  });

  it('unconnected required inputs (the memory input is optional)', () => {
    const b = base(1);
    b.add('head', 'seg-head', { classes: 2 });
    expect(errors(b).map((e) => e.message)).toEqual([
      "node 'head' (Segmentation head): required input 'in' is not connected",
    ]);
  });

  it('a link between different socket kinds', () => {
    const b = base(1);
    b.add('ln', 'layer-norm');
    b.doc.links.push({ from: { node: 'u0', port: 'memOut' }, to: { node: 'ln', port: 'in' } });
    expect(errors(b)[0].message).toBe(
      'link u0.memOut → ln.in: a memory port cannot connect to a tokens port',
    );
  });

  it('output classes that disagree with the head', () => {
    const b = base(1);
    b.add('head', 'seg-head', { classes: 3 });
    b.link('u0', 'head');
    b.add('out', 'output', { classes: 2, classNames: ['background', 'tumour'] });
    b.link('head', 'out', 'out', 'logits');
    expect(errors(b)[0].message).toContain(
      'the head gives 3 logits per pixel but the output has 2 classes',
    );
  });
});

describe('load problems: JSON path and a sentence', () => {
  const file = (edit: (doc: ReturnType<typeof base>['doc']) => void) => {
    const b = base(2);
    edit(b.doc);
    return saveGraph(b.doc);
  };

  it('unknown node type: everything else loads; the node and its links are written back unchanged', () => {
    const text = file((d) => {
      d.nodes.push({
        id: 'x',
        type: 'future-node',
        params: { alpha: 1 },
        position: [5, 6],
        ...({ extra: { keep: true } } as object),
      });
      d.links.push({ from: { node: 'u1', port: 'out' }, to: { node: 'x', port: 'whatever' } });
    });
    const r = loadGraph(text, catalogue);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.issues).toEqual([
      {
        path: '$.nodes[4].type',
        node: 'x',
        severity: 'error',
        message:
          "node 'x' has unknown node type 'future-node': it is kept and written back unchanged, but not computed",
      },
    ]);
    expect(analyzeGraph(r.graph, catalogue).nodes.get('u1')?.outputs.out).toBeDefined();
    expect(saveGraph(r.graph)).toBe(text);
  });

  it('missing parameter (the default is used and said)', () => {
    const r = loadGraph(
      file((d) => delete d.nodes[2].params.heads),
      catalogue,
    );
    expect(r.ok && r.issues[0]).toMatchObject({
      path: '$.nodes[2].params.heads',
      message:
        "node 'u0' (Memory-attention unit (window)): parameter 'heads' is missing; using the default 3",
    });
  });

  it('parameter out of range, wrong type, not an option', () => {
    const r = loadGraph(
      file((d) => {
        d.nodes[2].params.window = 0;
        d.nodes[2].params.qkvBias = 'yes';
        d.nodes[3].params.memoryLayout = 'diagonal';
      }),
      catalogue,
    );
    expect(r.ok && r.issues.map((i) => [i.path, i.message])).toEqual([
      [
        '$.nodes[2].params.window',
        "node 'u0' (Memory-attention unit (window)): parameter 'window' is 0, below the minimum 1",
      ],
      [
        '$.nodes[2].params.qkvBias',
        `node 'u0' (Memory-attention unit (window)): parameter 'qkvBias' must be true or false, got "yes"`,
      ],
      [
        '$.nodes[3].params.memoryLayout',
        `node 'u1' (Memory-attention unit (window)): parameter 'memoryLayout' must be one of 'window', 'spatial', got "diagonal"`,
      ],
    ]);
  });

  it('link to a port that does not exist, and to a node that does not exist', () => {
    const r = loadGraph(
      file((d) => {
        d.links[0].to.port = 'image';
        d.links.push({ from: { node: 'ghost', port: 'out' }, to: { node: 'u0', port: 'memIn' } });
      }),
      catalogue,
    );
    expect(r.ok && r.issues.map((i) => [i.path, i.message])).toEqual([
      [
        '$.links[0].to.port',
        "link input.out → embed.image: node 'embed' (Patch embed) has no input port 'image' (it has 'in')",
      ],
      ['$.links[4].from.node', "link ghost.out → u0.memIn: node 'ghost' does not exist"],
    ]);
  });

  it('duplicate id', () => {
    const r = loadGraph(
      file((d) => d.nodes.push({ ...structuredClone(d.nodes[2]) })),
      catalogue,
    );
    expect(r.ok && r.issues[0]).toMatchObject({
      path: '$.nodes[4].id',
      message:
        "duplicate node id 'u0': also used by $.nodes[2]; ids must be unique (this one is kept in the file but not computed)",
    });
  });

  it('newer format version, wrong format, bad JSON, bad structure', () => {
    const newer = loadGraph(
      file((d) => (d.version = 7)),
      catalogue,
    );
    expect(newer).toEqual({
      ok: false,
      issues: [
        {
          path: '$.version',
          severity: 'error',
          message:
            'this file was written in graph format version 7, newer than this mam-studio reads (up to 1): update mam-studio to open it',
        },
      ],
    });
    const bad = loadGraph('{ "format": "mam-studio/graph", ', catalogue);
    expect(!bad.ok && bad.issues[0].message).toMatch(/^not valid JSON/);
    const other = loadGraph('{"format":"something-else","version":1}', catalogue);
    expect(!other.ok && other.issues[0].message).toBe(
      `not a mam-studio graph: format is "something-else", expected 'mam-studio/graph'`,
    );
    const noNodes = loadGraph('{"format":"mam-studio/graph","version":1,"links":[]}', catalogue);
    expect(!noNodes.ok && noNodes.issues[0].path).toBe('$.nodes');
    const badNode = loadGraph(
      file((d) => ((d.nodes[1] as unknown as { position: unknown }).position = 'left')),
      catalogue,
    );
    expect(badNode.ok && badNode.issues[0].message).toMatch(
      /^node \$\.nodes\[1\] could not be read and was left out: \$\.nodes\[1\]\.position/,
    );
  });
});
