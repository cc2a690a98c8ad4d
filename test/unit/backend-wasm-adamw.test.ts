/**
 * The optimizer step on wasm as one fused kernel per bucket
 * (src/backend/wasm-adamw.ts): AdamW and SGD against plain float64 loops over
 * several steps (weight decay; bias correction at t = 1 and none left at
 * t = 10⁶; gradients of 1e-20 and 1e15; lengths 1, 3, 5, 7, 13, 30, 33 that
 * are not multiples of 4 next to 16; a weight without a gradient in one
 * step); to the bit the composite update's (same float32 operations, so the
 * saved state is the same bytes); one kernel per bucket; inputs never written
 * over (a reshape or clone of a weight keeps its value); no tensor or byte
 * left behind. The SIMD module alone, on a plain and on a shared memory (the
 * threaded build's), gives the JavaScript float32 loop's bits.
 */
import * as tf from '#tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { ADAMW, SGD, registerWasmOptimizers } from '../../src/backend/wasm-adamw.ts';
import {
  adamwScalar,
  optimizerSimd,
  sgdScalar,
  type AdamWScalars,
} from '../../src/backend/wasm-adamw-simd.ts';
import {
  ADAMW_DEFAULTS,
  Optimizer,
  encodeOptimizerState,
  type OptimizerSettings,
} from '../../src/train/optim.ts';

afterAll(async () => {
  registerWasmOptimizers();
  await tf.setBackend('cpu');
});

async function onWasm() {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(info.message);
}

/** name → shape, and the scale of its gradients. */
const WEIGHTS: Record<string, { shape: number[]; gradScale: number; init?: number }> = {
  a: { shape: [1], gradScale: 1 },
  b: { shape: [3], gradScale: 1 },
  tiny: { shape: [5], gradScale: 1e-20 },
  c: { shape: [7], gradScale: 1 },
  d: { shape: [4, 4], gradScale: 1 },
  large: { shape: [13], gradScale: 1e15 },
  e: { shape: [2, 3, 5], gradScale: 0.01, init: 1000 },
  f: { shape: [33], gradScale: 1 },
};
const NAMES = Object.keys(WEIGHTS);
const LRS = [0.01, 0.008, 0.006, 0.004];
/** `c` has no gradient in step 2 (0-based). */
const skipped = (name: string, step: number) => name === 'c' && step === 2;
/** Steps restored (AdamW's t) before the last two updates: bias corrections 1 − β^t are 1 in float64. */
const LATE = 1e6;

/** Deterministic float32 values in (−scale, scale). */
function values(seed: number, n: number, scale: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return Math.fround(((x / 2147483648) * 2 - 1) * scale);
  });
}
const size = (n: string) => WEIGHTS[n].shape.reduce((a, b) => a * b, 1);
const init = (n: string) => values(7 + n.charCodeAt(0), size(n), WEIGHTS[n].init ?? 1);
const grad = (n: string, step: number) =>
  values(1000 * (step + 1) + n.charCodeAt(0), size(n), WEIGHTS[n].gradScale);

interface State {
  w: Record<string, number[]>;
  slots: Record<string, number[][]>;
}

/** PyTorch's updates as float64 loops, one element at a time; step `s` uses AdamW's t = `t0 + s + 1`. */
function reference(s: OptimizerSettings, steps: number[], t0: number, from: State): State {
  const w = structuredClone(from.w);
  const slots = structuredClone(from.slots);
  for (const step of steps) {
    const t = t0 + step + 1;
    const lr = LRS[step];
    for (const n of NAMES) {
      if (skipped(n, step)) continue;
      const g = grad(n, step);
      const [m, v] = slots[n];
      for (let i = 0; i < g.length; i++) {
        if (s.kind === 'sgd') {
          const b = s.momentum * m[i] + g[i] + s.weightDecay * w[n][i];
          if (s.momentum) m[i] = b;
          w[n][i] -= lr * b;
        } else {
          w[n][i] *= 1 - lr * s.weightDecay;
          m[i] = s.beta1 * m[i] + (1 - s.beta1) * g[i];
          v[i] = s.beta2 * v[i] + (1 - s.beta2) * g[i] * g[i];
          const denom = Math.sqrt(v[i]) / Math.sqrt(1 - s.beta2 ** t) + s.eps;
          w[n][i] -= (lr / (1 - s.beta1 ** t)) * (m[i] / denom);
        }
      }
    }
  }
  return { w, slots };
}

