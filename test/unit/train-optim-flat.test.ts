/**
 * The optimizers update every weight from flat buckets: several weights of
 * different shapes (and buckets cut small so that weights land in different
 * buckets, one larger than a bucket), a step where one weight has no gradient,
 * against a float64 loop per element; per-key state round trips across bucket
 * layouts; a kernel count that does not grow with the number of weights.
 */
import * as tf from '#tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import {
  ADAMW_DEFAULTS,
  Optimizer,
  SGD_DEFAULTS,
  type OptimizerSettings,
} from '../../src/train/optim.ts';

const SHAPES: Record<string, number[]> = {
  a: [3, 4],
  b: [5],
  c: [2, 3, 2],
  d: [1],
  e: [7],
};
const LRS = [0.01, 0.007, 0.004];
/** Step (0-based) at which `b` has no gradient. */
const SKIP = { step: 1, name: 'b' };

/** Deterministic values in (-1, 1), rounded to float32 so both sides start alike. */
function values(seed: number, n: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return Math.fround((x / 2147483648) * 2 - 1);
  });
}
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const init = (name: string) => values(name.charCodeAt(0), size(SHAPES[name]));
const grad = (name: string, step: number) =>
  values(1000 * (step + 1) + name.charCodeAt(0), size(SHAPES[name]));

/** PyTorch's update written as plain float64 loops, one element at a time (global step t, as the optimizer keeps it). */
function reference(s: OptimizerSettings) {
  const p: Record<string, number[]> = {};
  const m: Record<string, number[]> = {};
  const v: Record<string, number[]> = {};
  for (const n in SHAPES) {
    p[n] = init(n);
    m[n] = p[n].map(() => 0);
    v[n] = p[n].map(() => 0);
  }
  const after: Record<string, number[]>[] = [];
  LRS.forEach((lr, step) => {
    const t = step + 1;
    for (const n in SHAPES) {
      if (step === SKIP.step && n === SKIP.name) continue;
      const g = grad(n, step);
      for (let i = 0; i < g.length; i++) {
        if (s.kind === 'sgd') {
          const d = g[i] + s.weightDecay * p[n][i];
          m[n][i] = s.momentum * m[n][i] + d;
          p[n][i] -= lr * m[n][i];
        } else {
          p[n][i] *= 1 - lr * s.weightDecay;
          m[n][i] = s.beta1 * m[n][i] + (1 - s.beta1) * g[i];
          v[n][i] = s.beta2 * v[n][i] + (1 - s.beta2) * g[i] * g[i];
          const denom = Math.sqrt(v[n][i]) / Math.sqrt(1 - s.beta2 ** t) + s.eps;
          p[n][i] -= (lr / (1 - s.beta1 ** t)) * (m[n][i] / denom);
        }
      }
    }
    after.push(Object.fromEntries(Object.entries(p).map(([n, x]) => [n, x.slice()])));
  });
  return { after, m, v };
}

function variables(): Map<string, tf.Variable> {
  return new Map(Object.keys(SHAPES).map((n) => [n, tf.variable(tf.tensor(init(n), SHAPES[n]))]));
}

function step(opt: Optimizer, step: number) {
  const grads: Record<string, tf.Tensor> = {};
  for (const n in SHAPES)
    if (!(step === SKIP.step && n === SKIP.name)) grads[n] = tf.tensor(grad(n, step), SHAPES[n]);
  opt.apply(grads, LRS[step]);
  tf.dispose(Object.values(grads));
}

const near = (got: ArrayLike<number>, want: number[], tol: number) => {
  expect(got.length).toBe(want.length);
  const worst = Math.max(...want.map((w, i) => Math.abs(got[i] - w)));
  expect(worst).toBeLessThan(tol);
};

const SETTINGS: [string, OptimizerSettings][] = [
  ['adamw, weight decay 0.05', { ...ADAMW_DEFAULTS, weightDecay: 0.05 }],
  ['sgd, momentum 0.9, weight decay 1e-2', { ...SGD_DEFAULTS, weightDecay: 1e-2 }],
];

afterAll(async () => {
  await initBackend('cpu');
});

