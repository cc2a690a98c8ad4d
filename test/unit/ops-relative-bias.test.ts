/**
 * The relative-position bias on wasm (src/ops/windows.ts) at Swin's window 7
 * (N = 49 tokens, a table of 169 rows): the bias equals the table lookup of
 * the index formula, the table's gradient of Σ bias ⊙ r equals a float64
 * scatter-add of r over the index, and neither direction transposes the
 * `[N², 169]` one-hot (the transposed one-hot is a constant of its own, made
 * once per cache), with the product gradient training installs.
 */
import * as tf from '#tfjs';
import { describe, expect, it } from 'vitest';
import { relativePositionBias, type ConstantCache } from '../../src/ops/windows.ts';
import { Rng } from '../reference/math.ts';
import { onWasmAsTraining } from '../reference/wasm.ts';

onWasmAsTraining();

const w = 7;
const h = 3;
const N = w * w;
const T = (2 * w - 1) ** 2;

/** Table row of the pair (i, j) by MAM-SPEC's formula (r_i − r_j + w − 1)(2w − 1) + (c_i − c_j + w − 1). */
const row = (i: number, j: number) =>
  (Math.floor(i / w) - Math.floor(j / w) + w - 1) * (2 * w - 1) + ((i % w) - (j % w) + w - 1);

describe('relative-position bias (wasm)', () => {
  it('equals the table lookup; its gradient the float64 scatter-add; no transpose of the one-hot', async () => {
    const rng = new Rng(5);
    const table = Array.from({ length: T * h }, () => rng.normal());
    const r = Array.from({ length: h * N * N }, () => rng.normal());
    const tt = tf.tensor2d(table, [T, h]);
    const rt = tf.tensor3d(r, [h, N, N]);
    const kept = new Map<string, tf.Tensor>();
    const constants: ConstantCache = (key, make) => {
      if (!kept.has(key)) kept.set(key, tf.keep(make()));
      return kept.get(key) as ReturnType<typeof make>;
    };
    const run = () =>
      tf.profile(() => {
        const bias = relativePositionBias(tt, w, 2, constants);
        const g = tf.grad((t: tf.Tensor) =>
          tf.sum(tf.mul(relativePositionBias(t as tf.Tensor2D, w, 2, constants), rt)),
        )(tt);
        return [bias, g];
      });
    await run().then((p) => tf.dispose(p.result as tf.Tensor[]));
    const before = tf.memory().numTensors;
    const prof = await run();
    const [bias, g] = prof.result as tf.Tensor[];
    const b = bias.dataSync();
    const want = new Float64Array(T * h);
    let worst = 0;
    for (let k = 0; k < h; k++)
      for (let i = 0; i < N; i++)
        for (let j = 0; j < N; j++) {
          const p = (k * N + i) * N + j;
          expect(b[p]).toBe(Math.fround(table[row(i, j) * h + k]));
          want[row(i, j) * h + k] += r[p];
        }
    const got = g.dataSync();
    want.forEach((x, p) => (worst = Math.max(worst, Math.abs(got[p] - x))));
    expect(worst).toBeLessThan(1e-4);
    const moved = prof.kernels.filter(
      (kr) => kr.name === 'Transpose' && kr.inputShapes[0]!.reduce((a, n) => a * n, 1) > h * N * N,
    );
    expect(moved.map((kr) => kr.inputShapes[0])).toEqual([]);
    tf.dispose(prof.result as tf.Tensor[]);
    expect(tf.memory().numTensors).toBe(before);
    expect([...kept.keys()].sort()).toEqual([
      'relative-bias-one-hot-t:7:2',
      'relative-bias-one-hot:7:2',
    ]);
    tf.dispose([tt, rt, ...kept.values()]);
  });
});