const start = (kind: OptimizerSettings['kind']): State => ({
  w: Object.fromEntries(NAMES.map((n) => [n, init(n)])),
  slots: Object.fromEntries(
    NAMES.map((n) => [n, (kind === 'sgd' ? [0] : [0, 0]).map(() => init(n).map(() => 0))]),
  ),
});

function variables(): Map<string, tf.Variable> {
  return new Map(NAMES.map((n) => [n, tf.variable(tf.tensor(init(n), WEIGHTS[n].shape))]));
}

function apply(opt: Optimizer, step: number) {
  const grads: Record<string, tf.Tensor> = {};
  for (const n of NAMES)
    if (!skipped(n, step)) grads[n] = tf.tensor(grad(n, step), WEIGHTS[n].shape);
  opt.apply(grads, LRS[step]);
  tf.dispose(Object.values(grads));
}

async function state(params: Map<string, tf.Variable>, opt: Optimizer): Promise<State> {
  const snap = await opt.snapshot();
  return {
    w: Object.fromEntries([...params].map(([n, v]) => [n, Array.from(v.dataSync())])),
    slots: Object.fromEntries(
      NAMES.map((n) => [n, snap.slots[n].values.map((x) => Array.from(x))]),
    ),
  };
}

/**
 * Worst |got − want| over all weights and slots, in units of `rel` times the
 * tensor's largest |want| (float32 rounding is relative to the operands, and
 * an element can be a small difference of large ones) plus 1e-44 (below
 * float32's smallest normal, 1.2e-38, its spacing is 1.4e-45 whatever the
 * value: v of 1e-20 gradients is ~1e-43); ≤ 1 passes.
 */
function worst(got: State, want: State, rel: number): number {
  let out = 0;
  const at = (g: number[], w: number[]) => {
    const scale = rel * Math.max(...w.map(Math.abs)) + 1e-44;
    w.forEach((x, i) => (out = Math.max(out, Math.abs(g[i] - x) / scale)));
  };
  for (const n of NAMES) {
    at(got.w[n], want.w[n]);
    want.slots[n].forEach((s, k) => at(got.slots[n][k], s));
  }
  return out;
}

const SETTINGS: [string, OptimizerSettings][] = [
  ['AdamW, weight decay 0.05', { ...ADAMW_DEFAULTS, weightDecay: 0.05 }],
  ['SGD, momentum 0.9, weight decay 1e-4', { kind: 'sgd', momentum: 0.9, weightDecay: 1e-4 }],
  ['SGD without momentum or weight decay', { kind: 'sgd', momentum: 0, weightDecay: 0 }],
];

/**
 * Steps 0 and 1 from the start, a restore at t = LATE, steps 2 and 3, in
 * buckets of `cap`; the state after both parts, and the kernels of step 3.
 */
async function run(s: OptimizerSettings, cap?: number) {
  const params = variables();
  const opt = new Optimizer(s, params, cap);
  apply(opt, 0);
  const tensors = tf.memory().numTensors;
  const bytes = tf.memory().numBytes;
  apply(opt, 1);
  const early = await state(params, opt);
  const snap = await opt.snapshot();
  opt.restore({ ...snap, step: LATE });
  apply(opt, 2);
  const profile = await tf.profile(() => apply(opt, 3));
  const late = await state(params, opt);
  const saved = encodeOptimizerState(await opt.snapshot());
  const leaked = [tf.memory().numTensors - tensors, tf.memory().numBytes - bytes];
  opt.dispose();
  params.forEach((v) => v.dispose());
  const kernels = profile.kernels.map((k) => k.name).filter((k) => k !== 'Reshape');
  return { early, late, saved, leaked, kernels };
}

/** `run` with the composite update (the fused kernels unregistered meanwhile). */
async function composite(s: OptimizerSettings, cap?: number) {
  tf.unregisterKernel(ADAMW, 'wasm');
  tf.unregisterKernel(SGD, 'wasm');
  try {
    return await run(s, cap);
  } finally {
    registerWasmOptimizers();
  }
}

