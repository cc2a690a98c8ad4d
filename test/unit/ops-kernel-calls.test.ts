/**
 * Kernel calls of the ops a training step is made of, forward and backward,
 * on wasm as training runs them. tfjs's engine spends microseconds of
 * JavaScript on every call, more on one recorded on the gradient tape: it
 * saves a copy of each tensor the gradient will read (one Identity call
 * each), and a reshape recorded there costs another in the backward pass.
 * The counts follow from each op's structure: one node on the tape that
 * saves what its gradient reads, its reshapes off the tape. A demo training
 * step stays within a budget of calls (it made 3,429 before these ops were
 * written so). The values are checked against float64 references in
 * ops-linear-grad, ops-attention(-wasm), ops-windows and ops-resample.
 */
import { readFileSync } from 'node:fs';
import * as tf from '#tfjs';
import { describe, expect, it } from 'vitest';
import {
  addSame,
  dropPath,
  layerNorm,
  linear,
  tokensToWindows,
  windowAttention,
  windowsToTokens,
} from '../../src/ops/index.ts';
import { CompiledModel } from '../../src/compile/model.ts';
import { planGraph } from '../../src/compile/plan.ts';
import { kernels } from '../../src/compile/kernels/index.ts';
import { loadGraph } from '../../src/graph/load.ts';
import { train } from '../../src/train/loop.ts';
import { catalogue } from '../../nodes/index.ts';
import { benchSettings } from '../../bench/util.ts';
import { blockFromList, randomBlock, tensor } from '../reference/harness.ts';
import { Rng } from '../reference/math.ts';
import { onWasmAsTraining } from '../reference/wasm.ts';

onWasmAsTraining();

