// A host registers a node kind of its own: a spec in its catalogue and a
// kernel in its kernel table, passed to the analysis and the compiler.
import * as tf from '#tfjs';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import type { Kernel } from '../../src/compile/kernels/types.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { GraphBuilder } from '../../src/graph/builder.ts';
import { analyzeGraph } from '../../src/graph/infer.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { newNode } from '../../src/graph/new-node.ts';
import { canConnect } from '../../src/graph/rules.ts';
import { menuItems, type MenuActions } from '../../src/rete/menu.ts';
import type { Catalogue } from '../../src/graph/node-kind.ts';
import { decodeGraphFragment, encodeGraphToFragment } from '../../src/share/link.ts';
import { toyGain as gain, withToyKind } from '../helpers/toy-kind.ts';
import type { GraphDoc } from '../../src/graph/types.ts';

const gainKernel: Kernel = (ctx) => ({ out: tf.mul(ctx.inputs.in!, ctx.weight('gain')) });

const hostCatalogue: Catalogue = withToyKind(catalogue);
const hostKernels = new Map([...kernels, [gain.type, gainKernel]]);

const H = 2,
  W = 3,
  CIN = 2,
  C = 4,
  K = 3;
const node = (id: string, type: string, params: GraphDoc['nodes'][number]['params'] = {}) => ({
  id,
  type,
  params,
  position: [0, 0] as [number, number],
});
const link = (a: string, ap: string, b: string, bp: string) => ({
  from: { node: a, port: ap },
  to: { node: b, port: bp },
});
const doc: GraphDoc = {
  format: 'mam-studio/graph',
  version: 1,
  nodes: [
    node('in', 'image-input', { channels: CIN, height: H, width: W, depth: 0 }),
    node('embed', 'patch-embed', { patchSize: 1, embedDim: C, norm: false }),
    node('g', 'toy-gain'),
    node('head', 'seg-head', { classes: K }),
    node('out', 'output', { classes: K, classNames: ['a', 'b', 'c'] }),
  ],
  links: [
    link('in', 'out', 'embed', 'in'),
    link('embed', 'out', 'g', 'in'),
    link('g', 'out', 'head', 'in'),
    link('head', 'out', 'out', 'logits'),
  ],
};

describe('a node kind of the host', () => {
  it('is analysed with the catalogue passed in: shapes and counts', () => {
    const a = analyzeGraph(doc, hostCatalogue);
    expect(a.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(a.nodes.get('g')!.outputs.out).toEqual({ kind: 'tokens', grid: [H, W], channels: C });
    // patch embed C·CIN + C, the gain 1, the head K·C
    expect(a.params).toBe(C * CIN + C + 1 + K * C);
    expect(a.macs.linearConv).toBe(H * W * C * CIN + H * W * C + H * W * K * C);
  });

  it('is unknown to a catalogue without it, and the compiler needs its kernel', () => {
    const a = analyzeGraph(doc, catalogue);
    expect(a.issues.map((i) => i.message)).toContain(
      "node 'g' has unknown node type 'toy-gain': it is kept and written back unchanged, but not computed",
    );
    const r = planGraph(doc, hostCatalogue, kernels);
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.errors).toEqual([
        {
          path: '$.nodes[2]',
          severity: 'error',
          message: "node 'g': no kernel for node kind 'toy-gain', so the graph cannot be compiled",
        },
      ]);
  });

  it('compiles with its kernel and computes what a plain float64 loop computes', () => {
    const r = planGraph(doc, hostCatalogue, hostKernels);
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
    const model = CompiledModel.create(r.plan, { seed: 3 });
    tf.tidy(() => model.assignTorch('g/gain', tf.tensor1d([-2.5])));
    const sd = model.stateDict();
    const val = (k: string) => Array.from(sd.get(k)!.dataSync());
    const [wp, bp, g, wh] = [
      val('embed.proj.weight'), // [C, CIN, 1, 1]
      val('embed.proj.bias'),
      val('g.gain'),
      val('head.weight'), // [K, C, 1, 1]
    ];
    sd.forEach((t) => t.dispose());
    const x = Array.from({ length: H * W * CIN }, (_, i) => Math.sin(i + 1));
    const want: number[] = [];
    for (let p = 0; p < H * W; p++) {
      const tok = Array.from({ length: C }, (_, c) => {
        let s = bp[c];
        for (let i = 0; i < CIN; i++) s += wp[c * CIN + i] * x[p * CIN + i];
        return g[0] * s;
      });
      for (let k = 0; k < K; k++) want.push(tok.reduce((s, t, c) => s + wh[k * C + c] * t, 0));
    }
    const xt = tf.tensor4d(x, [1, H, W, CIN]);
    const logits = model.predict(xt);
    expect(logits.shape).toEqual([1, H, W, K]);
    const got = Array.from(logits.dataSync());
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 5));
    expect(g[0]).toBe(-2.5);
    tf.dispose([xt, logits]);
    model.dispose();
  });
});