describe('fused optimizer step on wasm', () => {
  it.each(SETTINGS)(
    '%s: float64 within 1e-6 of each tensor’s largest value, four steps',
    async (_, s) => {
      await onWasm();
      const r = await run(s);
      const early = reference(s, [0, 1], 0, start(s.kind));
      const late = reference(s, [2, 3], LATE, early);
      expect(worst(r.early, early, 1e-6)).toBeLessThan(1);
      expect(worst(r.late, late, 1e-6)).toBeLessThan(1);
      expect(r.leaked).toEqual([0, 0]);
    },
  );

  it.each(SETTINGS)(
    '%s: the composite update’s floats to the bit, and the same saved state',
    async (_, s) => {
      await onWasm();
      for (const cap of [undefined, 40]) {
        const fused = await run(s, cap);
        const comp = await composite(s, cap);
        expect(fused.late).toEqual(comp.late);
        expect(fused.early).toEqual(comp.early);
        expect(Buffer.from(fused.saved).equals(Buffer.from(comp.saved))).toBe(true);
      }
    },
  );

  it('one kernel per bucket, whatever the number of weights', async () => {
    await onWasm();
    // buckets of 40: a, b, tiny, c, d | large | e | f
    expect((await run(ADAMW_DEFAULTS, 40)).kernels).toEqual(Array(4).fill(ADAMW));
    expect((await run(ADAMW_DEFAULTS)).kernels).toEqual([ADAMW]);
    expect((await run({ kind: 'sgd', momentum: 0.9, weightDecay: 0 })).kernels).toEqual([SGD]);
  });

  it('writes new tensors: a reshape and a clone of a weight keep the old values', async () => {
    await onWasm();
    const params = variables();
    const opt = new Optimizer(ADAMW_DEFAULTS, params);
    const w = params.get('f')!;
    const before = Array.from(w.dataSync());
    const view = tf.reshape(w, [3, 11]);
    const copy = w.clone();
    apply(opt, 0);
    expect(Array.from(w.dataSync())).not.toEqual(before);
    expect(Array.from(view.dataSync())).toEqual(before);
    expect(Array.from(copy.dataSync())).toEqual(before);
    tf.dispose([view, copy]);
    opt.dispose();
    params.forEach((v) => v.dispose());
  });
});

describe('the optimizer SIMD module', () => {
  const N = 64; // floats per array; the slots start 3 floats in (not 16-byte aligned)
  const scalars: AdamWScalars = [
    1 - 0.01 * 0.05,
    0.9,
    0.1,
    0.999,
    0.001,
    Math.sqrt(1 - 0.999 ** 3),
    1e-8,
    0.01 / (1 - 0.9 ** 3),
  ];
  it.each([false, true])('shared memory %s: the JavaScript loop’s floats to the bit', (shared) => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared });
    const simd = optimizerSimd(memory)!;
    expect(simd).not.toBeNull();
    const heap = new Float32Array(memory.buffer);
    const names = ['w', 'g', 'm', 'v', 'wo', 'mo', 'vo'];
    const at = Object.fromEntries(names.map((n, i) => [n, i * 2 * N]));
    const arr = (n: string) => heap.subarray(at[n], at[n] + 2 * N);
    // gradients from 1e-20 to 1e15, weights and slots of either sign (v ≥ 0)
    names.slice(0, 4).forEach((n, k) => {
      const xs = values(11 + k, 2 * N, 1).map((x, i) => x * 10 ** ((i % 36) - 20));
      arr(n).set(n === 'v' ? xs.map(Math.abs) : xs);
    });
    const O = 3;
    simd.adamw(
      ...(['w', 'g'].map((n) => 4 * at[n]) as [number, number]),
      4 * (at.m + O),
      4 * (at.v + O),
      4 * at.wo,
      4 * (at.mo + O),
      4 * (at.vo + O),
      N,
      ...scalars,
    );
    const got = names.slice(4).map((n) => Array.from(arr(n)));
    // inputs copied out, outputs fresh zeros for the JavaScript loop
    const fresh = (n: string) => (n.endsWith('o') ? new Float32Array(2 * N) : arr(n).slice());
    const views = Object.fromEntries(names.map((n) => [n, fresh(n)]));
    adamwScalar(views as Parameters<typeof adamwScalar>[0], O, 0, N, scalars);
    expect(got).toEqual(names.slice(4).map((n) => Array.from(views[n])));
    // SGD: buf in m, new buf in mo
    simd.sgd(4 * at.w, 4 * at.g, 4 * (at.m + O), 4 * at.wo, 4 * (at.mo + O), N, 1e-4, 0.9, 0.01);
    const sgdGot = ['wo', 'mo'].map((n) => Array.from(arr(n)));
    const sv = { w: views.w, g: views.g, wo: fresh('wo'), buf: views.m, bufo: fresh('mo') };
    sgdScalar(sv, O, 0, N, [1e-4, 0.9, 0.01]);
    expect(sgdGot).toEqual([Array.from(sv.wo), Array.from(sv.bufo)]);
  });
});
