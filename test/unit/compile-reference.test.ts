/**
 * The compiled model against the float64 reference executor of the same graph
 * document (test/reference/graph.ts): a 2-stage Swin-Unet-MAM with window 4
 * and shifted blocks, ISTS chains and, separately, an STS chain with memory
 * merging and expanding, in both memory layouts. Logits and every memOut port
 * (cpu backend) ≤ 1e-4 relative to max|ref|; gradients of Σ logits·R w.r.t.
 * several weights vs float64 central differences of the reference graph on
 * four entries per weight (the two largest-gradient ones and two random ones) ≤ 1e-4.
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTorch } from '../../src/compile/layout.ts';
import type { MemoryWiring } from '../../src/graph/presets.ts';
import { refGraphForward, type RefState } from '../reference/graph.ts';
import { printMeasured, record } from '../reference/harness.ts';
import { relErr, Rng, type F64 } from '../reference/math.ts';
import { compileDoc, randomizeWeights, refStateOf, smallMam, SMALL } from './compile-fixtures.ts';

const B = 2;
const inputShape: [number, number, number, number] = [
  B,
  SMALL.imageSize,
  SMALL.imageSize,
  SMALL.inChannels,
];
const x64 = new Rng(11).array(inputShape.reduce((a, b) => a * b, 1));

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => printMeasured('compile-reference'));

function setup(
  wiring: MemoryWiring,
  layout: 'window' | 'spatial',
  mode: 'conv' | 'avg' | 'max' = 'conv',
) {
  const doc = smallMam(wiring, layout, mode);
  const { plan, model } = compileDoc(doc);
  randomizeWeights(model, 5); // same values for both layouts: the layout is not a weight
  return { doc, plan, model, state: refStateOf(model) };
}

const cases: [MemoryWiring, 'window' | 'spatial', 'conv' | 'avg' | 'max'][] = [
  ['ists', 'window', 'conv'],
  ['ists', 'spatial', 'conv'],
  ['sts', 'window', 'conv'],
  ['sts', 'spatial', 'conv'],
  ['sts', 'window', 'max'],
  ['sts', 'spatial', 'avg'],
];

describe('compiled forward = float64 reference of the graph', () => {
  const logitsBy = new Map<string, F64>();
  for (const [wiring, layout, mode] of cases) {
    it(`${wiring.toUpperCase()}, ${layout} layout, merging ${mode}: logits and memory ports ≤ 1e-4`, () => {
      const { doc, plan, model, state } = setup(wiring, layout, mode);
      const units = doc.nodes.filter(
        (n) => n.type === 'mam-swin-block' || n.type.startsWith('memory-'),
      );
      const keep = units.map((n) => ({ node: n.id, port: 'memOut' }));
      const x = tf.tensor(Float32Array.from(x64), inputShape) as tf.Tensor4D;
      const out = model.forward(x, { keep });
      const ref = refGraphForward(doc, plan, state, x64, B);
      expect(out.logits.shape).toEqual(ref.shape);
      const err = record(
        `logits ${wiring} ${layout} ${mode}`,
        relErr(out.logits.dataSync(), ref.logits),
      );
      expect(err).toBeLessThanOrEqual(1e-4);
      expect(units.length).toBeGreaterThanOrEqual(wiring === 'sts' ? 8 : 6);
      for (const k of keep) {
        const e = record(
          `memOut ${wiring} ${layout} ${mode}`,
          relErr(out.ports[`${k.node}:memOut`].dataSync(), ref.ports.get(`${k.node}:memOut`)!),
        );
        expect(e, k.node).toBeLessThanOrEqual(1e-4);
      }
      if (mode === 'conv') logitsBy.set(`${wiring} ${layout}`, ref.logits);
      tf.dispose([x, out.logits, ...Object.values(out.ports)]);
      model.dispose();
    });
  }
  it('the two memory layouts give different logits on shifted chains (reference and ours agree on both)', () => {
    for (const w of ['ists', 'sts']) {
      const d = relErr(logitsBy.get(`${w} window`)!, logitsBy.get(`${w} spatial`)!);
      expect(d, w).toBeGreaterThan(1e-3);
    }
  });
});

/** Float64 central differences of Σ ref·R at chosen entries of one weight (PyTorch layout). */
function refGradAt(
  run: (s: RefState) => F64,
  state: RefState,
  R: F64,
  key: string,
  entries: number[],
): F64 {
  const t = state.get(key)!;
  const loss = (): number => {
    const y = run(state);
    let s = 0;
    for (let i = 0; i < y.length; i++) s += y[i] * R[i];
    return s;
  };
  return Float64Array.from(entries, (e) => {
    const w0 = t.data[e];
    const h = 1e-5 * Math.max(1, Math.abs(w0));
    t.data[e] = w0 + h;
    const lp = loss();
    t.data[e] = w0 - h;
    const lm = loss();
    t.data[e] = w0;
    return (lp - lm) / (2 * h);
  });
}

