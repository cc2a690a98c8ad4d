// The compile plan's passes one by one, each checked against values derived
// by hand from MAM-SPEC.md (windows at 224², the memory links of an STS chain,
// the presets' parameter counts from the paper's tables).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../nodes/index.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import {
  PASS_NAMES,
  analyse,
  memoryHandOffs,
  order,
  planPasses,
  resolveWindows,
  type Ordered,
  type OrderedStep,
} from '../../src/compile/passes.ts';
import { loadGraph } from '../../src/graph/load.ts';
import type { Shape } from '../../src/graph/node-kind.ts';

function source(preset: string) {
  const loaded = loadGraph(readFileSync(`presets/${preset}.json`, 'utf8'), catalogue);
  if (!loaded.ok) throw new Error(`${preset} does not load`);
  return { doc: loaded.graph, catalogue, kernels };
}

function ir(preset: string) {
  const r = planPasses(source(preset));
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.ir;
}

const tokens = (side: number, channels = 8): Shape => ({
  kind: 'tokens',
  grid: [side, side],
  channels,
});

function step(id: string, side: number, window: number, shift: number): OrderedStep {
  return {
    id,
    type: 'swin-block',
    role: 'attention',
    params: { window, shift, heads: 2 },
    inputs: {},
    inShapes: { in: tokens(side) },
    outputs: { out: tokens(side) },
  };
}

const plain = (steps: OrderedStep[]): Ordered => ({
  input: { node: 'in', shape: [1, 8, 8, 1] },
  output: { node: 'out', from: { node: 'x', port: 'out' }, shape: [1, 8, 8, 2] },
  classNames: ['a', 'b'],
  steps,
});

