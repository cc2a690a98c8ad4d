/**
 * LayerNorm on wasm runs as two fused kernels (src/backend/wasm-layer-norm.ts):
 * forward and gradient against float64 loops (test/reference) and against
 * central finite differences of the float64 forward, with rows of 12 (the
 * SIMD path) and of 6 floats (the JavaScript loops), centred and far from 0
 * (where a one-pass variance cancels and a float32 mean is off); one kernel
 * each way, no tensor left behind; cpu keeps the composite path.
 */
import * as tf from '#tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import {
  LAYER_NORM,
  LAYER_NORM_GRAD,
  simdKernels,
  SUM_ROWS,
} from '../../src/backend/wasm-layer-norm.ts';
import { layerNorm, sumRows } from '../../src/ops/index.ts';
import { layerNormBackward } from '../reference/attention.ts';
import { layerNormRows, Rng, type F64 } from '../reference/math.ts';

afterAll(async () => {
  await tf.setBackend('cpu');
});

const [B, L] = [2, 6];
const rows = B * L;
const eps = 1e-5;
const f32 = (a: F64) => Float32Array.from(a);

interface Case {
  C: number;
  x: F64;
  gamma: F64;
  beta: F64;
  dy: F64;
}

/**
 * Rows of C: centred, or near 300 with spread ~0.5 (a float32 mean is off by
 * up to 1.5e-5, half an ulp of 300: 3e-5 of the spread, so the composite
 * float32 path misses 2e-6 there).
 */
function makeCase(C: number, centred: boolean, seed: number): Case {
  const rng = new Rng(seed);
  return {
    C,
    x: centred ? rng.array(rows * C) : rng.array(rows * C, 0.5, 300),
    gamma: rng.array(C, 0.3, 1),
    beta: rng.array(C, 0.2),
    dy: rng.array(rows * C),
  };
}

const cases = {
  'C 12, centred': makeCase(12, true, 11),
  'C 12, offset': makeCase(12, false, 12),
  'C 6, centred': makeCase(6, true, 13),
  'C 6, offset': makeCase(6, false, 14),
};

function worstRelative(got: ArrayLike<number>, want: F64): number {
  const scale = Math.max(...Array.from(want, Math.abs));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  return worst;
}

/** Central differences of Σ dy·LayerNorm(x) (float64) along each element of x, γ or β. */
function finiteDifferences(k: Case, which: 0 | 1 | 2): F64 {
  const args = [k.x, k.gamma, k.beta].map((a) => Float64Array.from(a));
  const objective = () => {
    const y = layerNormRows(args[0], rows, k.C, args[1], args[2], eps);
    return y.reduce((s, v, i) => s + k.dy[i] * v, 0);
  };
  const a = args[which];
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const h = 1e-6 * Math.max(1, Math.abs(a[i]));
    const v = a[i];
    a[i] = v + h;
    const up = objective();
    a[i] = v - h;
    const down = objective();
    a[i] = v;
    out[i] = (up - down) / (2 * h);
  }
  return out;
}

function run(k: Case) {
  const xt = tf.tensor3d(f32(k.x), [B, L, k.C]);
  const w = { weight: tf.tensor1d(f32(k.gamma)), bias: tf.tensor1d(f32(k.beta)) };
  const dyt = tf.tensor3d(f32(k.dy), [B, L, k.C]);
  const before = tf.memory().numTensors;
  const y = layerNorm(xt, w);
  const grads = tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    layerNorm(a, { weight: g as tf.Tensor1D, bias: b as tf.Tensor1D }),
  )([xt, w.weight, w.bias], dyt);
  const out = { y: y.dataSync(), grads: grads.map((t) => t.dataSync()) };
  tf.dispose([y, ...grads]);
  const leaked = tf.memory().numTensors - before;
  tf.dispose([xt, w.weight, w.bias, dyt]);
  return { ...out, leaked };
}

