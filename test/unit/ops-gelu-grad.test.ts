/**
 * Exact GELU's analytic gradient, Φ(x) + x·φ(x), against float64 (erf by its
 * continued fraction, test/reference/math.ts) over x in [−12, 12], on wasm
 * (where e^(−x²/2) is elu + 1: its Exp runs element by element, its Elu
 * vectorised) and cpu; on wasm the backward pass runs no Exp kernel.
 */
import * as tf from '#tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/backend/index.ts';
import { gelu } from '../../src/ops/index.ts';
import { geluGrad } from '../reference/math.ts';

afterAll(async () => {
  await tf.setBackend('cpu');
});

const xs = Array.from({ length: 2401 }, (_, i) => -12 + i / 100);

describe('GELU gradient', () => {
  for (const backend of ['wasm', 'cpu'] as const)
    it(`${backend}: dy·GELU'(x) equals float64 to 1e-6 and leaves no tensor behind`, async () => {
      const info = await initBackend(backend);
      if (info.name !== backend) throw new Error(info.message);
      const x = tf.tensor1d(xs);
      const dy = tf.tensor1d(xs.map((_, i) => 1 + (i % 3)));
      const before = tf.memory().numTensors;
      const g = tf.grad((t: tf.Tensor) => gelu(t))(x, dy);
      const got = g.dataSync();
      let worst = 0;
      xs.forEach(
        (v, i) => (worst = Math.max(worst, Math.abs(got[i] - (1 + (i % 3)) * geluGrad(v)))),
      );
      expect(worst).toBeLessThan(1e-6);
      g.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([x, dy]);
    });

  it('wasm: the backward pass runs no Exp kernel', async () => {
    const info = await initBackend('wasm');
    if (info.name !== 'wasm') throw new Error(info.message);
    const x = tf.tensor1d(xs);
    const prof = await tf.profile(() => tf.grad((t: tf.Tensor) => gelu(t))(x));
    expect(prof.kernels.map((k) => k.name)).not.toContain('Exp');
    tf.dispose(prof.result as tf.Tensor);
    x.dispose();
  });
});