describe('plan passes', () => {
  it('run in the order the pipeline names them', () => {
    expect(PASS_NAMES).toEqual(['analyse', 'order', 'resolveWindows', 'memoryHandOffs', 'weights']);
  });

  it('analyse refuses a graph with errors, naming the node', () => {
    const src = source('swin-unet');
    const nodes = src.doc.nodes.map((n) =>
      n.id === 'layers.1.blocks.0' ? { ...n, params: { ...n.params, heads: 5 } } : n,
    );
    const r = analyse({ ...src, doc: { ...src.doc, nodes } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.node)).toContain('layers.1.blocks.0');
  });

  it('order puts each step after the steps that feed it', () => {
    const a = analyse(source('demo-mam'));
    if (!a.ok) throw new Error('demo does not analyse');
    const o = order(a.value);
    expect(o.steps).toHaveLength(a.value.doc.nodes.length);
    const done = new Set<string>();
    for (const s of o.steps) {
      for (const from of Object.values(s.inputs)) expect(done.has(from.node)).toBe(true);
      done.add(s.id);
    }
    expect(o.output.from).toEqual(o.steps.find((s) => s.id === o.output.node)!.inputs.logits);
    expect(JSON.parse(JSON.stringify(o))).toEqual(o);
  });

  it('resolveWindows: w_eff = min(w, grid), and no shift when one window covers the grid', () => {
    const w = resolveWindows(
      plain([
        step('big', 56, 7, 3),
        step('exact', 7, 7, 3),
        step('small', 5, 7, 3),
        step('odd', 9, 4, 2),
      ]),
    );
    expect(w.steps.map((s) => s.window)).toEqual([
      { window: 7, shift: 3 },
      { window: 7, shift: 0 },
      { window: 5, shift: 0 },
      { window: 4, shift: 2 },
    ]);
    const noWindow = { ...step('head', 8, 7, 3), params: { classes: 2 } };
    expect(resolveWindows(plain([noWindow])).steps[0].window).toBeUndefined();
  });

  it('resolveWindows at 224² (Swin-Unet, window 7): 56², 28², 14² keep (7, 0|3); the 7² bottleneck has no shift', () => {
    const p = ir('swin-unet');
    const seen = new Set(
      p.steps
        .filter((s) => s.window)
        .map((s) => {
          const g = (s.outputs.out as { grid: number[] }).grid;
          return `${g.join('×')} ${s.window!.window}/${s.window!.shift}`;
        }),
    );
    expect([...seen].sort()).toEqual(
      [
        '56×56 7/0',
        '56×56 7/3',
        '28×28 7/0',
        '28×28 7/3',
        '14×14 7/0',
        '14×14 7/3',
        '7×7 7/0',
      ].sort(),
    );
    // encoder 2-2-6-2 plus decoder 6-2-2
    expect(p.steps.filter((s) => s.window)).toHaveLength(22);
  });

  it('memoryHandOffs: one STS chain through the encoder is 14 links in window layout', () => {
    // 12 units (2-2-6-2) and 3 Memory Merging nodes in one line: 15 nodes, 14 links;
    // per grid 2 (56²×96), 3 (28²×192), 7 (14²×384), 2 (7²×768)
    const h = ir('swin-unet-mam-sts').handOffs;
    expect(h).toHaveLength(14);
    expect(h.every((x) => x.layout === 'window' && x.window === 7)).toBe(true);
    const per = new Map<string, number>();
    for (const x of h) {
      const k = `${x.grid[0]}:${x.channels}`;
      per.set(k, (per.get(k) ?? 0) + 1);
    }
    expect(Object.fromEntries(per)).toEqual({ '56:96': 2, '28:192': 3, '14:384': 7, '7:768': 2 });
    // memory leaves a SW-MSA block (odd index) in shifted order, except on the 7² grid
    expect(h.filter((x) => x.shift === 3).map((x) => x.from.node)).toEqual([
      'layers.0.blocks.1',
      'layers.1.blocks.1',
      'layers.2.blocks.1',
      'layers.2.blocks.3',
      'layers.2.blocks.5',
    ]);
    expect(h.every((x) => x.to.port === 'memIn' && x.from.port === 'memOut')).toBe(true);
  });

  it('memoryHandOffs: the 5-2 chain adds 3 Memory Expanding and 10 decoder units (27 links); ISTS has a chain per stage (8)', () => {
    expect(ir('swin-unet-mam-sts-encdec').handOffs).toHaveLength(12 + 3 + 3 + 10 - 1);
    expect(ir('swin-unet-mam-ists').handOffs).toHaveLength(1 + 1 + 5 + 1);
  });

  it('memoryHandOffs: spatial layout hands memory on in grid order, with no window', () => {
    const a = analyse(source('swin-unet-mam-sts'));
    if (!a.ok) throw new Error('preset does not analyse');
    const o = resolveWindows(order(a.value));
    const spatial = {
      ...o,
      steps: o.steps.map((s) => {
        const m = s.outputs.memOut;
        if (m?.kind !== 'memory') return s;
        return { ...s, outputs: { ...s.outputs, memOut: { ...m, layout: 'spatial' as const } } };
      }),
    };
    const h = memoryHandOffs(spatial);
    expect(h.handOffs).toHaveLength(14);
    expect(h.handOffs.every((x) => x.layout === 'spatial' && x.window === 0 && x.shift === 0)).toBe(
      true,
    );
  });

  it('weights: the presets’ parameter counts (MAM-SPEC §3)', () => {
    expect(ir('swin-unet').params).toBe(41_380_836);
    expect(ir('swin-unet-mam-sts').params).toBe(42_930_468);
    expect(ir('swin-unet-mam-sts-encdec').params).toBe(44_480_100);
    expect(ir('demo-mam').params).toBe(760_104);
    const mm = ir('swin-unet-mam-sts').steps.find((s) => s.id === 'memory_merging.0')!;
    // LN(96), then Conv 2×2 stride 2, 96→192, no bias
    expect(mm.weights.map((w) => [w.name, w.shape])).toEqual([
      ['norm.weight', [96]],
      ['norm.bias', [96]],
      ['reduction.weight', [192, 96, 2, 2]],
    ]);
  });

  it('`mam inspect --plan --json` names the passes; `--passes` says what each found', () => {
    const file = 'presets/swin-unet-mam-sts.json';
    const json = JSON.parse(
      execFileSync('node', ['bin/mam.js', 'inspect', file, '--plan', '--json'], {
        encoding: 'utf8',
      }),
    );
    expect(json.passes).toEqual([...PASS_NAMES]);
    expect(json.plan).toEqual(JSON.parse(JSON.stringify(ir('swin-unet-mam-sts'))));
    const text = execFileSync('node', ['bin/mam.js', 'inspect', file, '--passes'], {
      encoding: 'utf8',
    });
    expect(text).toMatch(/4\. memoryHandOffs +14 memory hand-offs \(window layout\)/);
    expect(text).toMatch(/5\. weights +42,930,468 parameters/);
  });
});