describe('LayerNorm', () => {
  for (const [name, k] of Object.entries(cases))
    it(`${name}: the float64 reference gradient agrees with finite differences`, () => {
      const b = layerNormBackward(k.x, rows, k.C, k.gamma, k.dy, eps);
      expect(worstRelative(b.dx, finiteDifferences(k, 0))).toBeLessThan(1e-6);
      expect(worstRelative(b.dg, finiteDifferences(k, 1))).toBeLessThan(1e-6);
      expect(worstRelative(b.db, finiteDifferences(k, 2))).toBeLessThan(1e-6);
    });

  it('wasm: rows of 12 floats take the SIMD kernels, rows of 6 the JavaScript loops', async () => {
    const info = await initBackend('wasm');
    if (info.name !== 'wasm') throw new Error(info.message);
    const backend = tf.backend() as unknown as Parameters<typeof simdKernels>[0];
    expect(simdKernels(backend, 12)).not.toBeNull();
    expect(simdKernels(backend, 6)).toBeNull();
  });

  const runs = [
    ...Object.keys(cases).map((name) => ['wasm', name] as const),
    ['cpu', 'C 12, centred'] as const,
  ];
  for (const [backend, name] of runs)
    it(`${backend}, ${name}: forward and gradients equal float64 to 2e-6, no tensor left behind`, async () => {
      const info = await initBackend(backend);
      if (info.name !== backend) throw new Error(info.message);
      const k = cases[name as keyof typeof cases];
      const got = run(k);
      const b = layerNormBackward(k.x, rows, k.C, k.gamma, k.dy, eps);
      expect(
        worstRelative(got.y, layerNormRows(k.x, rows, k.C, k.gamma, k.beta, eps)),
      ).toBeLessThan(2e-6);
      expect(worstRelative(got.grads[0], b.dx)).toBeLessThan(2e-6);
      expect(worstRelative(got.grads[1], b.dg)).toBeLessThan(2e-6);
      expect(worstRelative(got.grads[2], b.db)).toBeLessThan(2e-6);
      expect(got.leaked).toBe(0);
    });

  for (const backend of ['wasm', 'cpu'] as const)
    it(`${backend}: ${backend === 'wasm' ? 'one fused kernel' : 'the composite path'} each way`, async () => {
      const info = await initBackend(backend);
      if (info.name !== backend) throw new Error(info.message);
      const k = cases['C 12, centred'];
      const xt = tf.tensor2d(f32(k.x), [rows, k.C]);
      const w = [tf.tensor1d(f32(k.gamma)), tf.tensor1d(f32(k.beta))];
      const prof = await tf.profile(() =>
        tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
          layerNorm(a, { weight: g as tf.Tensor1D, bias: b as tf.Tensor1D }),
        )([xt, ...w]),
      );
      tf.dispose([...(prof.result as tf.Tensor[]), xt, ...w]);
      const names = prof.kernels.map((n) => n.name);
      const fused = names.filter((n) => n === LAYER_NORM || n === LAYER_NORM_GRAD);
      if (backend === 'wasm') {
        expect(fused).toEqual([LAYER_NORM, LAYER_NORM_GRAD]);
        expect(names).not.toContain('Mean');
      } else {
        expect(fused).toEqual([]);
        expect(names).toContain('Mean');
      }
    });
});

describe('sumRows on wasm', () => {
  for (const n of [12, 6])
    it(`rows of ${n}: one row-sum kernel (no product), equal to float64 sums to 1e-6`, async () => {
      const info = await initBackend('wasm');
      if (info.name !== 'wasm') throw new Error(info.message);
      const M = 37;
      const values = new Rng(n).array(M * n, 1, 3);
      const want = new Float64Array(n);
      values.forEach((v, i) => (want[i % n] += v));
      const t = tf.tensor2d(f32(values), [M, n]);
      const before = tf.memory().numTensors;
      const prof = await tf.profile(() => sumRows(t));
      const got = prof.result as tf.Tensor;
      expect(got.shape).toEqual([n]);
      expect(worstRelative(got.dataSync(), want)).toBeLessThan(1e-6);
      expect(prof.kernels.map((k) => k.name)).toEqual([SUM_ROWS]);
      got.dispose();
      expect(tf.memory().numTensors).toBe(before);
      t.dispose();
    });
});