describe('compiled gradients = float64 reference (central differences)', () => {
  const gradCases: [MemoryWiring, 'window' | 'spatial', string[]][] = [
    [
      'sts',
      'window',
      [
        'layers.0.blocks.0/attn.qkv.weight',
        'layers.1.blocks.1/attn.qkv.weight',
        'layers.0.blocks.1/attn.relative_position_bias_table',
        'memory_merging.0/reduction.weight',
        'memory_expanding.1/expand.weight',
        'layers.0.downsample/reduction.weight',
        'patch_embed/proj.weight',
        'output/weight',
      ],
    ],
    [
      'sts',
      'spatial',
      [
        'layers.0.blocks.0/attn.qkv.weight',
        'memory_merging.0/reduction.weight',
        'memory_expanding.1/norm.weight',
        'output/weight',
      ],
    ],
    [
      'ists',
      'window',
      [
        'layers.0.blocks.0/attn.qkv.weight',
        'layers_up.1.blocks.0/attn.qkv.weight',
        'concat_back_dim.1/weight',
        'output/weight',
      ],
    ],
  ];
  for (const [wiring, layout, keys] of gradCases) {
    it(`${wiring.toUpperCase()}, ${layout} layout: d(Σ logits·R)/dW for ${keys.length} weights ≤ 1e-4`, () => {
      const { doc, plan, model, state } = setup(wiring, layout);
      const rng = new Rng(23);
      const x = tf.tensor(Float32Array.from(x64), inputShape) as tf.Tensor4D;
      const outShape = [B, SMALL.imageSize, SMALL.imageSize, SMALL.classes];
      const R = rng.array(outShape.reduce((a, b) => a * b, 1));
      const Rt = tf.tensor(Float32Array.from(R), outShape);
      const vars = keys.map((k) => {
        const w = model.weights.get(k);
        if (!w) throw new Error(`no weight ${k}`);
        return w;
      });
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(model.forward(x, { training: false }).logits, Rt)) as tf.Scalar,
        vars.map((v) => v.variable),
      );
      const run = (s: RefState) => refGraphForward(doc, plan, s, x64, B).logits;
      for (const w of vars) {
        const g = toTorch(w.spec, grads[w.variable.name]);
        const ours = g.dataSync();
        g.dispose();
        // the 2 largest-gradient entries and 2 random ones
        const byMag = Array.from(ours.keys()).sort((a, b) => Math.abs(ours[b]) - Math.abs(ours[a]));
        const entries = [
          ...byMag.slice(0, 2),
          ...Array.from({ length: 2 }, () => Math.floor(rng.uniform() * ours.length)),
        ];
        const ref = refGradAt(run, state, R, `${w.node}.${w.spec.name}`, entries);
        const err = record(
          `grad ${wiring} ${layout} ${w.key}`,
          relErr(
            Float64Array.from(entries, (e) => ours[e]),
            ref,
          ),
        );
        expect(err, w.key).toBeLessThanOrEqual(1e-4);
      }
      tf.dispose([x, Rt, value, ...Object.values(grads)]);
      model.dispose();
    });
  }
});