/** Kernel calls by name while `fn` runs (a custom gradient's forward counts as one more). */
async function callsOf(fn: () => tf.Tensor | tf.Tensor[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let result: tf.Tensor | tf.Tensor[] = [];
  const prof = await tf.profile(() => {
    result = fn();
    return result;
  });
  tf.dispose(result);
  for (const k of prof.kernels) out.set(k.name, (out.get(k.name) ?? 0) + 1);
  return out;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe('kernel calls, forward and backward, on wasm', () => {
  const rng = new Rng(5);
  const t = (shape: number[]) =>
    tensor(
      rng.array(
        shape.reduce((a, b) => a * b, 1),
        1,
      ),
      shape,
    );

  it('a Linear of rank-3 tokens: one tape node saving x and W; its reshapes off the tape', async () => {
    const [x, w, b, dy] = [t([2, 16, 8]), t([8, 12]), t([12]), t([2, 16, 12])];
    const calls = await callsOf(() =>
      tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        linear(xx, { weight: ww as tf.Tensor2D, bias: bb as tf.Tensor1D }),
      )([x, w, b], dy),
    );
    expect(calls.get('Identity')).toBe(2);
    // forward: the node, 2 saved, 3 reshapes, the product; backward: 3 reshapes, 2 products, the row sum
    expect(total(calls)).toBeLessThanOrEqual(13);
    tf.dispose([x, w, b, dy]);
  });

  it('a Linear and a LayerNorm of variables save only their input; the gradients read the variables', async () => {
    const [M, K, N] = [6, 4, 3];
    const [xv, wv, dyv] = [rng.array(M * K, 1), rng.array(K * N, 1), rng.array(M * N, 1)];
    const [x, dy] = [tensor(xv, [1, M, K]), tensor(dyv, [1, M, N])];
    const w = tf.variable(tensor(wv, [K, N]));
    const b = tf.variable(tf.zeros([N]));
    // the variables themselves go in as the weights (as the compiled model passes them)
    const f = (xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      linear(xx, { weight: ww as tf.Tensor2D, bias: bb as tf.Tensor1D });
    const calls = await callsOf(() => tf.grads(f)([x, w, b], dy));
    expect(calls.get('Identity')).toBe(1);
    // dW = xᵀ·dy and db = Σ dy in float64
    const grads = tf.grads(f)([x, w, b], dy);
    const [dw, db] = [grads[1].dataSync(), grads[2].dataSync()];
    for (let k = 0; k < K; k++)
      for (let n = 0; n < N; n++) {
        let ref = 0;
        for (let m = 0; m < M; m++) ref += xv[m * K + k] * dyv[m * N + n];
        expect(Math.abs(dw[k * N + n] - ref)).toBeLessThan(1e-5);
      }
    for (let n = 0; n < N; n++) {
      let ref = 0;
      for (let m = 0; m < M; m++) ref += dyv[m * N + n];
      expect(Math.abs(db[n] - ref)).toBeLessThan(1e-5);
    }
    const gamma = tf.variable(tf.ones([K]));
    const beta = tf.variable(tf.zeros([K]));
    const normCalls = await callsOf(() =>
      tf.grads((xx: tf.Tensor) =>
        layerNorm(xx, {
          weight: gamma as tf.Variable<tf.Rank.R1>,
          bias: beta as tf.Variable<tf.Rank.R1>,
        }),
      )([x], tf.onesLike(x)),
    );
    expect(normCalls.get('Identity')).toBe(1);
    tf.dispose([x, dy, w, b, gamma, beta, ...grads]);
  });

  it('drop-path in training: one tape node saving the mask; no casts', async () => {
    const [x, dy] = [t([4, 16, 8]), t([4, 16, 8])];
    const opts = { rate: 0.5, training: true, seed: 3 };
    const calls = await callsOf(() => tf.grads((xx: tf.Tensor) => dropPath(xx, opts))([x], dy));
    expect(calls.get('Identity')).toBe(1);
    expect(calls.get('Cast')).toBeUndefined();
    // the gradient is dy times the sample's scale, 0 or 1/keep, which the forward of ones shows
    const ones = tf.onesLike(x);
    const scale = dropPath(ones, opts);
    const [dx] = tf.grads((xx: tf.Tensor) => dropPath(xx, opts))([x], dy);
    const [d, s, g] = [dy, scale, dx].map((a) => a.dataSync());
    s.forEach((v) => expect([0, 2]).toContain(v));
    g.forEach((v, i) => expect(v).toBe(Math.fround(d[i] * s[i])));
    tf.dispose([x, dy, ones, scale, dx]);
  });

  it('a residual add: one tape node, nothing saved; the gradient reaches both inputs', async () => {
    const [a, b, dy] = [t([2, 16, 8]), t([2, 16, 8]), t([2, 16, 8])];
    const calls = await callsOf(() =>
      tf.grads((p: tf.Tensor, q: tf.Tensor) => addSame(p, q))([a, b], dy),
    );
    // forward: the node and Add; backward: a copy of dy for each input
    expect(calls.get('Add')).toBe(1);
    expect(calls.get('Identity')).toBe(2);
    expect(total(calls)).toBe(4);
    const g = tf.grads((p: tf.Tensor, q: tf.Tensor) => addSame(p, q))([a, b], dy);
    for (const gi of g) expect(Array.from(gi.dataSync())).toEqual(Array.from(dy.dataSync()));
    expect(() => addSame(a, t([2, 8, 16]))).toThrow(/2×16×8 and 2×8×16/);
    tf.dispose([a, b, dy, ...g]);
  });

  it('shifted windows and back: one tape node each, nothing saved', async () => {
    const grid: [number, number] = [8, 8];
    const [x, dy] = [t([2, 64, 8]), t([2, 64, 8])];
    const calls = await callsOf(() =>
      tf.grads((xx: tf.Tensor) =>
        windowsToTokens(tokensToWindows(xx as tf.Tensor3D, grid, 4, 2), grid, 4, 2),
      )([x], dy),
    );
    expect(calls.get('Identity')).toBeUndefined();
    // each way: 2 rolls (a reshape, 2 slices, a concat), a reshape, a transpose, a reshape
    expect(total(calls)).toBeLessThanOrEqual(4 * 11 + 2);
    tf.dispose([x, dy]);
  });

  it('a MAM SW-MSA unit: q, k and v from one tape node, no padded weight gradients', async () => {
    const [B, C, heads, w] = [2, 8, 2, 4];
    const grid: [number, number] = [8, 8];
    const p = randomBlock(rng, C, heads, w);
    const attn = blockFromList(p.list, true).attn;
    const [x, m, dy] = [t([B, 64, C]), t([B, 64, C]), t([B, 64, C])];
    const calls = await callsOf(() =>
      tf.grads((xx: tf.Tensor, qkvW: tf.Tensor, qkvB: tf.Tensor) => {
        const out = windowAttention(
          xx as tf.Tensor3D,
          { ...attn, qkv: { weight: qkvW as tf.Tensor2D, bias: qkvB as tf.Tensor1D } },
          { heads, window: w, shift: 2, grid },
          { in: m as tf.Tensor3D, layout: 'window' },
        );
        return tf.add(out.y, out.memOut!);
      })([x, attn.qkv.weight, attn.qkv.bias!], dy),
    );
    // before: each of q, k, v's weight and bias sliced on the tape, each gradient padded back
    expect(calls.get('PadV2')).toBeUndefined();
    // saved: x and W by the q/k/v node and the projection's, 4 by the attention core, 1 by
    // each reshape of the memory in and out; the copies of dy for the memory's add and the
    // test's own add (before: 8 saved by q/k/v's slices and scaling, 6 by their Linears, 6
    // by the windows' reshapes, 2 by the memory's add)
    expect(calls.get('Identity')).toBeLessThanOrEqual(14);
    tf.dispose([x, m, dy, ...p.list]);
  });

  it('a demo-mam training step (batch 2) within 2,450 kernel calls', async () => {
    const g = loadGraph(readFileSync('presets/demo-mam.json', 'utf8'), catalogue);
    if (!g.ok) throw new Error('demo-mam does not load');
    const planned = planGraph(g.graph, catalogue, kernels);
    if (!planned.ok) throw new Error('demo-mam does not compile');
    const plan = planned.plan;
    const model = CompiledModel.create(plan, { seed: 1 });
    const [, H, W, Cin] = plan.input.shape;
    const r = new Rng(9);
    const slice = () => ({
      image: Float32Array.from(r.array(H * W * Cin, 1)),
      label: Uint8Array.from({ length: H * W }, () =>
        Math.floor(r.uniform() * plan.classNames.length),
      ),
      width: W,
      height: H,
      channels: Cin,
    });
    const data = {
      classNames: plan.classNames,
      train: [slice(), slice()],
      val: [],
      fingerprint: 'x',
    };
    const settings = benchSettings(2, 1, false);
    // the first step builds the constants it keeps
    await train({ model, data, settings });
    const prof = await tf.profile(async () => {
      await train({ model, data, settings });
      return tf.scalar(0);
    });
    expect(prof.kernels.length).toBeLessThanOrEqual(2450);
    model.dispose();
  });
});