describe.each(['cpu', 'wasm'] as const)('flat optimizer update on %s', (backend) => {
  it.each(SETTINGS)(
    '%s: five weights, one bucket and buckets of 8, against float64',
    async (_, s) => {
      expect((await initBackend(backend)).name).toBe(backend);
      const ref = reference(s);
      for (const cap of [undefined, 8]) {
        const params = variables();
        const opt = new Optimizer(s, params, cap);
        let tensors = 0;
        for (let t = 0; t < LRS.length; t++) {
          step(opt, t);
          for (const [n, v] of params) near(v.dataSync(), ref.after[t][n], 2e-6);
          if (t === 0) tensors = tf.memory().numTensors;
        }
        expect(tf.memory().numTensors).toBe(tensors);
        const snap = await opt.snapshot();
        expect(Object.keys(snap.slots)).toEqual(Object.keys(SHAPES));
        for (const n in SHAPES) {
          expect(snap.slots[n].shape).toEqual(SHAPES[n]);
          near(snap.slots[n].values[0], ref.m[n], 2e-6);
          if (s.kind === 'adamw') near(snap.slots[n].values[1], ref.v[n], 1e-8);
        }
        opt.dispose();
        params.forEach((v) => v.dispose());
      }
    },
  );

  it('state saved from buckets of 8 restores into one bucket and continues bit for bit', async () => {
    expect((await initBackend(backend)).name).toBe(backend);
    const s = { ...ADAMW_DEFAULTS, weightDecay: 0.05 };
    const pa = variables();
    const a = new Optimizer(s, pa, 8);
    step(a, 0);
    const pb = new Map([...pa].map(([n, v]) => [n, tf.variable(v.clone())]));
    const b = new Optimizer(s, pb);
    b.restore(await a.snapshot());
    expect(b.step).toBe(1);
    step(a, 1);
    step(a, 2);
    step(b, 1);
    step(b, 2);
    for (const [n, v] of pa)
      expect(Array.from(pb.get(n)!.dataSync())).toEqual(Array.from(v.dataSync()));
    a.dispose();
    b.dispose();
    [...pa.values(), ...pb.values()].forEach((v) => v.dispose());
  });

  it('kernels per AdamW update do not grow with the number of weights', async () => {
    expect((await initBackend(backend)).name).toBe(backend);
    const kernels = async (n: number) => {
      const params = new Map(
        Array.from({ length: n }, (_, i) => [`w${i}`, tf.variable(tf.fill([i + 2, 3], 0.5))]),
      );
      const grads = Object.fromEntries([...params].map(([k, v]) => [k, tf.onesLike(v)]));
      const opt = new Optimizer(ADAMW_DEFAULTS, params);
      const info = await tf.profile(() => opt.apply(grads, 0.01));
      opt.dispose();
      tf.dispose([...params.values(), ...Object.values(grads)]);
      // reshapes only relabel a shape (no copy, no GPU dispatch); count the rest
      return info.kernels.filter((k) => k.name !== 'Reshape').length;
    };
    const few = await kernels(4);
    expect(await kernels(16)).toBe(few);
    // the AdamW arithmetic, two concatenations and at most one split
    expect(few).toBeLessThanOrEqual(17);
  });

  it('frees each bucket’s temporaries before the next: transient memory of a few buckets, not of the model', async () => {
    expect((await initBackend(backend)).name).toBe(backend);
    // 8 weights of 1000 float32 (32 kB), buckets of 1000: 8 buckets of 4 kB
    const params = new Map(
      Array.from({ length: 8 }, (_, i) => [`w${i}`, tf.variable(tf.fill([10, 100], 0.5))]),
    );
    const grads = Object.fromEntries([...params].map(([k, v]) => [k, tf.onesLike(v)]));
    const opt = new Optimizer({ ...ADAMW_DEFAULTS, weightDecay: 0.01 }, params, 1000);
    opt.apply(grads, 0.01);
    const before = tf.memory().numBytes;
    const info = await tf.profile(() => opt.apply(grads, 0.01));
    // AdamW makes ~16 temporaries of its input's size; over the whole model at
    // once that is 16 × 32 kB, per bucket 16 × 4 kB
    expect(info.peakBytes - before).toBeLessThan(3 * 32_000);
    expect(tf.memory().numBytes).toBe(before);
    opt.dispose();
    tf.dispose([...params.values(), ...Object.values(grads)]);
  });

  it('refuses state that lacks a slot of a weight, naming both, and changes nothing', async () => {
    expect((await initBackend(backend)).name).toBe(backend);
    const params = variables();
    const opt = new Optimizer(ADAMW_DEFAULTS, params, 8);
    step(opt, 0);
    const snap = await opt.snapshot();
    const other = new Optimizer(ADAMW_DEFAULTS, params, 8);
    snap.slots.c.values.length = 1;
    expect(() => other.restore(snap)).toThrow(/^optimizer state for c lacks exp_avg_sq$/);
    expect(other.step).toBe(0);
    expect(Math.max(...(await other.snapshot()).slots.a.values[0])).toBe(0);
    opt.dispose();
    other.dispose();
    params.forEach((v) => v.dispose());
  });
});
