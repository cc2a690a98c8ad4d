/**
 * LayerNorm and exact GELU on webgpu (Dawn on SwiftShader in Node) run as
 * the fused programs of src/backend/webgpu-fused.ts: forward and gradients
 * against float64 loops (test/reference), for rows of 1, 3, 32, 96 and 129
 * floats (fewer and more than a workgroup's 64 threads), centred, far from 0,
 * large and tiny; GELU for |x| up to 10 and tiny x; the programs dispatched
 * (one LayerNorm forward, four backward; one GELU each way); no tensor left
 * behind. Skipped with a message where webgpu cannot start.
 */
import * as tf from '#tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { gelu, layerNorm } from '../../src/ops/index.ts';
import { layerNormBackward } from '../reference/attention.ts';
import { gelu as gelu64, geluErrors, layerNormRows, Rng, type F64 } from '../reference/math.ts';

let available = false;
beforeAll(async () => {
  const info = await initBackend('webgpu');
  available = info.name === 'webgpu';
  if (!available) console.warn(`webgpu-fused: skipped, webgpu could not start: ${info.message}`);
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

const eps = 1e-5;
const f32 = (a: F64) => Float32Array.from(a);

function worstRelative(got: ArrayLike<number>, want: F64): number {
  const scale = Math.max(...Array.from(want, Math.abs));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / scale);
  return worst;
}

/** Names of the programs dispatched while `fn` runs (the backend records one dispatch a program). */
async function programsOf(fn: () => tf.Tensor | tf.Tensor[]): Promise<string[]> {
  const backend = tf.backend() as unknown as {
    recordAndSubmit: (p: { shaderKey: string }, ...rest: unknown[]) => unknown;
  };
  const original = backend.recordAndSubmit;
  const names: string[] = [];
  backend.recordAndSubmit = (p, ...rest) => {
    names.push(p.shaderKey);
    return original.call(backend, p, ...rest);
  };
  try {
    const out = fn();
    await Promise.all([out].flat().map((t) => t.data()));
    tf.dispose(out);
  } finally {
    backend.recordAndSubmit = original;
  }
  return names;
}

/** Our programs among them, by name (the backend appends shapes and types to a program's key). */
const ours = (keys: string[]) =>
  keys.map((k) => k.split('_')[0]).filter((n) => n.startsWith('mam'));

const layerNormCases = [
  { C: 1, mean: 0, std: 1 },
  { C: 3, mean: 0, std: 1 },
  { C: 32, mean: 0, std: 1 },
  { C: 96, mean: 300, std: 0.5 },
  { C: 129, mean: 0, std: 1 },
  { C: 129, mean: -2e4, std: 1e3 },
  { C: 96, mean: 1e-4, std: 3e-3 },
];

describe('fused LayerNorm on webgpu', () => {
  for (const { C, mean, std } of layerNormCases)
    it(`rows of ${C}, values ${mean} ± ${std}: forward and gradients equal float64, no tensor left behind`, async (ctx) => {
      if (!available) ctx.skip();
      const [B, L] = [3, 7];
      const rows = B * L;
      const rng = new Rng(C + rows);
      const x = rng.array(rows * C, std, mean);
      const gamma = rng.array(C, 0.3, 1);
      const beta = rng.array(C, 0.2);
      const dy = rng.array(rows * C);
      const xt = tf.tensor3d(f32(x), [B, L, C]);
      const g = tf.tensor1d(f32(gamma));
      const b = tf.tensor1d(f32(beta));
      const dyt = tf.tensor3d(f32(dy), [B, L, C]);
      const before = tf.memory().numTensors;
      const y = layerNorm(xt, { weight: g, bias: b });
      const grads = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
        layerNorm(a, { weight: gg as tf.Tensor1D, bias: bb as tf.Tensor1D }),
      )([xt, g, b], dyt);
      expect(y.shape).toEqual([B, L, C]);
      expect(grads.map((t) => t.shape)).toEqual([[B, L, C], [C], [C]]);
      const got = await Promise.all([y, ...grads].map((t) => t.data()));
      tf.dispose([y, ...grads]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([xt, g, b, dyt]);
      // float64 inputs as the float32 the kernels saw
      const [x32, g32, b32, dy32] = [x, gamma, beta, dy].map((a) => Float64Array.from(f32(a)));
      const want = layerNormBackward(x32, rows, C, g32, dy32, eps);
      expect(worstRelative(got[0], layerNormRows(x32, rows, C, g32, b32, eps))).toBeLessThan(2e-6);
      // with one float per row x̂ is exactly 0, and so are dx and dγ
      for (const [i, w] of [want.dx, want.dg].entries()) {
        if (C === 1) expect(Array.from(got[i + 1]).every((v) => v === 0)).toBe(true);
        else expect(worstRelative(got[i + 1], w)).toBeLessThan(5e-6);
      }
      expect(worstRelative(got[3], want.db)).toBeLessThan(2e-6);
    });

  it('one program forward, four backward (moments, dx, dγ, dβ): no Mean, no composite', async (ctx) => {
    if (!available) ctx.skip();
    const x = tf.randomNormal([2, 5, 24], 0, 1, 'float32', 3);
    const w = [tf.ones([24]), tf.zeros([24])];
    const fwd = await programsOf(() =>
      layerNorm(x, { weight: w[0] as tf.Tensor1D, bias: w[1] as tf.Tensor1D }),
    );
    const both = await programsOf(() =>
      tf.grads((a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
        layerNorm(a, { weight: g as tf.Tensor1D, bias: b as tf.Tensor1D }),
      )([x, ...w]),
    );
    tf.dispose([x, ...w]);
    expect(fwd.map((k) => k.split('_')[0])).toEqual(['mamLayerNorm']);
    expect(ours(both)).toEqual([
      'mamLayerNorm',
      'mamLayerNormStats',
      'mamLayerNormDx',
      'mamLayerNormColumns',
      'mamLayerNormColumns',
    ]);
  });
});

// −10 … 10 in steps of 1/64 (exact in float32), tiny values, ±0
const xs = [
  ...Array.from({ length: 20 * 64 + 1 }, (_, i) => -10 + i / 64),
  ...[1e-30, -1e-30, 3e-20, -3e-20, 1e-7, -1e-7, 1e-4, -1e-4, 0, 0.37, -0.37],
];
const dyOf = (i: number) => 1 + (i % 3);

describe('fused GELU on webgpu', () => {
  it('GELU and its gradient equal float64 to 3e-7·max(1, |x|), no tensor left behind', async (ctx) => {
    if (!available) ctx.skip();
    const x = tf.tensor2d(xs, [xs.length, 1]);
    const dy = tf.tensor2d(
      xs.map((_, i) => dyOf(i)),
      [xs.length, 1],
    );
    const before = tf.memory().numTensors;
    const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => gelu(t))([x], dy);
    expect(value.shape).toEqual([xs.length, 1]);
    const [y, g] = await Promise.all([value.data(), grads[0].data()]);
    tf.dispose([value, ...grads]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, dy]);
    const { worstY, worstG } = geluErrors(xs, y, g, dyOf);
    // near 0 GELU(x) ≈ x/2: relative error there too
    xs.forEach((v, i) => {
      if (v !== 0 && Math.abs(v) <= 1e-3) expect(Math.abs(y[i] / gelu64(v) - 1)).toBeLessThan(1e-6);
    });
    // Abramowitz–Stegun 7.1.26: |Δerf| ≤ 1.5e-7, so |ΔΦ| ≤ 7.5e-8; float32 rounding adds a few ulps
    expect(worstY).toBeLessThan(3e-7);
    expect(worstG).toBeLessThan(3e-7);
  });

  it('one program each way, no Erf', async (ctx) => {
    if (!available) ctx.skip();
    const x = tf.tensor2d(xs.slice(0, 60), [6, 10]);
    const fwd = await programsOf(() => gelu(x));
    const both = await programsOf(() => tf.grad((t: tf.Tensor) => gelu(t))(x));
    tf.dispose(x);
    expect(fwd.map((k) => k.split('_')[0])).toEqual(['mamGelu']);
    expect(ours(both)).toEqual(['mamGelu', 'mamGeluGrad']);
    expect(both.some((n) => /erf/i.test(n))).toBe(false);
  });
});
