/**
 * Exact GELU on wasm runs as one fused kernel each way
 * (src/backend/wasm-gelu.ts): value and gradient against float64 loops
 * (test/reference/math.ts: erf by series and continued fraction, Φ without
 * cancellation for x < 0) and the gradient against central finite
 * differences of the float64 GELU, for x from −14 to 14 and tiny values, on
 * 4·k elements (the SIMD path) and on 4·k + 3 (the JavaScript loops); one
 * kernel each way, no tensor left behind; cpu keeps the composite path.
 */
import * as tf from '#tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { GELU, GELU_GRAD } from '../../src/backend/wasm-gelu.ts';
import { gelu } from '../../src/ops/index.ts';
import { gelu as gelu64, geluErrors, geluGrad } from '../reference/math.ts';

afterAll(async () => {
  await tf.setBackend('cpu');
});

// −14 … 14 in steps of 1/256 (every value exact in float32), tiny values, ±0
const grid = Array.from({ length: 28 * 256 + 1 }, (_, i) => -14 + i / 256);
const tiny = [1e-30, -1e-30, 3e-20, -3e-20, 1e-7, -1e-7, 1e-4, -1e-4, 0];
const simdXs = [...grid, ...tiny, 0.37, -0.37]; // 7180 = 4·1795: SIMD
const jsXs = [...simdXs, 2.5, -6.25, 1e-3]; // 4·1795 + 3: the JavaScript loops
const dyOf = (i: number) => 1 + (i % 3);

async function onWasm() {
  const info = await initBackend('wasm');
  if (info.name !== 'wasm') throw new Error(info.message);
}

/** GELU(x) and dy·GELU'(x) on the current backend (float32). */
function run(xs: number[]) {
  const x = tf.tensor1d(xs);
  const dy = tf.tensor1d(xs.map((_, i) => dyOf(i)));
  const before = tf.memory().numTensors;
  const { value, grads } = tf.valueAndGrads((t: tf.Tensor) => gelu(t))([x], dy);
  const y = value.dataSync();
  const g = grads[0].dataSync();
  tf.dispose([value, ...grads]);
  const leaked = tf.memory().numTensors - before;
  tf.dispose([x, dy]);
  return { y, g, leaked };
}

describe('fused GELU on wasm', () => {
  for (const [path, xs] of [
    ['SIMD', simdXs],
    ['JavaScript', jsXs],
  ] as const) {
    it(`${path}: GELU and its gradient equal float64 to 3e-7·max(1, |x|), no tensor left behind`, async () => {
      await onWasm();
      const { y, g, leaked } = run(xs);
      const { worstY, worstG } = geluErrors(xs, y, g, dyOf);
      // Abramowitz–Stegun 7.1.26: |Δerf| ≤ 1.5e-7, so |ΔΦ| ≤ 7.5e-8; float32 rounding adds a few ulps of ≤ 1
      expect(worstY).toBeLessThan(3e-7);
      expect(worstG).toBeLessThan(3e-7);
      expect(leaked).toBe(0);
    });

    it(`${path}: relative error near 0, for large x and in the negative tail`, async () => {
      await onWasm();
      const { y, g } = run(xs);
      const worst = (keep: (x: number) => boolean, of: 'y' | 'g') => {
        let w = 0;
        xs.forEach((v, i) => {
          if (!keep(v) || v === 0) return;
          const want = of === 'y' ? gelu64(v) : dyOf(i) * geluGrad(v);
          w = Math.max(w, Math.abs((of === 'y' ? y[i] : g[i]) - want) / Math.abs(want));
        });
        return w;
      };
      const small = (x: number) => Math.abs(x) <= 1e-3;
      const large = (x: number) => x >= 5;
      // GELU'(x) ≈ x·φ(x) for x ≪ 0: e^(−x²/2) to float32 precision down to x = −13
      // (below, e^(−x²/2) is floored at e^−87); Φ ≤ φ/|x| carries A–S's error
      const tail = (x: number) => x <= -3 && x >= -13;
      for (const keep of [small, large]) {
        expect(worst(keep, 'y')).toBeLessThan(1e-6);
        expect(worst(keep, 'g')).toBeLessThan(1e-6);
      }
      expect(worst(tail, 'g')).toBeLessThan(1e-3);
    });
  }

  it('the gradient matches central differences of the float64 GELU', async () => {
    await onWasm();
    const xs = simdXs.filter((_, i) => i % 16 === 0);
    while (xs.length % 4) xs.push(0.5);
    const { g } = run(xs);
    xs.forEach((v, i) => {
      const h = 1e-5 * Math.max(1, Math.abs(v));
      const fd = (dyOf(i) * (gelu64(v + h) - gelu64(v - h))) / (2 * h);
      expect(Math.abs(g[i] - fd)).toBeLessThan(3e-7 * dyOf(i) * Math.max(1, Math.abs(v)) + 1e-9);
    });
  });

  it('wasm runs one kernel each way; cpu keeps the composite GELU', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      const info = await initBackend(backend);
      if (info.name !== backend) throw new Error(info.message);
      const x = tf.tensor2d(simdXs.slice(0, 64), [8, 8]);
      const prof = await tf.profile(() => tf.grad((t: tf.Tensor) => gelu(t))(x));
      const names = prof.kernels.map((k) => k.name);
      // besides customGrad's own Identity and scope: ours alone on wasm, Erf and the rest on cpu
      if (backend === 'wasm') {
        expect(names.filter((n) => n.startsWith('Mam'))).toEqual([GELU, GELU_GRAD]);
        for (const k of ['Erf', 'Elu', 'Exp', 'Multiply', 'Add']) expect(names).not.toContain(k);
      } else expect(names).toEqual(expect.arrayContaining(['Erf', 'Multiply', 'Add']));
      tf.dispose([prof.result as tf.Tensor, x]);
    }
  });
});