describe('a graph file with the host kind', () => {
  it('loads with the catalogue passed in, and only with it', () => {
    const text = JSON.stringify(doc);
    const host = loadGraph(text, hostCatalogue);
    expect(host.ok && host.issues).toEqual([]);
    const builtin = loadGraph(text, catalogue);
    expect(builtin.ok && builtin.issues.map((i) => i.message)).toEqual([
      "node 'g' has unknown node type 'toy-gain': it is kept and written back unchanged, but not computed",
    ]);
  });

  it('opens from a share link with the catalogue passed in, and only with it', () => {
    const frag = encodeGraphToFragment(doc);
    const host = decodeGraphFragment(frag, hostCatalogue);
    expect(host.ok && host.issues).toEqual([]);
    expect(host.ok && host.graph).toEqual(doc);
    const builtin = decodeGraphFragment(frag, catalogue);
    expect(builtin.ok && builtin.issues.map((i) => i.message)).toEqual([
      "node 'g' has unknown node type 'toy-gain': it is kept and written back unchanged, but not computed",
    ]);
  });

  it('is written by a builder on the host catalogue', () => {
    const b = new GraphBuilder(hostCatalogue);
    b.add('g', 'toy-gain');
    expect(b.doc.nodes).toEqual([node('g', 'toy-gain')]);
    expect(() => new GraphBuilder(catalogue).add('g', 'toy-gain')).toThrow(
      "unknown node kind 'toy-gain'",
    );
  });
});

describe('analysis of an immutable document', () => {
  it('runs once per document and catalogue: the plan reuses it', () => {
    const a = analyzeGraph(doc, hostCatalogue);
    expect(analyzeGraph(doc, hostCatalogue)).toBe(a);
    const r = planGraph(doc, hostCatalogue, hostKernels);
    expect(r.ok && r.plan.analysis).toBe(a);
    // another document (an edit makes one) or another catalogue gets its own
    expect(analyzeGraph({ ...doc }, hostCatalogue)).not.toBe(a);
    expect(analyzeGraph(doc, catalogue)).not.toBe(a);
  });
});

describe('the editor with the host catalogue', () => {
  it('adds the kind with its defaults, checks its links by its ports, and offers it in the menu', () => {
    expect(newNode(doc, 'toy-gain', [1, 2], catalogue)).toBeUndefined();
    expect(newNode(doc, 'toy-gain', [1, 2], hostCatalogue)).toEqual({
      id: 'toy_gain_1',
      type: 'toy-gain',
      params: {},
      position: [1, 2],
    });
    // tokens out of the gain into an image input: refused by the gain's own port
    const bad = { from: { node: 'g', port: 'out' }, to: { node: 'embed', port: 'in' } };
    expect(canConnect(doc, bad, hostCatalogue)).toEqual({
      ok: false,
      reason: "Link refused: Gain 'g' gives tokens, but 'image' of embed takes image.",
    });
    const noPort = { from: { node: 'g', port: 'nope' }, to: { node: 'head', port: 'in' } };
    expect(canConnect(doc, noPort, hostCatalogue)).toEqual({
      ok: false,
      reason: "Link refused: 'g' has no output 'nope'.",
    });
    const actions = { kinds: () => [...hostCatalogue.values()], presetNames: () => [] };
    const { list } = menuItems('root', actions as unknown as MenuActions);
    const norm = list[0].subitems!.find((c) => c.label === 'norm')!;
    expect(norm.subitems!.map((i) => i.key)).toEqual(['layer-norm', 'hidden-norm-3d', 'toy-gain']);
  });
});
